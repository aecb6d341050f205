package dashboards

import (
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/slo"
)

// ProviderDetail is one provider seen closely: where its time goes, why
// its probes fail, from which region, what its own status page says, and
// what probing it costs.
type ProviderDetail struct{ Options Options }

// providerFilter narrows probe series to the dashboard's variables: one
// provider, the selected checks and regions.
var providerFilter = []string{
	promql.Eq(probe.LabelProvider, ref(VarProvider)),
	promql.Re(probe.LabelCheck, ref(VarCheck)),
	promql.Re(probe.LabelRegion, ref(VarRegion)),
}

// providerRegionFilter is for the series with no check label.
var providerRegionFilter = []string{
	promql.Eq(probe.LabelProvider, ref(VarProvider)),
	promql.Re(probe.LabelRegion, ref(VarRegion)),
}

// Values of the direction and kind labels.
const (
	directionInput  = "input"
	directionOutput = "output"
	kindRequests    = "requests"
	kindTokens      = "tokens"
)

// Build builds the provider detail dashboard.
func (d ProviderDetail) Build() (dashboard.Dashboard, error) {
	o := d.Options.withDefaults()
	b := newDashboard(slo.DashboardProvider, "llmprobe / Provider detail",
		"One provider from every region: phase latencies, edge overhead, failures by reason, regions compared, its official status page beside what the probes measured, rate-limit headroom, tokens and cost.",
		"now-6h", ref(VarProvider)).
		WithVariable(labelVariable(VarProvider, "Provider", "The provider to show.", probe.MetricProbesTotal, false)).
		WithVariable(labelVariable(VarCheck, "Check", "Check kinds: reach (keyless), chat, stream.",
			promql.Sel(probe.MetricProbesTotal, promql.Eq(probe.LabelProvider, ref(VarProvider))), true)).
		WithVariable(labelVariable(VarRegion, "Region", "Regions with a worker.",
			promql.Sel(probe.MetricProbesTotal, promql.Eq(probe.LabelProvider, ref(VarProvider))), true)).
		WithVariable(textVariable(VarInputPrice, "Input USD / 1M tokens",
			"The price of a million input tokens of the provider's probe model, for the cost panel; 0 until you set it.", "0")).
		WithVariable(textVariable(VarOutputPrice, "Output USD / 1M tokens",
			"The price of a million output tokens of the provider's probe model, for the cost panel; 0 until you set it.", "0"))

	b = b.WithRow(row(slo.ProviderRowNow, "Now")).
		WithPanel(providerState()).
		WithPanel(providerAvailability()).
		WithPanel(providerBudget(o)).
		WithPanel(providerEdges())
	b = b.WithRow(row(slo.ProviderRowLatency, "Latency")).
		WithPanel(providerPhases(slo.ProviderPhaseP50, 0.5)).
		WithPanel(providerPhases(slo.ProviderPhaseP95, 0.95)).
		WithPanel(providerDurationVsSLO()).
		WithPanel(providerTTFBHeatmap()).
		WithPanel(providerEdgeOverhead()).
		WithPanel(providerSlowness(o))
	b = b.WithRow(row(slo.ProviderRowFailures, "Failures and regions")).
		WithPanel(providerFailuresByReason()).
		WithPanel(providerRegionAvailability()).
		WithPanel(providerRegionTTFB()).
		WithPanel(providerRegionTimeline())
	b = b.WithRow(row(slo.ProviderRowStatusPage, "Status page vs probes")).
		WithPanel(providerStatusPage()).
		WithPanel(providerProbeAvailability())
	b = b.WithRow(row(slo.ProviderRowQuota, "Quota and cost")).
		WithPanel(providerRateLimit()).
		WithPanel(providerBudgetLeft()).
		WithPanel(providerSkipped()).
		WithPanel(providerTokens()).
		WithPanel(providerTokensTotal()).
		WithPanel(providerCost())
	return b.Build()
}

