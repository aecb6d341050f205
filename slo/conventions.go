package slo

import (
	"strings"
	"time"
)

// Recording rule names follow the Prometheus convention level:metric:operation.
//
//   - level lists the labels a series keeps, joined by "_": provider_check (summed over regions, the global view),
//     provider_check_region (one region's view), provider_check_layer and
//     provider_check_layer_region (the same split by the failing layer: edge,
//     origin, network), region, edge_provider and edge_provider_region.
//   - metric says what is counted or measured, always prefixed llmprobe_.
//   - operation is increase<W> for a count of probes over window W, ratio<W>
//     for a ratio of two counts over W (never an average of short ratios),
//     max, count, or a unit for constants (ratio, seconds).
//
// W is the window's name in the default profile (5m, 30m, 1h, 2h, 6h, 1d, 3d
// and the SLO window, 30d by default). The test profile compresses every
// range but keeps these names, so dashboards and alert queries read the same
// series in both profiles.
//
// Rule names (record names):
//
//	<L>:llmprobe_probes_valid:increase<W>      probes that count for availability: every outcome but probe_error
//	<L>:llmprobe_probes_success:increase<W>    successful probes (availability good events)
//	<L>:llmprobe_probes_failed:increase<W>     valid probes that failed (edge, origin or network)
//	<LL>:llmprobe_probes_failed:increase<W>    the same by layer (label layer)
//	<L>:llmprobe_sli_availability:ratio<W>     success / valid: the reachability SLI
//	<LL>:llmprobe_error_attribution:ratio<W>   failed at the layer / valid: the SLI's attribution to edge, origin, network
//	<L>:llmprobe_latency_valid:increase<W>     successful chat and stream probes (latency valid events)
//	<L>:llmprobe_latency_good:increase<W>      those that finished within the SLO's latency threshold
//	<L>:llmprobe_sli_latency:ratio<W>          latency good / latency valid
//	<L>:llmprobe_slo_burn_rate:ratio<W>        (1 - SLI) / (1 - objective), label slo (availability, latency)
//	provider_check_layer_region:llmprobe_slo_burn_rate:ratio<W>  error attribution / (1 - objective), slo="availability"
//	provider_check:llmprobe_check_success:max  1 when at least one region's last probe succeeded
//	provider_check:llmprobe_uptime:ratio<W>    share of evaluations in W where provider_check:llmprobe_check_success:max was 1: the uptime view
//	provider_check:llmprobe_slo_objective:ratio           the objective, labels slo
//	provider_check:llmprobe_slo_latency_threshold:seconds the latency SLO's threshold
//	provider_check:llmprobe_slo_error_budget_remaining:ratio  1 - burn rate over the SLO window (negative when overspent)
//	edge_provider_region:llmprobe_provider_info:max  the CDN in front of a provider as seen from a region
//	edge_provider:llmprobe_provider_info:count       the CDN seen from most regions (value: how many), the catalog's when no region reports
//	region:llmprobe_control_success:max              1 when at least one control target answers from the region
//	provider_check_layer_region:llmprobe_probes_failed:increase_fast  failed probes by layer over the fast page's window
//	provider_check_region:llmprobe_probes_failed:increase_fast        the same over every layer
//	provider_check_phase_region:llmprobe_phase_p95:seconds<W>  p95 of the ttfb and ttft phases over the degraded window and its baseline
//
// Every count of a region's probes leaves out the probes that finished
// while the region's own network was down (llmprobe_probes_unmeasured_total):
// they say nothing about the provider and spend no error budget. The fast
// window is providerDown.window probe intervals (4m by default); it is
// named "fast" because its length follows the probe interval, not the
// profile.
//
// where <L> is provider_check or provider_check_region and <LL> is
// provider_check_layer or provider_check_layer_region.

// Levels: the labels a recorded series keeps.
const (
	LevelProviderCheck            = "provider_check"
	LevelProviderCheckRegion      = "provider_check_region"
	LevelProviderCheckLayer       = "provider_check_layer"
	LevelProviderCheckLayerRegion = "provider_check_layer_region"
	LevelRegion                   = "region"
	LevelEdgeProvider             = "edge_provider"
	LevelEdgeProviderRegion       = "edge_provider_region"
	LevelProviderCheckPhaseRegion = "provider_check_phase_region"
)

// Recorded metric names (the middle part of a rule name).
const (
	MetricProbesValid      = "llmprobe_probes_valid"
	MetricProbesSuccess    = "llmprobe_probes_success"
	MetricProbesFailed     = "llmprobe_probes_failed"
	MetricSLIAvailability  = "llmprobe_sli_availability"
	MetricErrorAttribution = "llmprobe_error_attribution"
	MetricLatencyValid     = "llmprobe_latency_valid"
	MetricLatencyGood      = "llmprobe_latency_good"
	MetricSLILatency       = "llmprobe_sli_latency"
	MetricBurnRate         = "llmprobe_slo_burn_rate"
	MetricCheckSuccess     = "llmprobe_check_success"
	MetricUptime           = "llmprobe_uptime"
	MetricObjective        = "llmprobe_slo_objective"
	MetricLatencyThreshold = "llmprobe_slo_latency_threshold"
	MetricBudgetRemaining  = "llmprobe_slo_error_budget_remaining"
	MetricProviderInfo     = "llmprobe_provider_info"
	MetricControlSuccess   = "llmprobe_control_success"
	MetricPhaseP95         = "llmprobe_phase_p95"
	OperationIncrease      = "increase"
	OperationIncreaseFast  = "increase_fast"
	OperationRatio         = "ratio"
	OperationMax           = "max"
	OperationCount         = "count"
	OperationSeconds       = "seconds"
)

