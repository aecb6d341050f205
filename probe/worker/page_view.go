package worker

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// view is what the template renders: the report turned into words, symbols
// and bar geometry. Building it is pure, so tests can check it directly.
type view struct {
	Title       string
	Region      string
	GeneratedAt time.Time
	Generated   string // clock time, UTC
	Ready       bool
	Summary     []count // checks per state now, failures first
	Groups      []group
	Controls    []control
	StatusPages []statusPage
	Legend      []outcomeStyle
	CSS         template.CSS
	JS          template.JS
}

type count struct {
	outcomeStyle
	Text string // "2 origin errors"
}

// outcomeStyle is how one outcome looks everywhere on the page: its class
// (colour), a symbol and a label, so colour is never the only cue.
type outcomeStyle struct {
	Outcome string // class suffix: success, edge_error, ..., or pending
	Symbol  string
	Label   string
}

// styleOf is o's style on the page (probe.Outcome.Style), with its CSS
// class.
func styleOf(o probe.Outcome) outcomeStyle {
	st := o.Style()
	class := string(o)
	if !o.Known() {
		class = "pending"
	}
	return outcomeStyle{class, st.Symbol, st.Label}
}

// outcomeColors are the CSS variables of the outcome classes, from the one
// table of outcome colours (probe.Outcome.Style): light, then dark.
func outcomeColors() string {
	var light, dark strings.Builder
	for _, o := range append(slices.Clone(probe.Outcomes), "") {
		st, class := o.Style(), string(o)
		if class == "" {
			class = "pending"
		}
		fmt.Fprintf(&light, " --%s: %s;", class, st.Color)
		fmt.Fprintf(&dark, " --%s: %s;", class, st.ColorDark)
	}
	return ":root {" + light.String() + " }\n@media (prefers-color-scheme: dark) { :root {" + dark.String() + " } }\n"
}

type group struct {
	Provider string // id
	Name     string // display name
	Rows     []row
}

type row struct {
	Provider string
	Check    string
	Model    string
	State    outcomeStyle
	Blame    string // who failed, in plain words
	Detail   string // status code, carrier
	Reason   string
	Meaning  string // the reason's documented meaning
	Avail    []avail
	P50, P95 string
	LastErr  *lastError
	Recent   []cell
	Notes    []string // back-off, budget, skipped probes
	Slow     string   // the phase when degraded: slow, not down
	SlowText string
}

type avail struct {
	Label    string // "1h", "24h"
	Span     string // "last hour", "last day"
	Percent  string
	Title    string
	Segments []segment
	Empty    bool
}

// segment is one outcome's share of a stacked bar, in percent of its width.
type segment struct {
	Outcome string
	X, W    string
}

type lastError struct {
	Style   outcomeStyle
	Reason  string
	Ago     string
	Title   string
	Message string
}

type cell struct {
	outcomeStyle
	Title string
}

type control struct {
	Target  string
	OK      bool
	Title   string
	Checked string
}

type statusPage struct {
	Provider string
	Worst    int // 0 operational .. 3 major outage
	Summary  string
	Title    string
	Issues   []string
}

// Readable edge names for "who failed".
var edgeNames = map[string]string{
	probe.EdgeCloudflare: "Cloudflare",
	probe.EdgeGoogle:     "Google Front End",
	probe.EdgeCloudFront: "CloudFront",
	probe.EdgeFastly:     "Fastly",
	probe.EdgeAkamai:     "Akamai",
	probe.EdgeAzure:      "Azure Front Door",
	probe.EdgeEdgeOne:    "Tencent EdgeOne",
}

var meanings = func() map[probe.Reason]string {
	m := map[probe.Reason]string{}
	for _, r := range probe.Reasons {
		m[r.Reason] = r.Meaning
	}
	return m
}()

// maxMessage bounds an error message shown in a tooltip.
const maxMessage = 240

func providerName(id string) string {
	if p, ok := probe.LookupProvider(id); ok && p.Name != "" {
		return p.Name
	}
	return id
}

