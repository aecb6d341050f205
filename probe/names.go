// The contract's names: metrics, labels, phases and histogram buckets. The
// worker's metrics sink (probe/worker) and the rule and dashboard
// generators (slo, dashboards) spell them only through these constants, and
// need no metrics library to do so.

package probe

// Metric and label names of the metrics contract (DESIGN.md, Metrics). Rules,
// dashboards and tests refer to these constants; nothing else spells them.
const (
	MetricProbesTotal         = "llmprobe_probes_total"
	MetricProbeDuration       = "llmprobe_probe_duration_seconds"
	MetricPhaseDuration       = "llmprobe_phase_duration_seconds"
	MetricEdgeOverhead        = "llmprobe_edge_overhead_seconds"
	MetricCheckSuccess        = "llmprobe_check_success"
	MetricCheckLastRun        = "llmprobe_check_last_run_timestamp_seconds"
	MetricTokensTotal         = "llmprobe_tokens_total"
	MetricProviderInfo        = "llmprobe_provider_info"
	MetricControlSuccess      = "llmprobe_control_success"
	MetricStatusPageComponent = "llmprobe_status_page_component_status"
	MetricRateLimitRemaining  = "llmprobe_ratelimit_remaining"
	MetricBuildInfo           = "llmprobe_build_info"
)

// Label names.
const (
	LabelProvider  = "provider"
	LabelCheck     = "check"
	LabelModel     = "model"
	LabelRegion    = "region"
	LabelOutcome   = "outcome"
	LabelReason    = "reason"
	LabelPhase     = "phase"
	LabelDirection = "direction"
	LabelEdge      = "edge"
	LabelTarget    = "target"
	LabelComponent = "component"
	LabelKind      = "kind"
	LabelVersion   = "version"
	LabelRevision  = "revision"
	LabelGoVersion = "goversion"
)

// Phase names, the values of the `phase` label.
const (
	PhaseDNS      = "dns"
	PhaseConnect  = "connect"
	PhaseTLS      = "tls"
	PhaseTTFB     = "ttfb"
	PhaseTTFT     = "ttft"
	PhaseTransfer = "transfer"
)

// Phases lists the phase label values in exchange order.
var Phases = []string{PhaseDNS, PhaseConnect, PhaseTLS, PhaseTTFB, PhaseTTFT, PhaseTransfer}

// DurationBuckets are the classic histogram buckets, in seconds, of every
// llmprobe duration histogram. Every SLO latency threshold must be one of
// them (slo tests check this), so that a latency SLI is an exact bucket read.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 30, 60, 120}

// PhaseBuckets are the classic buckets of the phase and edge-overhead
// histograms: a 1-2.5-5 ladder from 10 ms to 10 s, a subset of
// DurationBuckets that holds the shipped latency SLO threshold (10 s). No
// SLI reads a phase bucket (the latency SLIs read the probe duration's), so
// they need fewer: the degraded rule and the dashboards take the p95 from
// native buckets where Prometheus scrapes them, else by interpolating in
// these. With about three phases per check, 10 buckets instead of 16 are
// about 20 fewer series per check.
var PhaseBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Extra worker metrics beyond the contract: they explain gaps in it (a check
// that is backing off or out of budget runs no probes).
const (
	MetricProbesSkipped = "llmprobe_probes_skipped_total"
	// MetricProbesUnmeasured counts, by outcome, the probes that finished
	// while every control target failed from the region: its own network
	// was down, so they say nothing about the provider. The SLI rules
	// subtract them from llmprobe_probes_total.
	MetricProbesUnmeasured = "llmprobe_probes_unmeasured_total"
	MetricBackoff          = "llmprobe_backoff_remaining_seconds"
	MetricBudgetRemaining  = "llmprobe_budget_remaining"
	MetricScheduleLateness = "llmprobe_schedule_lateness_seconds"
	LabelSkipReason        = "reason"
	SkipReasonBackoff      = "backoff"
	SkipReasonBudget       = "budget"
	SkipReasonOverrun      = "overrun"
	ExemplarTraceIDLabel   = "trace_id"
)
