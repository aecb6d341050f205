package dashboards

import (
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/slo"
)

// Overview is the landing dashboard: what fires, which provider fails from
// where, which CDN is behind it, and one row per provider.
type Overview struct{ Options Options }

// overviewFilter narrows probe series to the dashboard's variables.
var overviewFilter = []string{
	promql.Re(probe.LabelProvider, ref(VarProvider)),
	promql.Re(probe.LabelCheck, ref(VarCheck)),
	promql.Re(probe.LabelRegion, ref(VarRegion)),
}

// Build builds the Overview dashboard.
func (d Overview) Build() (dashboard.Dashboard, error) {
	o := d.Options.withDefaults()
	b := newDashboard(slo.DashboardOverview, "llmprobe / Overview",
		"Are the LLM providers up, from where, and who fails when they are not: the CDN in front, the provider's origin, or the network. One row per provider below.",
		"now-6h", ref(VarProvider)).
		WithVariable(labelVariable(VarProvider, "Provider", "Providers the workers probe.", probe.MetricProbesTotal, true)).
		WithVariable(labelVariable(VarCheck, "Check", "Check kinds: reach (keyless), chat, stream.",
			promql.Sel(probe.MetricProbesTotal, promql.Re(probe.LabelProvider, ref(VarProvider))), true)).
		WithVariable(labelVariable(VarRegion, "Region", "Regions with a worker.", probe.MetricProbesTotal, true))

	b = b.WithRow(row(slo.OverviewRowNow, "Now")).
		WithPanel(overviewFiringAlerts()).
		WithPanel(overviewMatrix()).
		WithPanel(overviewWorkers(o)).
		WithPanel(overviewNetwork())
	b = b.WithRow(row(slo.OverviewRowEdges, "Shared edges")).
		WithPanel(overviewEdgeInventory()).
		WithPanel(overviewEdgeErrorRatio()).
		WithPanel(overviewEdgeProviders(o))
	b = b.WithRow(row(slo.OverviewRowProvider, ref(VarProvider)).Repeat(VarProvider)).
		WithPanel(overviewProviderState()).
		WithPanel(overviewProviderAvailability()).
		WithPanel(overviewProviderBudget(o)).
		WithPanel(overviewProviderLayers()).
		WithPanel(overviewProviderTimeline())
	return b.Build()
}

func overviewFiringAlerts() cog.Builder[dashboard.Panel] {
	return newTable(slo.OverviewFiringAlerts, "Firing alerts",
		"llmprobe alerts firing now (Prometheus's ALERTS series): burn-rate pages and tickets per provider, check and failing layer, shared-edge incidents, regional failures, workers down and probe misconfigurations. The SLO and provider dashboards show why.",
		12, 8, tableQuery(alertsSelector(slo.AlertNames(), promql.Re(probe.LabelProvider, ref(VarProvider)+"|")))).
		WithTransformation(organize(
			[]string{"Time", "Value", "__name__", labelAlertState},
			map[string]string{labelAlertName: "alert"},
			[]string{labelAlertName, slo.LabelSeverity, probe.LabelProvider, probe.LabelCheck, slo.LabelLayer, slo.LabelSLO, probe.LabelEdge, probe.LabelRegion, slo.LabelCause})).
		NoValue("No llmprobe alert is firing").
		Links([]cog.Builder[dashboard.DashboardLink]{dashboardLink("SLOs", slo.DashboardSLO, "${"+VarProvider+":queryparam}")})
}

func overviewMatrix() cog.Builder[dashboard.Panel] {
	return newTable(slo.OverviewMatrix, "Availability by provider and region, last hour",
		"Share of valid probes (every outcome but probe_error) that succeeded in the last hour, per provider (rows) and region (columns), from the recorded 1h counts. A red column is a region's problem (its network, or a regional edge); a red row is the provider's. Colours follow the default objectives: green from 99.9 %, yellow from 99.5 %, orange from 99 %.",
		12, 8, tableQuery(recordedAvailability(overviewFilter, promql.By(probe.LabelProvider, probe.LabelRegion), time.Hour))).
		WithTransformation(groupingToMatrix(probe.LabelProvider, probe.LabelRegion, "Value")).
		Unit("percentunit").Decimals(2).Min(0).Max(1).
		Thresholds(availabilitySteps()).
		CellOptions(cellColorBackground()).
		NoValue("No probes in the last hour").
		Links([]cog.Builder[dashboard.DashboardLink]{dashboardLink("Provider detail", slo.DashboardProvider, "${"+VarRegion+":queryparam}")})
}