// sloLinks lead from a panel to the provider's SLOs.
func sloLinks() []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{
		dashboardLink("SLOs", slo.DashboardSLO, "var-"+VarProvider+"=${"+VarProvider+"}", "${"+VarCheck+":queryparam}"),
		dashboardLink("Overview", slo.DashboardOverview, "var-"+VarProvider+"=${"+VarProvider+"}", "${"+VarRegion+":queryparam}"),
	}
}

func providerState() cog.Builder[dashboard.Panel] {
	return newStat(slo.ProviderState, "Last probe by region and check",
		"Whether each check's last probe succeeded, per region (llmprobe_check_success).",
		8, 6, instant("max by ("+promql.By(probe.LabelRegion, probe.LabelCheck)+") ("+promql.Sel(probe.MetricCheckSuccess, providerFilter...)+")",
			"{{"+probe.LabelRegion+"}} · {{"+probe.LabelCheck+"}}")).
		Mappings(upDownMappings("up", "down", "partial")).
		Links(sloLinks())
}

func providerAvailability() cog.Builder[dashboard.Panel] {
	return newStat(slo.ProviderAvailability, "Availability over the range",
		"Per check, successful probes over valid probes (every outcome but probe_error) over the dashboard's time range, selected regions together.",
		6, 6, instant(availabilityOverRange(providerFilter, probe.LabelCheck), "{{"+probe.LabelCheck+"}}")).
		Unit("percentunit").Decimals(2).
		Thresholds(availabilitySteps()).
		Links(sloLinks())
}

func providerBudget(o Options) cog.Builder[dashboard.Panel] {
	return newStat(slo.ProviderBudget, "Error budget left",
		"Per SLO, the share of the error budget of the SLO window ("+slo.FormatDuration(o.window())+") not yet spent; negative when overspent. The SLO dashboard shows the burn rates.",
		5, 6, instant(promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricBudgetRemaining, slo.OperationRatio),
			promql.Eq(probe.LabelProvider, ref(VarProvider)), promql.Re(probe.LabelCheck, ref(VarCheck))), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")).
		Unit("percentunit").Decimals(1).
		Thresholds(budgetSteps()).
		Links(sloLinks())
}

func providerEdges() cog.Builder[dashboard.Panel] {
	return newTable(slo.ProviderEdges, "CDN seen from each region",
		"The CDN in front of the provider as each region's worker last saw it (edge_provider_region:llmprobe_provider_info:max); none means the provider answers without a CDN.",
		5, 6, tableQuery(promql.Sel(slo.RecordName(slo.LevelEdgeProviderRegion, slo.MetricProviderInfo, slo.OperationMax), providerRegionFilter...))).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", probe.LabelProvider},
			map[string]string{probe.LabelEdge: "CDN"},
			[]string{probe.LabelRegion, probe.LabelEdge})).
		SortBy(sortBy(probe.LabelRegion))
}

// latencyPhases are the phases the latency panels show (transfer, the
// body's download, says little about the provider).
var latencyPhases = []string{probe.PhaseDNS, probe.PhaseConnect, probe.PhaseTLS, probe.PhaseTTFB, probe.PhaseTTFT}

func providerPhases(id uint32, q float64) cog.Builder[dashboard.Panel] {
	pct := "p" + promql.Num(q*100)
	return newTimeseries(id, "Phase latency "+pct,
		"The "+pct+" of each phase of the probes' exchange: dns, connect (TCP), tls (handshake), ttfb (request written to first response byte) and ttft (streams: to the first content token), from llmprobe_phase_duration_seconds. Slow dns, connect or tls point at the network or the edge; slow ttfb or ttft at the origin.",
		12, 8, series(quantile(q, probe.MetricPhaseDuration, promql.With(providerFilter, promql.Re(probe.LabelPhase, latencyPhases...)), probe.LabelPhase), "{{"+probe.LabelPhase+"}}")).
		Unit("s").Min(0)
}

