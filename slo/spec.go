package slo

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// Spec is the SLO spec: what llmprobe promises about each provider and
// check, and what the rules need to know about the deployment to measure
// it. DefaultSpec holds the defaults; a file (Load, Parse) overrides them
// field by field. Its YAML form is the file format, apiVersion llmprobe/v1.
type Spec struct {
	APIVersion string `yaml:"apiVersion"`
	// Window is the SLO window the error budget is spent over.
	Window Duration `yaml:"window"`
	// ProbeInterval is LLMPROBE_INTERVAL as the workers run it: with
	// Regions it sets how many probes a window holds.
	ProbeInterval Duration `yaml:"probeInterval"`
	// Regions is how many regions run a worker. A provider alert needs the
	// SLO to burn as seen from min(2, Regions) of them.
	Regions int `yaml:"regions"`
	// RegionNames optionally names the expected regions: a named region
	// with no worker series at all raises LLMProbeWorkerDown.
	RegionNames []string `yaml:"regionNames,omitempty"`
	// MinFailedProbes is the least number of failed probes in a burn
	// condition's long window for it to alert at all: at probe rates a
	// single failure can be a large ratio.
	MinFailedProbes int `yaml:"minFailedProbes"`
	// ScrapeInterval is how often Prometheus (or the agent beside a
	// worker) scrapes the workers: a probe's result reaches the rules at
	// most this late. It sets the time-to-page figures and the shortest
	// window of the fast page.
	ScrapeInterval Duration `yaml:"scrapeInterval"`
	// ProviderDown is the fast outage page, beside the burn-rate alerts.
	ProviderDown ProviderDown `yaml:"providerDown"`
	// Degraded is the slowness ticket.
	Degraded Degraded `yaml:"degraded"`
	// Providers are the providers with SLOs, by catalog id.
	Providers []string `yaml:"providers"`
	// Checks holds the objectives of each check kind, for every provider.
	Checks Checks `yaml:"checks"`
	// Overrides replaces objectives for one provider and check.
	Overrides    []Override   `yaml:"overrides,omitempty"`
	Links        Links        `yaml:"links"`
	Alertmanager Alertmanager `yaml:"alertmanager"`
}

// ProviderDown configures LLMProbeProviderDown: a provider check failing now
// from enough regions pages at once, whatever its error budget, as
// synthetic monitors page on "N of M locations failing". Within the last
// Window probe intervals, at least Quorum regions (whose own network is up)
// must each see MinRegionFailedProbes failed probes, and those regions
// together MinFailedProbes.
type ProviderDown struct {
	// Window is the "failing now" window, in probe intervals.
	Window int `yaml:"window"`
	// MinFailedProbes is the least number of failed probes in the window,
	// summed over the failing regions.
	MinFailedProbes int `yaml:"minFailedProbes"`
	// MinRegionFailedProbes is the least number of failed probes in the
	// window for a region to count toward the quorum.
	MinRegionFailedProbes int `yaml:"minRegionFailedProbes"`
	// EvaluationInterval is the interval of the rule group that records the
	// window and evaluates the fast alerts (scaled by the profile, at least
	// 1s).
	EvaluationInterval Duration `yaml:"evaluationInterval"`
	// KeepFiringFor keeps the page firing this long after the condition
	// stops (scaled by the profile): an intermittent outage whose failures
	// dip below the minimum for a moment, or whose checks back off after
	// 429/529, pages once rather than page, resolve and page again.
	KeepFiringFor Duration `yaml:"keepFiringFor"`
}

// Degraded configures LLMProbeDegraded: a check whose time to first byte
// (chat, reach) or first token (stream) rises well above its own baseline
// from Quorum regions or more: slow, not down. It opens a ticket; slowness
// pages only through the latency SLO's burn. Its spans are scaled by the
// profile, as the SLO window is.
type Degraded struct {
	// Window is the recent window whose p95 is compared.
	Window Duration `yaml:"window"`
	// Baseline is the window of the p95 it is compared with, ending where
	// Window starts.
	Baseline Duration `yaml:"baseline"`
	// Factor: the recent p95 must be at least this many times the baseline's.
	Factor float64 `yaml:"factor"`
	// MinLatency: the recent p95 must also be at least this long, so that a
	// fast check going from 20 ms to 60 ms is not news.
	MinLatency Duration `yaml:"minLatency"`
	// For is how long the condition must hold.
	For Duration `yaml:"for"`
}

