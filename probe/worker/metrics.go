package worker

import (
	"sync"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/prometheus/client_golang/prometheus"
)

// Native histogram settings of every duration histogram: buckets 10 % wide,
// at most 160 of them per series.
const (
	nativeHistogramFactor   = 1.1
	nativeHistogramMaxCount = 160
)

// Metrics are the worker's Prometheus metrics, registered on the registry
// the caller passes (never the global one).
type Metrics struct {
	probes       *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	phase        *prometheus.HistogramVec
	edgeOverhead *prometheus.HistogramVec
	success      *prometheus.GaugeVec
	lastRun      *prometheus.GaugeVec
	tokens       *prometheus.CounterVec
	providerInfo *prometheus.GaugeVec
	control      *prometheus.GaugeVec
	statusPage   *prometheus.GaugeVec
	rateLimit    *prometheus.GaugeVec
	buildInfo    *prometheus.GaugeVec
	skipped      *prometheus.CounterVec
	unmeasured   *prometheus.CounterVec
	backoff      *prometheus.GaugeVec
	budget       *prometheus.GaugeVec
	lateness     prometheus.Histogram

	mu    sync.Mutex
	edges map[[2]string]string // (provider, region) -> edge last seen
}

var checkLabels = []string{probe.LabelProvider, probe.LabelCheck, probe.LabelModel, probe.LabelRegion}

func with(extra ...string) []string { return append(append([]string(nil), checkLabels...), extra...) }

func histogram(name, help string) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Name: name, Help: help, Buckets: probe.DurationBuckets,
		NativeHistogramBucketFactor: nativeHistogramFactor, NativeHistogramMaxBucketNumber: nativeHistogramMaxCount,
		NativeHistogramMinResetDuration: time.Hour}
}

// NewMetrics creates the worker's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		probes:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: probe.MetricProbesTotal, Help: "Finished probes by outcome and reason."}, with(probe.LabelOutcome, probe.LabelReason)),
		duration:     prometheus.NewHistogramVec(histogram(probe.MetricProbeDuration, "Duration of whole probes in seconds."), with(probe.LabelOutcome)),
		phase:        prometheus.NewHistogramVec(histogram(probe.MetricPhaseDuration, "Duration of probe phases (dns, connect, tls, ttfb, ttft, transfer) in seconds."), with(probe.LabelPhase)),
		edgeOverhead: prometheus.NewHistogramVec(histogram(probe.MetricEdgeOverhead, "Time to first byte minus the origin's own reported processing time, in seconds."), checkLabels),
		success:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricCheckSuccess, Help: "1 if the last probe of the check succeeded, else 0."}, checkLabels),
		lastRun:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricCheckLastRun, Help: "Unix time of the check's last finished probe."}, checkLabels),
		tokens:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: probe.MetricTokensTotal, Help: "Tokens billed to the probe, by direction."}, with(probe.LabelDirection)),
		providerInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricProviderInfo, Help: "The CDN that fronts a provider, as last seen from this region."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelEdge}),
		control:      prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricControlSuccess, Help: "1 if the last probe of a control target outside any LLM provider succeeded."}, []string{probe.LabelTarget, probe.LabelRegion}),
		statusPage:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricStatusPageComponent, Help: "The provider's public status page: 0 operational, 1 degraded, 2 partial outage, 3 major outage."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelComponent}),
		rateLimit:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricRateLimitRemaining, Help: "Rate-limit headroom the provider reported on the last response."}, with(probe.LabelKind)),
		buildInfo:    prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricBuildInfo, Help: "Build of the llmprobe worker."}, []string{probe.LabelVersion, probe.LabelRevision, probe.LabelGoVersion}),
		unmeasured: prometheus.NewCounterVec(prometheus.CounterOpts{Name: probe.MetricProbesUnmeasured,
			Help: "Probes that finished while every control target failed from this region, by outcome: its own network was down, so the SLI rules leave them out."}, with(probe.LabelOutcome)),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: probe.MetricProbesSkipped, Help: "Scheduled probes not sent: backing off after 429/529, daily budget spent, or the previous probe overran."}, with(probe.LabelSkipReason)),
		backoff: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricBackoff, Help: "Seconds until a check backing off after a 429 or 529 probes again; 0 when not backing off."}, checkLabels),
		budget:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: probe.MetricBudgetRemaining, Help: "What is left of a provider's daily probe budget for inference checks, by kind (requests, tokens)."}, []string{probe.LabelProvider, probe.LabelRegion, probe.LabelKind}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: probe.MetricScheduleLateness, Help: "How late probes started after their scheduled time, in seconds.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}),
		edges: map[[2]string]string{},
	}
	reg.MustRegister(m.probes, m.duration, m.phase, m.edgeOverhead, m.success, m.lastRun, m.tokens, m.providerInfo,
		m.control, m.statusPage, m.rateLimit, m.buildInfo, m.skipped, m.unmeasured, m.backoff, m.budget, m.lateness)
	return m
}