func newView(rep StatusReport) view {
	now := rep.GeneratedAt
	v := view{Region: rep.Region, GeneratedAt: now, Generated: clock(now), Ready: rep.Ready,
		CSS: template.CSS(styleCSS), JS: template.JS(refreshJS)}
	for _, o := range probe.Outcomes {
		v.Legend = append(v.Legend, styleOf(o))
	}
	counts := map[string]int{}
	for _, c := range rep.Checks {
		r := newRow(c, rep.Region, now)
		counts[r.State.Outcome]++
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Provider != c.Provider {
			v.Groups = append(v.Groups, group{Provider: c.Provider, Name: providerName(c.Provider)})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Rows = append(g.Rows, r)
	}
	failing := 0
	for _, o := range slices.Concat(probe.Outcomes[1:], []probe.Outcome{probe.OutcomeSuccess, ""}) {
		s := styleOf(o)
		if n := counts[s.Outcome]; n > 0 {
			v.Summary = append(v.Summary, count{s, countText(s, n)})
			if o != probe.OutcomeSuccess && o != "" {
				failing += n
			}
		}
	}
	switch {
	case len(rep.Checks) == 0:
		v.Title = "llmprobe · " + rep.Region + " · no checks"
	case failing > 0:
		v.Title = "✕ " + strconv.Itoa(failing) + " failing · llmprobe · " + rep.Region
	default:
		v.Title = "llmprobe · " + rep.Region
	}
	for _, c := range rep.Controls {
		ct := control{Target: c.Target, OK: c.Success, Checked: ago(c.CheckedAt, now)}
		ct.Title = c.URL
		if c.Error != "" {
			ct.Title += " · " + message(c.Error)
		}
		if ct.Checked != "" {
			ct.Title += " · checked " + ct.Checked
		}
		v.Controls = append(v.Controls, ct)
	}
	for _, p := range rep.StatusPages {
		v.StatusPages = append(v.StatusPages, newStatusPage(p))
	}
	return v
}

func newRow(c CheckReport, region string, now time.Time) row {
	r := row{Provider: c.Provider, Check: string(c.Check), Model: c.Model, State: styleOf(c.State),
		Reason: string(c.Reason), Meaning: meanings[c.Reason]}
	r.Blame, r.Detail = blame(c, region)
	r.Avail = []avail{newAvail("1h", "last hour", c.Availability["1h"]), newAvail("24h", "last day", c.Availability["24h"])}
	r.P50, r.P95 = millis(c.TTFB.P50), millis(c.TTFB.P95)
	if f := c.LastFailure; f != nil {
		le := &lastError{Style: styleOf(f.Outcome), Reason: string(f.Reason), Ago: ago(f.StartedAt, now), Message: message(f.Error)}
		parts := []string{stamp(f.StartedAt), string(f.Outcome) + " · " + string(f.Reason)}
		if f.StatusCode != 0 {
			parts = append(parts, "HTTP "+strconv.Itoa(f.StatusCode))
		}
		if le.Message != "" {
			parts = append(parts, le.Message)
		}
		if m := meanings[f.Reason]; m != "" {
			parts = append(parts, m)
		}
		le.Title = strings.Join(parts, " · ")
		r.LastErr = le
	}
	if d := c.Degraded; d != nil {
		r.Slow = d.Phase
		r.SlowText = "Slow: p95 " + strings.ToUpper(d.Phase) + " " + millis(d.RecentP95ms) + ", usually " + millis(d.BaselineP95ms)
	}
	for _, s := range c.Recent {
		t := clock(s.At) + " · " + string(s.Outcome) + " · " + string(s.Reason)
		if s.StatusCode != 0 {
			t += " · HTTP " + strconv.Itoa(s.StatusCode)
		}
		if s.TTFBms > 0 {
			t += " · TTFB " + millis(s.TTFBms)
		}
		if s.Unmeasured {
			t += " · unmeasured: this region's own network was down"
		}
		r.Recent = append(r.Recent, cell{styleOf(s.Outcome), t})
	}
	if b := c.Backoff; b.Active {
		n := "backing off until " + clock(b.Until)
		if b.Reason != "" {
			n += " after " + string(b.Reason)
		}
		r.Notes = append(r.Notes, n)
	}
	if c.Budget != nil && c.Budget.Spent {
		r.Notes = append(r.Notes, "daily budget spent: paused until 00:00 UTC")
	}
	var skipped []string
	for _, k := range []string{probe.SkipReasonBackoff, probe.SkipReasonBudget, probe.SkipReasonOverrun} {
		if n := c.Skipped[k]; n > 0 {
			skipped = append(skipped, strconv.Itoa(n)+" "+k)
		}
	}
	if len(skipped) > 0 {
		r.Notes = append(r.Notes, "skipped: "+strings.Join(skipped, ", "))
	}
	return r
}

// blame says who failed in plain words, from the outcome, the edge seen and
// who wrote the response; detail adds the status code and the carrier.
func blame(c CheckReport, region string) (who, detail string) {
	l := c.Last
	if l == nil {
		return "waiting for the first probe", ""
	}
	edge := edgeNames[l.Edge]
	var d []string
	if l.StatusCode != 0 {
		d = append(d, "HTTP "+strconv.Itoa(l.StatusCode))
	} else if l.Outcome != probe.OutcomeSuccess {
		d = append(d, "no response")
	}
	via := ""
	if edge != "" {
		via = "via " + edge
		if l.EdgePOP != "" {
			via += " " + l.EdgePOP
		}
	}
	switch l.Outcome {
	case probe.OutcomeSuccess:
		who = "served"
		if via != "" {
			who += " " + via
		} else {
			who += ", no CDN seen"
		}
	case probe.OutcomeEdgeError:
		if edge == "" {
			who = "front end (no CDN seen)"
		} else {
			who = edge + " edge"
		}
		if l.EdgePOP != "" {
			d = append(d, l.EdgePOP)
		}
	case probe.OutcomeOriginError:
		who = providerName(c.Provider) + " origin"
		if l.AuthoredBy == "edge" && edge != "" {
			d = append(d, "reported by "+edge)
		} else if via != "" {
			d = append(d, via)
		}
	case probe.OutcomeNetworkError:
		who = "network from this region"
		if region != "" {
			who += " (" + region + ")"
		}
	case probe.OutcomeProbeError:
		who = "probe config"
	default:
		who = string(l.Outcome)
	}
	return who, strings.Join(d, " · ")
}

func newAvail(label, span string, a Availability) avail {
	out := avail{Label: label, Span: span}
	if a.Total == 0 {
		out.Empty, out.Percent, out.Title = true, "—", span+": no probes yet"
		return out
	}
	x := 0.0
	var counts []string
	for _, o := range probe.Outcomes {
		n := a.ByOutcome[o]
		if n == 0 {
			continue
		}
		w := 100 * float64(n) / float64(a.Total)
		out.Segments = append(out.Segments, segment{Outcome: string(o), X: num(x), W: num(w)})
		x += w
		counts = append(counts, fmt.Sprintf("%s %d", o, n))
	}
	if a.Ratio == nil {
		out.Percent = "n/a"
		out.Title = span + ": only probe errors, nothing to judge the provider by · " + strings.Join(counts, ", ")
		return out
	}
	out.Percent = percent(*a.Ratio)
	out.Title = fmt.Sprintf("%s: %s available (success of %d probes, probe errors excluded) · %s",
		span, out.Percent, a.Total, strings.Join(counts, ", "))
	return out
}

func newStatusPage(p StatusPageReport) statusPage {
	sp := statusPage{Provider: providerName(p.Provider)}
	var all []string
	for _, c := range p.Components {
		sp.Worst = max(sp.Worst, c.Level)
		word := strings.ReplaceAll(c.Status, "_", " ")
		all = append(all, c.Name+": "+word)
		if c.Level > 0 {
			sp.Issues = append(sp.Issues, c.Name+": "+word)
		}
	}
	sp.Title = strings.Join(all, "\n")
	switch {
	case len(p.Components) == 0:
		sp.Summary = "no components"
	case len(sp.Issues) == 0 && len(p.Components) == 1:
		sp.Summary = "operational"
	case len(sp.Issues) == 0:
		sp.Summary = "all " + strconv.Itoa(len(p.Components)) + " components operational"
	}
	return sp
}

// percent shows availability without rounding a failure up to 100%.
func percent(r float64) string {
	if r >= 1 {
		return "100%"
	}
	return strconv.FormatFloat(math.Floor(r*1000)/10, 'f', 1, 64) + "%"
}

func millis(ms float64) string {
	switch {
	case ms <= 0:
		return "—"
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', 2, 64) + " s"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// message is an error message fit for the page: results are scrubbed when
// made, and scrubbed again here so a key-shaped string never reaches HTML.
func message(s string) string {
	s = probe.Scrub(strings.TrimSpace(s), "")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}

// ago is how long before now t was, in the largest whole unit.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
}

// countText reads "1 edge error", "2 origin errors", "3 OK", "1 pending".
func countText(s outcomeStyle, n int) string {
	label := s.Label
	if label != "OK" {
		label = strings.ToLower(label)
	}
	if n != 1 && strings.HasSuffix(label, "error") {
		label += "s"
	}
	return strconv.Itoa(n) + " " + label
}