// Checks holds objectives per check kind (probe.Kinds).
type Checks struct {
	Reach  Objectives `yaml:"reach"`
	Chat   Objectives `yaml:"chat"`
	Stream Objectives `yaml:"stream"`
}

// Objectives are the SLOs of one check.
type Objectives struct {
	// Availability is the share of valid probes (every outcome but
	// probe_error) that must succeed.
	Availability float64 `yaml:"availability"`
	// Latency, for chat and stream only: the share of successful probes
	// that must finish within Threshold. Null turns the latency SLO off.
	Latency *LatencyObjective `yaml:"latency"`
}

// LatencyObjective is a latency SLO. Threshold must be one of
// probe.DurationBuckets so that the SLI is an exact bucket read.
type LatencyObjective struct {
	Objective float64  `yaml:"objective"`
	Threshold Duration `yaml:"threshold"`
}

// Override sets the objectives of one provider's check; fields left out
// keep the value from checks.
type Override struct {
	Provider     string            `yaml:"provider"`
	Check        string            `yaml:"check"`
	Availability *float64          `yaml:"availability,omitempty"`
	Latency      *LatencyObjective `yaml:"latency,omitempty"`
}

// Links are the bases of the URLs in alert annotations.
type Links struct {
	// Runbook is the README whose "### <alert>" sections are the runbooks.
	Runbook string `yaml:"runbook"`
	// Grafana is Grafana's root URL; dashboards are linked by UID below it.
	Grafana string `yaml:"grafana"`
}

// Alertmanager configures the generated Alertmanager receivers.
type Alertmanager struct {
	// WebhookURL receives both page and ticket notifications.
	WebhookURL string `yaml:"webhookURL"`
}

// DefaultSpec is the spec used when no file is given, and the base a file
// overrides.
func DefaultSpec(p Profile) Spec {
	return Spec{
		APIVersion:      APIVersion,
		Window:          Duration(30 * 24 * time.Hour),
		ProbeInterval:   Duration(p.defaultProbeInterval()),
		Regions:         3,
		MinFailedProbes: 3,
		ScrapeInterval:  Duration(p.defaultScrapeInterval()),
		ProviderDown: ProviderDown{
			// Eight intervals hold 24 probes from three regions. Six failed
			// probes among them pages a total outage after two intervals and
			// a 30% error rate after seven, while 2% of probes failing at
			// random pages by chance well under once a month (PagingFigures).
			Window: 8, MinFailedProbes: 6, MinRegionFailedProbes: 2,
			EvaluationInterval: Duration(15 * time.Second), KeepFiringFor: Duration(3 * time.Minute),
		},
		Degraded: Degraded{
			Window: Duration(10 * time.Minute), Baseline: Duration(24 * time.Hour),
			Factor: 3, MinLatency: Duration(time.Second), For: Duration(10 * time.Minute),
		},
		Providers: probe.ProviderIDs(),
		Checks: Checks{
			// reach is keyless and only needs DNS, edge and origin to
			// answer: it should almost never fail.
			Reach: Objectives{Availability: 0.999},
			// Completions fail more often (overload, rate limits).
			Chat:   Objectives{Availability: 0.995, Latency: &LatencyObjective{Objective: 0.95, Threshold: Duration(10 * time.Second)}},
			Stream: Objectives{Availability: 0.995, Latency: &LatencyObjective{Objective: 0.95, Threshold: Duration(10 * time.Second)}},
		},
		Links: Links{
			Runbook: "https://github.com/llmprobe/llmprobe",
			Grafana: "http://localhost:3000",
		},
		Alertmanager: Alertmanager{WebhookURL: "http://127.0.0.1:9095/alerts"},
	}
}