func providerDurationVsSLO() cog.Builder[dashboard.Panel] {
	return newTimeseries(slo.ProviderDurationVsSLO, "Successful probe duration p95 vs the latency SLO",
		"The p95 of whole successful probes per check (llmprobe_probe_duration_seconds, outcome success), beside the latency SLO's threshold (dashed): the latency SLI counts the successful chat and stream probes under it.",
		8, 8,
		series(quantile(0.95, probe.MetricProbeDuration, promql.With(providerFilter, promql.Eq(probe.LabelOutcome, string(probe.OutcomeSuccess))), probe.LabelCheck), "{{"+probe.LabelCheck+"}} p95"),
		series(promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricLatencyThreshold, slo.OperationSeconds),
			promql.Eq(probe.LabelProvider, ref(VarProvider)), promql.Re(probe.LabelCheck, ref(VarCheck))), "{{"+probe.LabelCheck+"}} SLO threshold")).
		Unit("s").Min(0).
		OverrideByQuery("B", dashedLine())
}

func providerTTFBHeatmap() cog.Builder[dashboard.Panel] {
	return newHeatmap(slo.ProviderTTFBHeatmap, "Time to first byte",
		"How many probes had their first response byte within each histogram bucket, per interval (llmprobe_phase_duration_seconds, phase ttfb: its classic buckets where Prometheus keeps them, else its native histogram): a second band appearing is a slow edge or origin path.",
		8, 8, heatmapQuery(promql.HistogramIncrease(probe.MetricPhaseDuration, promql.With(providerFilter, promql.Eq(probe.LabelPhase, probe.PhaseTTFB)), rateInterval)))
}

func providerSlowness(o Options) cog.Builder[dashboard.Panel] {
	d := o.Spec.Degraded
	recent := slo.RecordName(slo.LevelProviderCheckPhaseRegion, slo.MetricPhaseP95, slo.OperationSeconds+slo.FormatDuration(time.Duration(d.Window)))
	baseline := slo.RecordName(slo.LevelProviderCheckPhaseRegion, slo.MetricPhaseP95, slo.OperationSeconds+slo.FormatDuration(time.Duration(d.Baseline)))
	filter := []string{promql.Eq(probe.LabelProvider, ref(VarProvider)), promql.Re(probe.LabelCheck, ref(VarCheck)), promql.Re(probe.LabelRegion, ref(VarRegion))}
	legend := "{{" + probe.LabelRegion + "}} {{" + probe.LabelCheck + "}} {{" + probe.LabelPhase + "}}"
	return newTimeseries(slo.ProviderSlowness, "Slow, not down: p95 against its usual",
		"The p95 time to first byte and, for streams, to first token over the last "+slo.FormatDuration(time.Duration(d.Window))+" per region (solid), against the same p95 over the "+slo.FormatDuration(time.Duration(d.Baseline))+" before (dashed). LLMProbeDegraded opens a ticket when the solid line reaches "+promql.Num(d.Factor)+" times the dashed one, and at least "+slo.FormatDuration(time.Duration(d.MinLatency))+", from two regions or more.",
		24, 8,
		series(promql.Sel(recent, filter...), legend),
		series(promql.Sel(baseline, filter...), legend+" usual")).
		Unit("s").Min(0).
		OverrideByQuery("B", dashedLine())
}

func providerEdgeOverhead() cog.Builder[dashboard.Panel] {
	return newTimeseries(slo.ProviderEdgeOverhead, "Edge overhead",
		"Time to first byte minus the processing time the origin reports (openai-processing-ms, Gemini's server-timing): the time spent in the CDN and on the way. Empty for providers that do not report it.",
		8, 8,
		series(quantile(0.5, probe.MetricEdgeOverhead, providerFilter, ""), "p50"),
		series(quantile(0.95, probe.MetricEdgeOverhead, providerFilter, ""), "p95")).
		Unit("s").Min(0).
		NoValue("The provider does not report its processing time")
}