// Labels added by the rules (the probe's own labels are in probe/names.go).
const (
	LabelLayer    = "layer"
	LabelSLO      = "slo"
	LabelSeverity = "severity"
	LabelCause    = "cause"
)

// Values of the slo, severity and cause labels.
const (
	SLOAvailability = "availability"
	SLOLatency      = "latency"

	SeverityPage   = "page"
	SeverityTicket = "ticket"

	// CauseNetwork: no control target answers from the region, so the
	// probe's own network path is at fault.
	CauseNetwork = "network"
	// CauseProviders: provider checks fail from this region only while the
	// region's control targets answer.
	CauseProviders = "providers"
)

// EdgeNone is the edge label value of a provider with no CDN in front of it
// (contract: DESIGN.md, `llmprobe check`).
const EdgeNone = "none"

// Alert names (contract: DESIGN.md, SLOs and alerts).
const (
	AlertErrorBudgetBurn    = "LLMProbeErrorBudgetBurn"
	AlertLatencyBudgetBurn  = "LLMProbeLatencyBudgetBurn"
	AlertSharedEdgeIncident = "LLMProbeSharedEdgeIncident"
	AlertRegionalFailure    = "LLMProbeRegionalFailure"
	AlertWorkerDown         = "LLMProbeWorkerDown"
	AlertMisconfigured      = "LLMProbeMisconfigured"
	AlertProviderDown       = "LLMProbeProviderDown"
	AlertDegraded           = "LLMProbeDegraded"
)

// AlertNames lists every alert in the order the rule file holds them.
func AlertNames() []string {
	return []string{
		AlertErrorBudgetBurn, AlertLatencyBudgetBurn, AlertSharedEdgeIncident,
		AlertRegionalFailure, AlertWorkerDown, AlertMisconfigured,
		AlertProviderDown, AlertDegraded,
	}
}

// Annotation keys of every alert.
const (
	AnnotationSummary      = "summary"
	AnnotationDescription  = "description"
	AnnotationRunbookURL   = "runbook_url"
	AnnotationDashboardURL = "dashboard_url"
)

// Rule group names, in evaluation order.
const (
	// GroupSLI records SLO metadata, the inventory series and every SLI
	// window up to 6h; GroupSLILong the windows from 1d up, less often.
	GroupSLI     = "llmprobe-sli"
	GroupSLILong = "llmprobe-sli-long"
	GroupAlerts  = "llmprobe-alerts"
	// GroupFast records the fast page's window on its own, shorter
	// interval; GroupFastAlerts evaluates the alerts that read it
	// (LLMProbeProviderDown, LLMProbeSharedEdgeIncident) on the same one.
	GroupFast       = "llmprobe-fast"
	GroupFastAlerts = "llmprobe-fast-alerts"
)

// Grafana dashboard UIDs the alerts link to (the dashboards package builds
// dashboards with these UIDs).
const (
	DashboardOverview = "llmprobe-overview"
	DashboardProvider = "llmprobe-provider"
	DashboardSLO      = "llmprobe-slo"
)

// DatasourceUID is the UID of the Prometheus datasource that the dashboards
// and the Grafana-managed alert rules query. The Grafana provisioning that
// `llmprobe generate` writes creates it; a Grafana that already has a
// Prometheus can provision the same UID pointing at it.
const DatasourceUID = "llmprobe-prometheus"

// Paths of the generated files, relative to the output directory (deploy/).
const (
	FileSLIRules     = "prometheus/rules/llmprobe-sli.rules.yml"
	FileAlertRules   = "prometheus/rules/llmprobe-alerts.rules.yml"
	FileAlertmanager = "alertmanager/alertmanager.yml"
	// FileAlertmanagerSubtree is the same routing as a route subtree,
	// inhibit rules and receivers to merge into an existing Alertmanager.
	FileAlertmanagerSubtree = "alertmanager/llmprobe-subtree.yml"
	FilePrometheusRule      = "kubernetes/central/prometheusrule.yaml"
)

// PrometheusRuleName is the metadata.name of the generated PrometheusRule.
const PrometheusRuleName = "llmprobe-slo"

// Receiver names in the Alertmanager configuration.
const (
	ReceiverPage   = "llmprobe-page"
	ReceiverTicket = "llmprobe-ticket"
)

// APIVersion is the only accepted apiVersion of an SLO spec file.
const APIVersion = "llmprobe/v1"

// RecordName joins a rule name from its level, metric and operation.
func RecordName(level, metric, operation string) string {
	return level + ":" + metric + ":" + operation
}

// IncreaseName is the name of a probe count over window w (a nominal window).
func IncreaseName(level, metric string, w time.Duration) string {
	return RecordName(level, metric, OperationIncrease+FormatDuration(w))
}

// RatioName is the name of a ratio of two counts over window w.
func RatioName(level, metric string, w time.Duration) string {
	return RecordName(level, metric, OperationRatio+FormatDuration(w))
}

// RunbookURL is the README section for an alert: base + "#" + the heading's
// GitHub anchor (the alert name in lower case, heading "### <alert>").
func RunbookURL(base, alert string) string {
	return strings.TrimSuffix(base, "/") + "#" + strings.ToLower(alert)
}

// DashboardURL links a Grafana dashboard by UID, with an optional query
// ("var-provider=...").
func DashboardURL(grafana, uid, query string) string {
	u := strings.TrimSuffix(grafana, "/") + "/d/" + uid
	if query != "" {
		u += "?" + query
	}
	return u
}