// For returns the objectives of a check kind, or nil for an unknown kind.
func (c *Checks) For(kind string) *Objectives {
	switch probe.Kind(kind) {
	case probe.KindReach:
		return &c.Reach
	case probe.KindChat:
		return &c.Chat
	case probe.KindStream:
		return &c.Stream
	}
	return nil
}

// SLO is one objective of one provider's check, as the rules measure it.
type SLO struct {
	Provider  string
	Check     string
	SLI       string // SLOAvailability or SLOLatency
	Objective float64
	Threshold time.Duration // latency only
}

// Name is a short id for messages: openai/chat latency.
func (s SLO) Name() string { return s.Provider + "/" + s.Check + " " + s.SLI }

// SLOs expands the spec: every provider times every check kind, with
// overrides applied, in spec provider order, then check order, availability
// before latency.
func (s Spec) SLOs() []SLO {
	var out []SLO
	for _, p := range s.Providers {
		for _, k := range probe.Kinds {
			obj := *s.Checks.For(string(k))
			for _, o := range s.Overrides {
				if o.Provider != p || o.Check != string(k) {
					continue
				}
				if o.Availability != nil {
					obj.Availability = *o.Availability
				}
				if o.Latency != nil {
					obj.Latency = o.Latency
				}
			}
			out = append(out, SLO{Provider: p, Check: string(k), SLI: SLOAvailability, Objective: obj.Availability})
			if obj.Latency != nil {
				out = append(out, SLO{Provider: p, Check: string(k), SLI: SLOLatency,
					Objective: obj.Latency.Objective, Threshold: time.Duration(obj.Latency.Threshold)})
			}
		}
	}
	return out
}

// Quorum is how many regions must see an SLO burn before a provider alert
// fires: min(2, Regions). Fewer is a regional failure.
func (s Spec) Quorum() int { return min(2, s.Regions) }

// StaleAfter is how old a region's newest probe may be before its worker
// counts as down: five probe intervals, at least two minutes (scaled).
func (s Spec) StaleAfter(p Profile) time.Duration {
	return max(5*time.Duration(s.ProbeInterval), p.Scale(2*time.Minute))
}

// fieldError is a problem with one spec field, by its YAML path
// ("checks.chat.availability", "overrides[1].provider").
type fieldError struct {
	path string
	msg  string
}

func (e fieldError) Error() string { return e.path + ": " + e.msg }

// Validate checks the spec and returns every problem, each naming the field.
func (s Spec) Validate() error {
	return joinFieldErrors(s.validate())
}