func providerFailuresByReason() cog.Builder[dashboard.Panel] {
	failed := promql.SumBy(promql.By(probe.LabelOutcome, probe.LabelReason), promql.Increase(promql.Sel(probe.MetricProbesTotal,
		promql.With(providerFilter, promql.Ne(probe.LabelOutcome, string(probe.OutcomeSuccess)))...), rateInterval)) + " > 0"
	return bars(newTimeseries(slo.ProviderFailuresByReason, "Failed probes by outcome and reason",
		"Failed probes per interval by outcome (the layer blamed) and reason (README, Classification): edge_5xx and tls_handshake are the CDN, origin_5xx, overloaded and rate_limited the provider, dns and connect_* the network, and probe_error reasons (auth, quota, model_not_found, ...) the probe's own configuration, which LLMProbeMisconfigured reports.",
		12, 8, series(failed, "{{"+probe.LabelOutcome+"}} · {{"+probe.LabelReason+"}}"))).
		Unit("short").Decimals(0).Min(0)
}

func providerRegionAvailability() cog.Builder[dashboard.Panel] {
	return newTimeseries(slo.ProviderRegionAvail, "Availability per region (5m)",
		"Per region, successful over valid probes of the selected checks over 5 minutes, from the recorded counts. One region low while the others hold is that region's network or a regional edge (LLMProbeRegionalFailure), not the provider.",
		12, 8, series(recordedAvailability(providerFilter, probe.LabelRegion, 5*time.Minute), "{{"+probe.LabelRegion+"}}")).
		Unit("percentunit").Max(1)
}

func providerRegionTTFB() cog.Builder[dashboard.Panel] {
	return newTimeseries(slo.ProviderRegionTTFB, "Time to first byte p95 per region",
		"The p95 time to first byte per region: the distance to the provider's nearest edge, and regional slowness.",
		12, 8, series(quantile(0.95, probe.MetricPhaseDuration, promql.With(providerFilter, promql.Eq(probe.LabelPhase, probe.PhaseTTFB)), probe.LabelRegion), "{{"+probe.LabelRegion+"}}")).
		Unit("s").Min(0)
}

func providerRegionTimeline() cog.Builder[dashboard.Panel] {
	return newStateTimeline(slo.ProviderRegionTimeline, "Outcomes per region",
		"Per region, the worst outcome of the probes that finished in each interval, selected checks together.",
		12, 8, series(outcomeTimeline(providerFilter, probe.LabelRegion), "{{"+probe.LabelRegion+"}}")).
		Mappings(outcomeMappings())
}

func providerStatusPage() cog.Builder[dashboard.Panel] {
	return newStateTimeline(slo.ProviderStatusPage, "Official status page",
		"The provider's public status page, per component, as the workers read it (llmprobe_status_page_component_status, the worst any region saw): operational, degraded, partial outage, major outage. Compare its changes with the probes' panel beside it: the gap is how much earlier the probes saw the incident.",
		12, 7, series("max by ("+probe.LabelComponent+") ("+promql.Sel(probe.MetricStatusPageComponent, providerRegionFilter...)+")", "{{"+probe.LabelComponent+"}}")).
		Mappings([]dashboard.ValueMapping{
			valueText(0, "operational", colorGreen),
			valueText(1, "degraded", colorYellow),
			valueText(2, "partial outage", colorOrange),
			valueText(3, "major outage", colorRed),
		}).
		NoValue("Status pages are not polled (LLMPROBE_STATUS_PAGES=false) or the provider has none")
}

func providerProbeAvailability() cog.Builder[dashboard.Panel] {
	return newStateTimeline(slo.ProviderProbeAvail, "Probe-measured availability (5m)",
		"Per check, successful over valid probes over 5 minutes, selected regions together, coloured like the matrix on the overview: what the probes measured while the status page said what it said.",
		12, 7, series(recordedAvailability(providerFilter, probe.LabelCheck, 5*time.Minute), "{{"+probe.LabelCheck+"}}")).
		Unit("percentunit").Decimals(1).
		Thresholds(availabilitySteps()).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds))
}

