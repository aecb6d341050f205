package worker

import (
	"slices"
	"sync"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics are the worker's Prometheus metrics, registered on the registry
// the caller passes (never the global one). The per-check series (every
// family labelled by provider, check, model and region) are held by a
// checkCollector (series.go); the rest are client_golang vectors.
type Metrics struct {
	checks       *checkCollector
	providerInfo *prometheus.GaugeVec
	control      *prometheus.GaugeVec
	statusPage   *prometheus.GaugeVec
	buildInfo    *prometheus.GaugeVec
	budget       *prometheus.GaugeVec
	lateness     prometheus.Histogram

	// NetworkControl says the worker runs control targets, so the region's
	// network can read as down and llmprobe_probes_unmeasured_total can
	// move: InitCheck then creates its series at zero. Set it before
	// InitCheck.
	NetworkControl bool

	mu    sync.Mutex
	edges map[[2]string]string // (provider, region) -> edge last seen
}

var checkLabels = []string{probe.LabelProvider, probe.LabelCheck, probe.LabelModel, probe.LabelRegion}

func with(extra ...string) []string { return append(append([]string(nil), checkLabels...), extra...) }

// NewMetrics creates the worker's metrics and registers them on reg: a
// worker Registry (NewRegistry) gathers the per-check series the cheap way,
// any other Registerer collects them like any collector.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		providerInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricProviderInfo, Help: "The CDN that fronts a provider, as last seen from this region."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelEdge}),
		control:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricControlSuccess, Help: "1 if the last probe of a control target outside any LLM provider succeeded."}, []string{probe.LabelTarget, probe.LabelRegion}),
		statusPage:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricStatusPageComponent, Help: "The provider's public status page: 0 operational, 1 degraded, 2 partial outage, 3 major outage."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelComponent}),
		buildInfo:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricBuildInfo, Help: "Build of the llmprobe worker."}, []string{probe.LabelVersion, probe.LabelRevision, probe.LabelGoVersion}),
		budget:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricBudgetRemaining, Help: "What is left of a provider's daily probe budget for inference checks, by kind (requests, tokens)."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelKind}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: probe.MetricScheduleLateness, Help: "How late probes started after their scheduled time, in seconds.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}),
		edges: map[[2]string]string{},
	}
	m.checks = newCheckCollector()
	reg.MustRegister(m.providerInfo, m.control, m.statusPage, m.buildInfo, m.budget, m.lateness)
	if r, ok := reg.(*Registry); ok {
		// The worker's registry gathers the per-check series itself
		// (gather.go); any other registry collects them as a Collector.
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.checks != nil {
			panic("worker.NewMetrics: a second Metrics on one Registry")
		}
		r.checks = m.checks
		return m
	}
	reg.MustRegister(m.checks)
	return m
}