func (s Spec) validate() []fieldError {
	var errs []fieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path, fmt.Sprintf(format, args...)})
	}
	switch s.APIVersion {
	case APIVersion:
	case "":
		add("apiVersion", "missing: want %s", APIVersion)
	default:
		add("apiVersion", "unknown version %q: want %s", s.APIVersion, APIVersion)
	}

	longest := slices.MaxFunc(BurnWindows(), func(a, b BurnWindow) int { return int(a.Long - b.Long) }).Long
	if w := time.Duration(s.Window); w < longest {
		add("window", "%s is shorter than the longest burn-rate window, %s", s.Window, FormatDuration(longest))
	} else if w > 366*24*time.Hour {
		add("window", "%s is longer than a year", s.Window)
	}
	if s.ProbeInterval <= 0 {
		add("probeInterval", "must be longer than zero")
	} else if d := time.Duration(s.ProbeInterval); d < minProbeInterval || d > maxProbeInterval {
		add("probeInterval", "%s is outside %s to %s, the range of LLMPROBE_INTERVAL", s.ProbeInterval, FormatDuration(minProbeInterval), FormatDuration(maxProbeInterval))
	}
	if s.Regions < 1 {
		add("regions", "%d: want at least 1", s.Regions)
	} else if s.Regions > maxRegions {
		add("regions", "%d: want at most %d", s.Regions, maxRegions)
	}
	if len(s.RegionNames) > 0 && len(s.RegionNames) != s.Regions {
		add("regionNames", "lists %d regions but regions is %d", len(s.RegionNames), s.Regions)
	}
	seenRegion := map[string]bool{}
	for i, r := range s.RegionNames {
		path := fmt.Sprintf("regionNames[%d]", i)
		if !validRegion(r) {
			add(path, "%q is not a region name: want lower-case letters, digits, '-', '_' or '.'", r)
		}
		if seenRegion[r] {
			add(path, "region %q is listed twice", r)
		}
		seenRegion[r] = true
	}
	if s.MinFailedProbes < 1 {
		add("minFailedProbes", "%d: want at least 1", s.MinFailedProbes)
	} else if s.MinFailedProbes > maxMinFailedProbes {
		add("minFailedProbes", "%d: want at most %d", s.MinFailedProbes, maxMinFailedProbes)
	}
	if s.ScrapeInterval <= 0 {
		add("scrapeInterval", "must be longer than zero")
	}
	pd := s.ProviderDown
	switch {
	case pd.Window < 2:
		add("providerDown.window", "%d probe intervals: want at least 2", pd.Window)
	case pd.Window > 120:
		add("providerDown.window", "%d probe intervals: want at most 120 (a longer window is the burn-rate alerts' job)", pd.Window)
	}
	if pd.MinRegionFailedProbes < 1 {
		add("providerDown.minRegionFailedProbes", "%d: want at least 1", pd.MinRegionFailedProbes)
	} else if pd.Window >= 2 && pd.MinRegionFailedProbes > pd.Window {
		add("providerDown.minRegionFailedProbes", "%d: a region holds at most %d probes in the window (providerDown.window)", pd.MinRegionFailedProbes, pd.Window)
	}
	if pd.MinFailedProbes < pd.MinRegionFailedProbes {
		add("providerDown.minFailedProbes", "%d: want at least providerDown.minRegionFailedProbes (%d)", pd.MinFailedProbes, pd.MinRegionFailedProbes)
	} else if pd.Window >= 2 && pd.MinFailedProbes > pd.Window*s.Regions {
		add("providerDown.minFailedProbes", "%d: %d regions hold at most %d probes in the window", pd.MinFailedProbes, s.Regions, pd.Window*s.Regions)
	}
	if pd.EvaluationInterval <= 0 {
		add("providerDown.evaluationInterval", "must be longer than zero")
	}
	if pd.KeepFiringFor < 0 || time.Duration(pd.KeepFiringFor) > time.Hour {
		add("providerDown.keepFiringFor", "%s: want 0 to 1h", pd.KeepFiringFor)
	}
	dg := s.Degraded
	if dg.Window <= 0 {
		add("degraded.window", "must be longer than zero")
	}
	if dg.Baseline < 2*dg.Window {
		add("degraded.baseline", "%s: want at least twice degraded.window (%s)", dg.Baseline, dg.Window)
	}
	if !(dg.Factor > 1) || dg.Factor > 1000 {
		add("degraded.factor", "%s: want more than 1 and at most 1000", strconv.FormatFloat(dg.Factor, 'g', -1, 64))
	}
	if dg.MinLatency < 0 {
		add("degraded.minLatency", "must not be negative")
	}
	if dg.For < 0 {
		add("degraded.for", "must not be negative")
	}

	known := probe.ProviderIDs()
	if len(s.Providers) == 0 {
		add("providers", "empty: list at least one of %s", strings.Join(known, ", "))
	}
	seenProvider := map[string]bool{}
	for i, p := range s.Providers {
		path := fmt.Sprintf("providers[%d]", i)
		if !slices.Contains(known, p) {
			add(path, "unknown provider %q (known: %s)", p, strings.Join(known, ", "))
		}
		if seenProvider[p] {
			add(path, "provider %q is listed twice", p)
		}
		seenProvider[p] = true
	}

	for _, k := range probe.Kinds {
		obj := s.Checks.For(string(k))
		path := "checks." + string(k)
		checkObjective(add, path+".availability", obj.Availability)
		checkLatency(add, path+".latency", string(k), obj.Latency)
	}

	type pair struct{ provider, check string }
	seenOverride := map[pair]int{}
	for i, o := range s.Overrides {
		path := fmt.Sprintf("overrides[%d]", i)
		switch {
		case o.Provider == "":
			add(path+".provider", "missing")
		case !slices.Contains(known, o.Provider):
			add(path+".provider", "unknown provider %q (known: %s)", o.Provider, strings.Join(known, ", "))
		case !slices.Contains(s.Providers, o.Provider):
			add(path+".provider", "provider %q is not in providers", o.Provider)
		}
		if _, err := probe.ParseKind(o.Check); err != nil {
			add(path+".check", "%v", err)
		}
		if o.Availability == nil && o.Latency == nil {
			add(path, "sets nothing: give availability, latency or both")
		}
		if o.Availability != nil {
			checkObjective(add, path+".availability", *o.Availability)
		}
		checkLatency(add, path+".latency", o.Check, o.Latency)
		key := pair{o.Provider, o.Check}
		if j, dup := seenOverride[key]; dup {
			add(path, "repeats overrides[%d] for %s/%s", j, o.Provider, o.Check)
		} else {
			seenOverride[key] = i
		}
	}

	checkURL(add, "links.runbook", s.Links.Runbook)
	checkURL(add, "links.grafana", s.Links.Grafana)
	checkURL(add, "alertmanager.webhookURL", s.Alertmanager.WebhookURL)
	return errs
}