func providerRateLimit() cog.Builder[dashboard.Panel] {
	remaining := func(kind string) *query {
		return series("min by ("+probe.LabelRegion+") ("+promql.Sel(probe.MetricRateLimitRemaining, promql.With(providerFilter, promql.Eq(probe.LabelKind, kind))...)+")",
			kind+" · {{"+probe.LabelRegion+"}}")
	}
	return newTimeseries(slo.ProviderRateLimit, "Rate-limit headroom",
		"Requests (left axis) and tokens (right axis) the provider says the probe's key has left in its current rate-limit window (x-ratelimit-remaining-*, anthropic-ratelimit-*). Near zero, the probe's own quota, not the provider, is about to fail the checks. Empty for providers that send no such headers.",
		8, 8, remaining(kindRequests), remaining(kindTokens)).
		Unit("short").Min(0).
		OverrideByQuery("B", []dashboard.DynamicConfigValue{{Id: "custom.axisPlacement", Value: string(common.AxisPlacementRight)}}).
		NoValue("The provider reports no rate-limit headroom")
}

func providerBudgetLeft() cog.Builder[dashboard.Panel] {
	return newTimeseries(slo.ProviderBudgetLeft, "Probe budget left today",
		"What is left of the probe's own daily budget for this provider's chat and stream checks (LLMPROBE_DAILY_REQUEST_BUDGET, LLMPROBE_DAILY_TOKEN_BUDGET), the lowest of the regions. At zero those checks pause until midnight UTC.",
		8, 8, series("min by ("+probe.LabelKind+") ("+promql.Sel(probe.MetricBudgetRemaining, providerRegionFilter...)+")", "{{"+probe.LabelKind+"}}")).
		Unit("short").Min(0)
}

func providerSkipped() cog.Builder[dashboard.Panel] {
	return bars(newTimeseries(slo.ProviderSkipped, "Skipped probes",
		"Scheduled probes not sent, by reason: backoff (after a 429 or 529 the check waits), budget (the daily budget is spent), overrun (the previous probe was still running). Skips explain gaps in the other panels.",
		8, 8, series(promql.SumBy(probe.LabelSkipReason, promql.Increase(promql.Sel(probe.MetricProbesSkipped, providerFilter...), rateInterval))+" > 0", "{{"+probe.LabelSkipReason+"}}"))).
		Unit("short").Decimals(0).Min(0)
}

func tokens(rng string, extra ...string) string {
	return promql.Increase(promql.Sel(probe.MetricTokensTotal, promql.With(providerFilter, extra...)...), rng)
}

func providerTokens() cog.Builder[dashboard.Panel] {
	return bars(newTimeseries(slo.ProviderTokens, "Tokens per interval",
		"Tokens billed to the probe per interval, input and output (llmprobe_tokens_total): chat and stream checks only.",
		12, 8, series(promql.SumBy(probe.LabelDirection, tokens(rateInterval)), "{{"+probe.LabelDirection+"}}"))).
		Unit("short").Min(0)
}

func providerTokensTotal() cog.Builder[dashboard.Panel] {
	return newStat(slo.ProviderTokensTotal, "Tokens over the range",
		"Tokens billed to the probe over the dashboard's time range, by direction.",
		6, 8, instant(promql.SumBy(probe.LabelDirection, tokens(rangeVar)), "{{"+probe.LabelDirection+"}}")).
		Unit("short").Decimals(0).
		ColorMode(common.BigValueColorModeNone)
}

func providerCost() cog.Builder[dashboard.Panel] {
	part := func(direction, price string) string {
		return "(" + promql.SumBy("", tokens(rangeVar, promql.Eq(probe.LabelDirection, direction))) + " or vector(0)) * " + ref(price) + " / 1e6"
	}
	return newStat(slo.ProviderCost, "Cost over the range",
		"What the probe's tokens over the dashboard's time range cost at the prices set in the dashboard's variables (USD per million input and output tokens; 0 until you set them).",
		6, 8, instant(part(directionInput, VarInputPrice)+"\n+\n"+part(directionOutput, VarOutputPrice), "cost")).
		Unit("currencyUSD").Decimals(4).
		ColorMode(common.BigValueColorModeNone)
}