func overviewWorkers(o Options) cog.Builder[dashboard.Panel] {
	stale := o.Spec.StaleAfter(o.Profile).Seconds()
	late := 2 * time.Duration(o.Spec.ProbeInterval).Seconds()
	return newStat(slo.OverviewWorkers, "Time since each region's last probe",
		"Seconds since the newest probe any check of the region finished (llmprobe_check_last_run_timestamp_seconds). Red from the staleness limit of LLMProbeWorkerDown: the worker, its scrape or its remote write is down, and the region is blind.",
		12, 4, instant("time() - max by ("+probe.LabelRegion+") ("+promql.Sel(probe.MetricCheckLastRun, promql.Re(probe.LabelRegion, ref(VarRegion)))+")", "{{"+probe.LabelRegion+"}}")).
		Unit("s").Decimals(0).
		Thresholds(thresholds(colorGreen, step{late, colorOrange}, step{stale, colorRed})).
		NoValue("No worker has reported")
}

func overviewNetwork() cog.Builder[dashboard.Panel] {
	return newStat(slo.OverviewNetwork, "Each region's network",
		"Whether at least one control target outside every LLM provider answers from the region (region:llmprobe_control_success:max). When none does, the region's failures are its own network's, not the providers': they do not count toward provider alerts.",
		12, 4, instant(promql.Sel(slo.RecordName(slo.LevelRegion, slo.MetricControlSuccess, slo.OperationMax), promql.Re(probe.LabelRegion, ref(VarRegion))), "{{"+probe.LabelRegion+"}}")).
		Mappings([]dashboard.ValueMapping{valueText(1, "network up", colorGreen), valueText(0, "network down", colorRed)}).
		NoValue("No control targets configured")
}

func overviewEdgeInventory() cog.Builder[dashboard.Panel] {
	return newTable(slo.OverviewEdgeInventory, "Which CDN fronts which provider",
		"The CDN in front of each provider as the workers see it (edge_provider:llmprobe_provider_info:count: the edge most regions report, with how many). 0 regions means no worker has reported yet and the catalog's edge is assumed. Providers behind one CDN fail together when it does.",
		6, 8, tableQuery(promql.Sel(slo.RecordName(slo.LevelEdgeProvider, slo.MetricProviderInfo, slo.OperationCount), promql.Re(probe.LabelProvider, ref(VarProvider))))).
		WithTransformation(organize(
			[]string{"Time", "__name__"},
			map[string]string{probe.LabelEdge: "CDN", "Value": "regions"},
			[]string{probe.LabelEdge, probe.LabelProvider, "Value"})).
		SortBy(sortBy("CDN"))
}

// edgeFailed is the edge layer's failed probes over 5m, summed by provider,
// from the region-level counts so that the region filter applies.
func edgeFailed() string {
	return promql.SumBy(probe.LabelProvider, promql.Sel(slo.IncreaseName(slo.LevelProviderCheckLayerRegion, slo.MetricProbesFailed, 5*time.Minute),
		promql.With(overviewFilter, promql.Eq(slo.LabelLayer, probe.OutcomeEdgeError.Layer()))...))
}

func overviewEdgeErrorRatio() cog.Builder[dashboard.Panel] {
	valid := promql.SumBy(probe.LabelProvider, promql.Sel(slo.IncreaseName(slo.LevelProviderCheckRegion, slo.MetricProbesValid, 5*time.Minute), overviewFilter...))
	return newTimeseries(slo.OverviewEdgeErrorRatio, "Edge-layer error ratio by provider and CDN (5m)",
		"Share of each provider's valid probes that failed at the edge (the CDN's own errors, TLS failures, resets before headers) over 5 minutes, labelled with the CDN in front. Several providers behind one CDN rising together is a shared-edge incident, not N provider outages.",
		10, 8, series(edgeOf("(\n"+edgeFailed()+"\n/\n"+valid+"\n)"), "{{"+probe.LabelEdge+"}} · {{"+probe.LabelProvider+"}}")).
		Unit("percentunit").Min(0)
}

func overviewEdgeProviders(o Options) cog.Builder[dashboard.Panel] {
	failing := "count by (" + probe.LabelEdge + ") (\n" + edgeOf("("+edgeFailed()+" > 0)", promql.Ne(probe.LabelEdge, slo.EdgeNone)) + "\n)"
	return thresholdLines(newTimeseries(slo.OverviewEdgeProviders, "Providers failing at the edge, per CDN",
		"How many providers behind each CDN had edge-layer failures in the last 5 minutes. LLMProbeSharedEdgeIncident pages when two or more fail together at a paging burn rate (red line): the CDN is failing, and the per-provider edge alerts are inhibited.",
		8, 8, series(failing, "{{"+probe.LabelEdge+"}}")),
		thresholds(colorGreen, step{2, colorRed})).
		Unit("short").Decimals(0).Min(0).AxisSoftMax(3)
}