// Ranges of the spec's numbers: what a deployment can have (probeInterval
// as LLMPROBE_INTERVAL allows), so the generator never computes with
// nonsense such as int64-max regions.
const (
	minProbeInterval   = time.Second
	maxProbeInterval   = 24 * time.Hour
	maxRegions         = 1000
	maxMinFailedProbes = 1_000_000
)

type addFunc func(path, format string, args ...any)

func checkObjective(add addFunc, path string, v float64) {
	if !(v > 0 && v < 1) {
		add(path, "objective %s is outside (0, 1): write 0.999 for 99.9%%", strconv.FormatFloat(v, 'g', -1, 64))
	}
}

func checkLatency(add addFunc, path, kind string, l *LatencyObjective) {
	if l == nil {
		return
	}
	if probe.Kind(kind) == probe.KindReach {
		add(path, "reach checks have no latency SLO (it measures chat and stream completions)")
		return
	}
	checkObjective(add, path+".objective", l.Objective)
	if !IsBucket(time.Duration(l.Threshold)) {
		add(path+".threshold", "%s is not a bucket boundary of %s: use one of %s",
			l.Threshold, probe.MetricProbeDuration, strings.Join(bucketNames(), ", "))
	}
}

func checkURL(add addFunc, path, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		add(path, "missing: want an http or https URL")
	case err != nil:
		add(path, "%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		add(path, "%q is not an absolute http or https URL", s)
	case strings.ContainsAny(s, "{}\"'` \\"):
		// URLs land inside alert templates and YAML.
		add(path, "%q holds a brace, quote, backslash or space", s)
	}
}

// validRegion reports whether r is a safe label value for a region name.
func validRegion(r string) bool {
	if r == "" || len(r) > 63 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// IsBucket reports whether d is one of probe.DurationBuckets.
func IsBucket(d time.Duration) bool {
	for _, b := range probe.DurationBuckets {
		if bucketDuration(b) == d {
			return true
		}
	}
	return false
}

func bucketNames() []string {
	var out []string
	for _, b := range probe.DurationBuckets {
		out = append(out, FormatDuration(bucketDuration(b)))
	}
	return out
}

// bucketDuration converts a bucket boundary in seconds, rounding to the
// nanosecond (0.005 has no exact binary form).
func bucketDuration(seconds float64) time.Duration {
	return time.Duration(math.Round(seconds * float64(time.Second)))
}

// bucketLabel is the le label value of a duration bucket as client_golang
// writes it ("10", "2.5", "0.005").
func bucketLabel(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
}

func joinFieldErrors(errs []fieldError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%w: %s", ErrInvalidSpec, strings.Join(msgs, "; "))
}