// SetBuildInfo publishes the build.
func (m *Metrics) SetBuildInfo(version, revision, goVersion string) {
	m.buildInfo.WithLabelValues(version, revision, goVersion).Set(1)
}

// InitCheck creates a check's series at zero before its first probe, so
// that increase() sees a failure's first increment.
func (m *Metrics) InitCheck(c probe.Check) {
	l := []string{c.Provider.ID, string(c.Kind), c.Model, c.Region}
	for _, r := range probe.Reasons {
		if c.Kind == probe.KindReach && (r.Reason == probe.ReasonNoAPIKey || r.Reason == probe.ReasonBudgetExhausted) {
			continue
		}
		m.probes.WithLabelValues(append(l, string(r.Outcome), string(r.Reason))...)
	}
	for _, reason := range []string{probe.SkipReasonBackoff, probe.SkipReasonBudget, probe.SkipReasonOverrun} {
		m.skipped.WithLabelValues(append(l, reason)...)
	}
	for _, o := range probe.SLIOutcomes() {
		m.unmeasured.WithLabelValues(append(l, string(o))...)
	}
	m.backoff.WithLabelValues(l...).Set(0)
}

// Observe records one finished probe. traceID, when not empty, becomes the
// exemplar of the duration observations.
func (m *Metrics) Observe(r probe.Result) {
	l := []string{r.Provider, string(r.Check), r.Model, r.Region}
	var ex prometheus.Labels
	if r.TraceID != "" {
		ex = prometheus.Labels{probe.ExemplarTraceIDLabel: r.TraceID}
	}
	m.probes.WithLabelValues(append(l, string(r.Outcome), string(r.Reason))...).Inc()
	observe(m.duration.WithLabelValues(append(l, string(r.Outcome))...), r.Timings.Total, ex)
	t := r.Timings
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{probe.PhaseDNS, t.DNS}, {probe.PhaseConnect, t.Connect}, {probe.PhaseTLS, t.TLS}, {probe.PhaseTTFB, t.TTFB}, {probe.PhaseTTFT, t.TTFT}, {probe.PhaseTransfer, t.Transfer}} {
		if p.d > 0 {
			observe(m.phase.WithLabelValues(append(l, p.name)...), p.d, ex)
		}
	}
	if r.EdgeOverhead > 0 {
		observe(m.edgeOverhead.WithLabelValues(l...), r.EdgeOverhead, ex)
	}
	if r.Success() {
		m.success.WithLabelValues(l...).Set(1)
	} else {
		m.success.WithLabelValues(l...).Set(0)
	}
	m.lastRun.WithLabelValues(l...).Set(float64(r.StartedAt.Add(r.Timings.Total).UnixNano()) / 1e9)
	if r.Tokens.Input > 0 {
		m.tokens.WithLabelValues(append(l, "input")...).Add(float64(r.Tokens.Input))
	}
	if r.Tokens.Output > 0 {
		m.tokens.WithLabelValues(append(l, "output")...).Add(float64(r.Tokens.Output))
	}
	if r.RateLimit.Requests != nil {
		m.rateLimit.WithLabelValues(append(l, "requests")...).Set(*r.RateLimit.Requests)
	}
	if r.RateLimit.Tokens != nil {
		m.rateLimit.WithLabelValues(append(l, "tokens")...).Set(*r.RateLimit.Tokens)
	}
	if r.StatusCode != 0 {
		m.setEdge(r.Provider, r.Region, r.Edge)
	}
}

func observe(o prometheus.Observer, d time.Duration, ex prometheus.Labels) {
	if eo, ok := o.(prometheus.ExemplarObserver); ok && ex != nil {
		eo.ObserveWithExemplar(d.Seconds(), ex)
		return
	}
	o.Observe(d.Seconds())
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
	m.unmeasured.WithLabelValues(r.Provider, string(r.Check), r.Model, r.Region, string(r.Outcome)).Inc()
}

// Skipped counts a scheduled probe that was not sent, and why.
func (m *Metrics) Skipped(c probe.Check, reason string) {
	m.skipped.WithLabelValues(c.Provider.ID, string(c.Kind), c.Model, c.Region, reason).Inc()
}

// SetBackoff publishes how long a check still backs off.
func (m *Metrics) SetBackoff(c probe.Check, remaining time.Duration) {
	m.backoff.WithLabelValues(c.Provider.ID, string(c.Kind), c.Model, c.Region).Set(max(remaining, 0).Seconds())
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