// providerLinks lead from a provider row to the provider's detail and SLOs.
func providerLinks() []cog.Builder[dashboard.DashboardLink] {
	p := "var-" + VarProvider + "=${" + VarProvider + "}"
	return []cog.Builder[dashboard.DashboardLink]{
		dashboardLink("Provider detail", slo.DashboardProvider, p, "${"+VarCheck+":queryparam}", "${"+VarRegion+":queryparam}"),
		dashboardLink("SLOs", slo.DashboardSLO, p, "${"+VarCheck+":queryparam}"),
	}
}

func overviewProviderState() cog.Builder[dashboard.Panel] {
	return newStat(slo.OverviewProviderState, "State now",
		"Per check, the share of regions whose last probe succeeded (llmprobe_check_success): up in every region, down in every region, or partial.",
		4, 6, instant("avg by ("+probe.LabelCheck+") ("+promql.Sel(probe.MetricCheckSuccess, overviewFilter...)+")", "{{"+probe.LabelCheck+"}}")).
		Mappings(upDownMappings("up", "down", "partial")).
		Links(providerLinks())
}

func overviewProviderAvailability() cog.Builder[dashboard.Panel] {
	return newStat(slo.OverviewProviderAvail, "Availability over the range",
		"Per check, successful probes over valid probes (every outcome but probe_error, which is the probe's own fault) over the dashboard's time range, all selected regions together: the reachability SLI.",
		5, 6, instant(availabilityOverRange(overviewFilter, probe.LabelCheck), "{{"+probe.LabelCheck+"}}")).
		Unit("percentunit").Decimals(2).
		Thresholds(availabilitySteps()).
		Links(providerLinks())
}

func overviewProviderBudget(o Options) cog.Builder[dashboard.Panel] {
	return newStat(slo.OverviewProviderBudget, "Error budget left",
		"Per SLO (check and availability or latency), the share of the error budget of the SLO window ("+slo.FormatDuration(o.window())+") not yet spent: 1 - burn rate over the window. Negative when overspent.",
		5, 6, instant(promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricBudgetRemaining, slo.OperationRatio),
			promql.Re(probe.LabelProvider, ref(VarProvider)), promql.Re(probe.LabelCheck, ref(VarCheck))), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")).
		Unit("percentunit").Decimals(1).
		Thresholds(budgetSteps()).
		Links(providerLinks())
}

func overviewProviderLayers() cog.Builder[dashboard.Panel] {
	failed := promql.SumBy(slo.LabelLayer, promql.Sel(slo.IncreaseName(slo.LevelProviderCheckLayerRegion, slo.MetricProbesFailed, 5*time.Minute), overviewFilter...))
	valid := promql.SumBy("", promql.Sel(slo.IncreaseName(slo.LevelProviderCheckRegion, slo.MetricProbesValid, 5*time.Minute), overviewFilter...))
	return stacked(newTimeseries(slo.OverviewProviderLayers, "Error ratio by layer: edge vs origin (5m)",
		"Share of valid probes that failed over 5 minutes, stacked by the layer blamed: edge (the CDN in front), origin (the provider's servers) and network (the path from the probes). The stack's height is 1 - availability.",
		10, 6, series(failed+"\n/ ignoring ("+slo.LabelLayer+") group_left ()\n"+valid, "{{"+slo.LabelLayer+"}}"))).
		Unit("percentunit").Min(0).
		OverrideByName(probe.OutcomeEdgeError.Layer(), colorOverride(probe.OutcomeEdgeError.Style().Color)).
		OverrideByName(probe.OutcomeOriginError.Layer(), colorOverride(probe.OutcomeOriginError.Style().Color)).
		OverrideByName(probe.OutcomeNetworkError.Layer(), colorOverride(probe.OutcomeNetworkError.Style().Color)).
		Links(providerLinks())
}

func overviewProviderTimeline() cog.Builder[dashboard.Panel] {
	return newStateTimeline(slo.OverviewProviderTimeline, "Outcomes per region",
		"Per region, the worst outcome of the probes that finished in each interval, all selected checks together: success, probe error (fix the probe), network error, origin error, edge error. Empty: no probe finished.",
		24, 6, series(outcomeTimeline(overviewFilter, probe.LabelRegion), "{{"+probe.LabelRegion+"}}")).
		Mappings(outcomeMappings()).
		Links(providerLinks())
}
