package slo

// Panel IDs. They are part of each dashboard's contract: alert rules (the
// Grafana-managed rules, and anyone's bookmarks) link to a panel
// by dashboard UID and panel ID (/d/<uid>?viewPanel=<id>), so an ID never
// changes meaning and is never reused; a new panel takes a new number.
// Rows have IDs too. Repeated rows (one per provider) repeat the panels
// below: Grafana gives the copies new IDs, the first copy keeps these, and a
// link with var-provider=<one provider> shows exactly that first copy.
// The golden files and TestPanelIDsAreTheDocumentedOnes keep this list and
// the dashboards in step.

// Overview (DashboardOverview).
const (
	OverviewRowNow           uint32 = 1  // row: Now
	OverviewFiringAlerts     uint32 = 2  // table: firing llmprobe alerts (ALERTS)
	OverviewMatrix           uint32 = 3  // table: availability by provider and region, last hour
	OverviewWorkers          uint32 = 4  // stat: time since each region's last probe
	OverviewNetwork          uint32 = 5  // stat: each region's network (control targets)
	OverviewRowEdges         uint32 = 6  // row: Shared edges
	OverviewEdgeInventory    uint32 = 7  // table: which CDN fronts which provider
	OverviewEdgeErrorRatio   uint32 = 8  // time series: edge-layer error ratio per provider, labelled with its CDN
	OverviewEdgeProviders    uint32 = 9  // time series: providers failing at the edge, per CDN
	OverviewRowProvider      uint32 = 10 // row: $provider (repeated per provider)
	OverviewProviderState    uint32 = 11 // stat: last probe state per check
	OverviewProviderAvail    uint32 = 12 // stat: availability over the range per check
	OverviewProviderBudget   uint32 = 13 // stat: error budget left per SLO
	OverviewProviderLayers   uint32 = 14 // time series: error ratio by layer (edge, origin, network), stacked
	OverviewProviderTimeline uint32 = 15 // state timeline: outcomes per region
)

// Provider detail (DashboardProvider).
const (
	ProviderRowNow           uint32 = 1  // row: Now
	ProviderState            uint32 = 2  // stat: last probe state by region and check
	ProviderAvailability     uint32 = 3  // stat: availability over the range per check
	ProviderBudget           uint32 = 4  // stat: error budget left per SLO
	ProviderEdges            uint32 = 5  // table: the CDN seen from each region
	ProviderRowLatency       uint32 = 6  // row: Latency
	ProviderPhaseP50         uint32 = 7  // time series: phase latency p50 (dns, connect, tls, ttfb, ttft)
	ProviderPhaseP95         uint32 = 8  // time series: phase latency p95
	ProviderDurationVsSLO    uint32 = 9  // time series: successful probe duration p95 per check against the latency SLO threshold
	ProviderTTFBHeatmap      uint32 = 10 // heatmap: time to first byte
	ProviderEdgeOverhead     uint32 = 11 // time series: edge overhead p50, p95
	ProviderRowFailures      uint32 = 12 // row: Failures and regions
	ProviderFailuresByReason uint32 = 13 // time series: failed probes by outcome and reason
	ProviderRegionAvail      uint32 = 14 // time series: availability per region (5m)
	ProviderRegionTTFB       uint32 = 15 // time series: TTFB p95 per region
	ProviderRegionTimeline   uint32 = 16 // state timeline: outcomes per region
	ProviderRowStatusPage    uint32 = 17 // row: Status page vs probes
	ProviderStatusPage       uint32 = 18 // state timeline: the official status page's components
	ProviderProbeAvail       uint32 = 19 // state timeline: probe-measured availability per check (5m)
	ProviderRowQuota         uint32 = 20 // row: Quota and cost
	ProviderRateLimit        uint32 = 21 // time series: rate-limit headroom the provider reports
	ProviderBudgetLeft       uint32 = 22 // time series: the probe's own daily budget left
	ProviderSkipped          uint32 = 23 // time series: probes skipped (back-off, budget, overrun)
	ProviderTokens           uint32 = 24 // time series: tokens per interval by direction
	ProviderTokensTotal      uint32 = 25 // stat: tokens over the range by direction
	ProviderCost             uint32 = 26 // stat: cost over the range
	ProviderSlowness         uint32 = 27 // time series: p95 ttfb and ttft per region against its own day-long baseline (LLMProbeDegraded)
)

// SLOs (DashboardSLO).
const (
	SLORowSummary     uint32 = 1  // row: All SLOs
	SLOSummary        uint32 = 2  // table: objective, SLI, budget left, burn rate, time to exhaustion per SLO
	SLORowProvider    uint32 = 3  // row: $provider (repeated per provider)
	SLOObjective      uint32 = 4  // stat: objectives
	SLOSLI            uint32 = 5  // stat: SLI over the SLO window
	SLOBudget         uint32 = 6  // bar gauge: error budget left
	SLOExhaustion     uint32 = 7  // stat: time to exhaustion at the last hour's burn rate
	SLOBurnAvail      uint32 = 8  // time series: availability burn rate per window, alert thresholds drawn
	SLOBurnLatency    uint32 = 9  // time series: latency burn rate per window, alert thresholds drawn
	SLOBudgetOverTime uint32 = 10 // time series: error budget left over time
	SLOAvailSLI       uint32 = 11 // time series: availability SLI over 1h, 1d and the SLO window, with the objective
	SLOLatencySLI     uint32 = 12 // time series: latency SLI over 1h, 1d and the SLO window, with the objective
)

// PanelRef is a panel of a dashboard, as a link names it.
type PanelRef struct {
	DashboardUID string
	PanelID      uint32
}

// AlertPanel is the panel an alert's link opens: the picture that shows
// what the alert measures. It covers every name in AlertNames; labels
// are the rule's static labels (the regional alert's cause picks between
// the region matrix and the network panel).
func AlertPanel(alert string, labels map[string]string) (PanelRef, bool) {
	switch alert {
	case AlertErrorBudgetBurn:
		return PanelRef{DashboardSLO, SLOBurnAvail}, true
	case AlertLatencyBudgetBurn:
		return PanelRef{DashboardSLO, SLOBurnLatency}, true
	case AlertSharedEdgeIncident:
		return PanelRef{DashboardOverview, OverviewEdgeProviders}, true
	case AlertRegionalFailure:
		if labels[LabelCause] == CauseNetwork {
			return PanelRef{DashboardOverview, OverviewNetwork}, true
		}
		return PanelRef{DashboardOverview, OverviewMatrix}, true
	case AlertWorkerDown:
		return PanelRef{DashboardOverview, OverviewWorkers}, true
	case AlertMisconfigured, AlertProviderDown:
		return PanelRef{DashboardProvider, ProviderFailuresByReason}, true
	case AlertDegraded:
		return PanelRef{DashboardProvider, ProviderSlowness}, true
	}
	return PanelRef{}, false
}