// SetBuildInfo publishes the build.
func (m *Metrics) SetBuildInfo(version, revision, goVersion string) {
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// InitCheck creates at zero, before a check's first probe, the counter
// series that the recording rules read with increase(): a series that
// appears with its first increment has no earlier sample, so increase()
// would miss that probe. These are llmprobe_probes_total for every
// outcome and reason the check can end in (reach has no key and no
// budget, so never no_api_key or budget_exhausted), and, when the worker
// has control targets (NetworkControl), llmprobe_probes_unmeasured_total
// for every outcome the SLI rules subtract. Everything else appears with
// its first value: gauges (read as they are), histograms (read by rate()
// and histogram_quantile() over many probes), tokens, and
// llmprobe_probes_skipped_total (no rule reads it).
func (m *Metrics) InitCheck(c probe.Check) {
	cs := m.checks.check(idOf(c))
	for i, r := range probe.Reasons {
		if c.Kind == probe.KindReach && (r.Reason == probe.ReasonNoAPIKey || r.Reason == probe.ReasonBudgetExhausted) {
			continue
		}
		m.checks.counter(cs, &cs.probes[i], m.checks.probes, probe.LabelOutcome, string(r.Outcome), probe.LabelReason, string(r.Reason))
	}
	if m.NetworkControl {
		for _, o := range probe.SLIOutcomes() {
			i := outcomeIndex(o)
			m.checks.counter(cs, &cs.unmeasured[i], m.checks.unmeasured, probe.LabelOutcome, string(o))
		}
	}
	m.checks.gauge(cs, &cs.backoff, m.checks.backoff)
}

// reasonIndex is r's index in probe.Reasons, or -1.
func reasonIndex(r probe.Reason) int {
	for i, info := range probe.Reasons {
		if info.Reason == r {
			return i
		}
	}
	return -1
}

// Observe records one finished probe. traceID, when not empty, becomes the
// exemplar of the duration observations.
func (m *Metrics) Observe(r probe.Result) {
	cc := m.checks
	cs := cc.check(idOfResult(r))
	var ex []*dto.LabelPair
	if r.TraceID != "" {
		ex = []*dto.LabelPair{{Name: new(probe.ExemplarTraceIDLabel), Value: new(r.TraceID)}}
	}
	if i := reasonIndex(r.Reason); i >= 0 && probe.Reasons[i].Outcome == r.Outcome {
		cc.counter(cs, &cs.probes[i], cc.probes, probe.LabelOutcome, string(r.Outcome), probe.LabelReason, string(r.Reason)).add(1)
	} else {
		// Not a pair of the documented list: counted all the same, as its
		// own series, never dropped.
		m.stray(r)
	}
	if o := outcomeIndex(r.Outcome); o >= 0 {
		cc.histogram(cs, &cs.duration[o], cc.duration, probe.LabelOutcome, string(r.Outcome)).observe(r.Timings.Total.Seconds(), ex)
	}
	t := r.Timings
	for i, d := range [...]time.Duration{t.DNS, t.Connect, t.TLS, t.TTFB, t.TTFT, t.Transfer} {
		if d > 0 {
			cc.histogram(cs, &cs.phase[i], cc.phase, probe.LabelPhase, probe.Phases[i]).observe(d.Seconds(), ex)
		}
	}
	if r.EdgeOverhead > 0 {
		cc.histogram(cs, &cs.edge, cc.edge).observe(r.EdgeOverhead.Seconds(), ex)
	}
	ok := 0.0
	if r.Success() {
		ok = 1
	}
	cc.gauge(cs, &cs.success, cc.success).set(ok)
	cc.gauge(cs, &cs.lastRun, cc.lastRun).set(float64(r.StartedAt.Add(r.Timings.Total).UnixNano()) / 1e9)
	for i, n := range [...]int{r.Tokens.Input, r.Tokens.Output} {
		if n > 0 {
			cc.counter(cs, &cs.tokens[i], cc.tokens, probe.LabelDirection, directions[i]).add(uint64(n))
		}
	}
	for i, v := range [...]*float64{r.RateLimit.Requests, r.RateLimit.Tokens} {
		if v != nil {
			cc.gauge(cs, &cs.rateLimit[i], cc.rateLimit, probe.LabelKind, rateLimitKinds[i]).set(*v)
		}
	}
	if r.StatusCode != 0 {
		m.setEdge(r.Provider, r.Region, r.Edge)
	}
}

// stray counts a probe whose (outcome, reason) is not in probe.Reasons.
// The classifier never makes one (its tests hold every verdict to the
// list); this keeps the count honest if it ever did.
func (m *Metrics) stray(r probe.Result) {
	cc := m.checks
	cs := cc.check(idOfResult(r))
	cc.mu.Lock()
	ls := cc.labels(cs.id, probe.LabelOutcome, string(r.Outcome), probe.LabelReason, string(r.Reason))
	e := seriesEntry{labels: ls}
	for _, o := range cc.probes.entries {
		if !o.less(e) && !e.less(o) {
			cc.mu.Unlock()
			o.m.(*counterSeries).add(1)
			return
		}
	}
	s := &counterSeries{created: cs.created}
	s.add(1)
	cc.probes.add(ls, s)
	cc.mu.Unlock()
}

// setEdge keeps one llmprobe_provider_info series per provider and region:
// the CDN seen last.
func (m *Metrics) setEdge(provider, region, edge string) {
	if edge == "" {
		edge = probe.EdgeNone
	}
	key := [2]string{provider, region}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.edges[key]; ok && old != edge {
		m.providerInfo.DeleteLabelValues(provider, region, old)
	}
	m.edges[key] = edge
	m.providerInfo.WithLabelValues(provider, region, edge).Set(1)
}

// Unmeasured counts a probe that finished while the region's own network
// was down (NetworkState), beside its count in llmprobe_probes_total.
func (m *Metrics) Unmeasured(r probe.Result) {
	i := outcomeIndex(r.Outcome)
	if i < 0 {
		return
	}
	cs := m.checks.check(idOfResult(r))
	m.checks.counter(cs, &cs.unmeasured[i], m.checks.unmeasured, probe.LabelOutcome, string(r.Outcome)).add(1)
}

// Skipped counts a scheduled probe that was not sent, and why.
func (m *Metrics) Skipped(c probe.Check, reason string) {
	i := slices.Index(skipReasons, reason)
	if i < 0 {
		return
	}
	cs := m.checks.check(idOf(c))
	m.checks.counter(cs, &cs.skipped[i], m.checks.skipped, probe.LabelSkipReason, reason).add(1)
}

// SetBackoff publishes how long a check still backs off.
func (m *Metrics) SetBackoff(c probe.Check, remaining time.Duration) {
	cs := m.checks.check(idOf(c))
	m.checks.gauge(cs, &cs.backoff, m.checks.backoff).set(max(remaining, 0).Seconds())
}

// SetBudget publishes what is left of a provider's daily budget.
func (m *Metrics) SetBudget(provider, region string, requests, tokens float64) {
	m.budget.WithLabelValues(provider, region, "requests").Set(requests)
	m.budget.WithLabelValues(provider, region, "tokens").Set(tokens)
}

// ObserveLateness records how late a probe started after its scheduled time.
func (m *Metrics) ObserveLateness(d time.Duration) { m.lateness.Observe(max(d, 0).Seconds()) }

// SetControl publishes a control target's last result.
func (m *Metrics) SetControl(target, region string, ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	m.control.WithLabelValues(target, region).Set(v)
}

// SetStatusPageComponent publishes a status-page component's state (0-3).
func (m *Metrics) SetStatusPageComponent(provider, region, component string, state int) {
	m.statusPage.WithLabelValues(provider, region, component).Set(float64(state))
}
