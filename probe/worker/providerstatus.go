package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// StatusComponent is one component of a provider's public status page.
type StatusComponent struct {
	Name   string `json:"name"`
	Status string `json:"status"` // the page's own word: operational, degraded_performance, ...
	Level  int    `json:"level"`  // 0 operational, 1 degraded, 2 partial outage, 3 major outage
}

// maxComponents bounds the component label of
// llmprobe_status_page_component_status per provider at any one time;
// maxComponentNames bounds the names it ever takes per provider, so a page
// that renames its components on every read cannot grow the series
// without end; maxComponentName bounds one name.
const (
	maxComponents     = 20
	maxComponentNames = 2 * maxComponents
	maxComponentName  = 64
)

// validComponentName accepts a name that may become a label value: short
// printable ASCII without quotes, backslashes or markup.
func validComponentName(name string) bool {
	if name == "" || len(name) > maxComponentName {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || strings.IndexByte("\"\\`<>{}", c) >= 0 {
			return false
		}
	}
	return true
}

// componentLevel maps Statuspage component states to the metric's scale.
func componentLevel(status string) (int, bool) {
	switch status {
	case "operational":
		return 0, true
	case "degraded_performance", "under_maintenance":
		return 1, true
	case "partial_outage":
		return 2, true
	case "major_outage":
		return 3, true
	}
	return 0, false
}

// ParseStatusPage reads a Statuspage v2 summary.json or components.json
// (Atlassian Statuspage, and incident.io's compatible API). It keeps the
// components whose name mentions the API when there are any, else all, at
// most maxComponents, sorted by name. A body that is not such JSON (a page
// that moved and now redirects to HTML) is an error, never "degraded".
func ParseStatusPage(body []byte) ([]StatusComponent, error) {
	var v struct {
		Components []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Group  bool   `json:"group"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("not Statuspage JSON: %w", err)
	}
	if v.Components == nil {
		return nil, fmt.Errorf("not Statuspage JSON: no components")
	}
	var all, api []StatusComponent
	for _, c := range v.Components {
		level, ok := componentLevel(c.Status)
		name := strings.TrimSpace(c.Name)
		if !ok || c.Group || !validComponentName(name) {
			continue
		}
		sc := StatusComponent{Name: name, Status: c.Status, Level: level}
		all = append(all, sc)
		if strings.Contains(strings.ToLower(name), "api") {
			api = append(api, sc)
		}
	}
	if len(api) > 0 {
		all = api
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	if len(all) > maxComponents {
		all = all[:maxComponents]
	}
	return all, nil
}

// StatusPagePoller reads the providers' status pages on its own interval.
// Its failures are logged and never touch probes.
type StatusPagePoller struct {
	Pages    map[string]string // provider id -> summary/components JSON URL
	Interval time.Duration
	Client   *http.Client
	Region   string
	Metrics  *Metrics
	Status   *StatusStore
	Logger   *slog.Logger
	Clock    probe.Clock
}

// Run polls until ctx is done.
func (p *StatusPagePoller) Run(ctx context.Context) error {
	clock := p.Clock
	if clock == nil {
		clock = probe.RealClock{}
	}
	ids := make([]string, 0, len(p.Pages))
	for id := range p.Pages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	known := map[string]map[string]bool{}
	names := map[string]map[string]bool{} // every name a provider's page was allowed, at most maxComponentNames
	for {
		for _, id := range ids {
			comps, err := p.fetch(ctx, p.Pages[id])
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				p.Logger.Warn("status page unreadable", "provider", id, "err", err)
				continue
			}
			if names[id] == nil {
				names[id] = map[string]bool{}
			}
			comps = allowNames(comps, names[id])
			seen := map[string]bool{}
			for _, c := range comps {
				seen[c.Name] = true
				p.Metrics.SetStatusPageComponent(id, p.Region, c.Name, c.Level)
			}
			for name := range known[id] {
				if !seen[name] {
					p.Metrics.statusPage.DeleteLabelValues(id, p.Region, name)
				}
			}
			known[id] = seen
			p.Status.SetStatusPage(id, comps)
		}
		if err := clock.Sleep(ctx, p.Interval); err != nil {
			return nil
		}
	}
}

// allowNames keeps the components whose name was allowed before, or that
// fit under maxComponentNames; allowed gains the new ones.
func allowNames(comps []StatusComponent, allowed map[string]bool) []StatusComponent {
	var out []StatusComponent
	for _, c := range comps {
		if !allowed[c.Name] && len(allowed) >= maxComponentNames {
			continue
		}
		allowed[c.Name] = true
		out = append(out, c)
	}
	return out
}

func (p *StatusPagePoller) fetch(ctx context.Context, url string) ([]StatusComponent, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	defer context.AfterFunc(ctx, func() { resp.Body.Close() })() // a 101's body ends only so
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return ParseStatusPage(body)
}
