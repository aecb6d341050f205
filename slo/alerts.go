package slo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
)

// alertGroup builds every alerting rule (contract: DESIGN.md, SLOs and
// alerts). The burn-rate alerts fire on the recorded burn rates of the
// global view (summed over regions) and need:
//
//   - the burn above the factor over both the long and the short window;
//   - at least MinFailedProbes failed probes in the long window;
//   - the burn seen from at least Quorum regions, not counting regions
//     whose control targets all fail (their own network is down): fewer is
//     LLMProbeRegionalFailure;
//   - for availability, one alert per layer that holds at least a third of
//     the failed probes in the long window (one layer always does) and at
//     least MinFailedProbes of them, so the layer label says who fails.
//
// Both conditions of a severity are one rule joined by `or`, so a page is one
// alert whichever condition holds. Every per-provider alert carries the edge
// label (the CDN in front of the provider) so Alertmanager can inhibit it
// with a shared-edge incident on the same edge.
func (b *builder) alertGroup() RuleGroup {
	g := RuleGroup{Name: GroupAlerts, Interval: FormatDuration(b.profile.ScaleAtLeast(30*time.Second, time.Second))}
	for _, sev := range Severities() {
		g.Rules = append(g.Rules, b.errorBudgetBurn(sev))
	}
	if b.hasLatency() {
		for _, sev := range Severities() {
			g.Rules = append(g.Rules, b.latencyBudgetBurn(sev))
		}
	}
	g.Rules = append(g.Rules,
		b.regionalFailureProviders(),
		b.regionalFailureNetwork(),
		b.workerDown(),
		b.misconfigured(),
		b.degraded(),
	)
	return g
}

// factor is the burn-rate threshold of a condition, as written in PromQL.
func (b *builder) factor(bw BurnWindow) string {
	return promql.Num(bw.Factor(time.Duration(b.spec.Window)))
}

func (b *builder) minFailed() string { return strconv.Itoa(b.spec.MinFailedProbes) }

// networkDown selects the regions whose control targets all fail.
func networkDown() string {
	return RecordName(LevelRegion, MetricControlSuccess, OperationMax) + " == 0"
}

// failedCount is the number of failed probes of an SLI over w at a level:
// failed valid probes for availability, slow successes for latency.
func failedCount(sli, level string, w time.Duration) string {
	if sli == SLOLatency {
		return "(" + IncreaseName(level, MetricLatencyValid, w) + " - " + IncreaseName(level, MetricLatencyGood, w) + ")"
	}
	return IncreaseName(level, MetricProbesFailed, w)
}

// burnAbove writes "burn rate over w > factor" at a level.
func (b *builder) burnAbove(level, sli string, w time.Duration, bw BurnWindow, extra ...string) string {
	return promql.Sel(RatioName(level, MetricBurnRate, w), append(extra, promql.Eq(LabelSLO, sli))...) + " > " + b.factor(bw)
}

// regionBurning selects, per provider, check and region, the regions where
// the SLO burns under bw, leaving out regions whose own network is down.
func (b *builder) regionBurning(sli string, bw BurnWindow, withMinFailed bool) string {
	ls := []string{
		b.burnAbove(LevelProviderCheckRegion, sli, bw.Long, bw),
		"and on (" + byProviderCheckRegion + ")",
		b.burnAbove(LevelProviderCheckRegion, sli, bw.Short, bw),
	}
	if withMinFailed {
		ls = append(ls, "and on ("+byProviderCheckRegion+")", failedCount(sli, LevelProviderCheckRegion, bw.Long)+" >= "+b.minFailed())
	}
	ls = append(ls, "unless on ("+probe.LabelRegion+")", networkDown())
	return promql.Lines(ls...)
}

// quorum selects the provider checks whose SLO burns under bw from at least
// Quorum regions.
func (b *builder) quorum(sli string, bw BurnWindow) string {
	return promql.Call("count by ("+byProviderCheck+")", b.regionBurning(sli, bw, false)) + " >= " + strconv.Itoa(b.spec.Quorum())
}

// globalBurning selects the provider checks whose SLO burns under bw: over
// both windows, with enough failed probes, from enough regions. Its value
// is the burn rate over the long window.
func (b *builder) globalBurning(sli string, bw BurnWindow) string {
	return promql.Lines(
		b.burnAbove(LevelProviderCheck, sli, bw.Long, bw),
		"and on ("+byProviderCheck+")",
		b.burnAbove(LevelProviderCheck, sli, bw.Short, bw),
		"and on ("+byProviderCheck+")",
		failedCount(sli, LevelProviderCheck, bw.Long)+" >= "+b.minFailed(),
		"and on ("+byProviderCheck+")",
		b.quorum(sli, bw),
	)
}

// layerShare is 1 for each layer holding at least a third of a provider
// check's failed probes over w, and at least MinFailedProbes of them.
func (b *builder) layerShare(w time.Duration) string {
	layerFailed := IncreaseName(LevelProviderCheckLayer, MetricProbesFailed, w)
	return promql.Block(
		layerFailed+" >= "+b.minFailed(),
		"and on ("+byProviderCheckLayer+")",
		layerFailed+" * "+strconv.Itoa(len(failureOutcomes())),
		"  >= on ("+byProviderCheck+") group_left ()",
		IncreaseName(LevelProviderCheck, MetricProbesFailed, w),
	) + " > bool 0"
}

// withEdge adds the edge label of the provider to a per-provider expression.
func withEdge(expr string, edgeMatchers ...string) string {
	return promql.Lines(
		expr,
		"+ on ("+probe.LabelProvider+") group_left ("+probe.LabelEdge+")",
		"(0 * "+promql.Sel(RecordName(LevelEdgeProvider, MetricProviderInfo, OperationCount), edgeMatchers...)+")",
	)
}

// orAll joins alternatives with `or on (labels)`, each in parentheses.
func orAll(on string, alternatives ...string) string {
	var ls []string
	for i, a := range alternatives {
		if i > 0 {
			ls = append(ls, "or on ("+on+")")
		}
		ls = append(ls, promql.Block(a))
	}
	return promql.Lines(ls...)
}

func (b *builder) errorBudgetBurn(severity string) Rule {
	var alts []string
	for _, bw := range BurnWindowsFor(severity) {
		alts = append(alts, promql.Lines(
			promql.Block(b.globalBurning(SLOAvailability, bw)),
			"* on ("+byProviderCheck+") group_right ()",
			promql.Block(b.layerShare(bw.Long)),
		))
	}
	return Rule{
		Alert:  AlertErrorBudgetBurn,
		Expr:   withEdge(promql.Block(orAll(byProviderCheckLayer, alts...))),
		Labels: map[string]string{LabelSeverity: severity, LabelSLO: SLOAvailability},
		Annotations: b.annotations(AlertErrorBudgetBurn,
			fmt.Sprintf("{{ $labels.provider }} {{ $labels.check }}: {{ $labels.layer }} failures burn the availability error budget, seen from %s",
				listTemplate(
					promql.Sel(IncreaseName(LevelProviderCheckLayerRegion, MetricProbesFailed, regionSummaryWindow(severity)), "provider=%q", "check=%q", "layer=%q")+" > 0",
					"$labels.provider $labels.check $labels.layer", "{{ $s.Labels.region }}", "no region in the last "+b.profile.Range(regionSummaryWindow(severity)), probe.LabelRegion)),
			fmt.Sprintf("Probes of {{ $labels.provider }} {{ $labels.check }} fail at the {{ $labels.layer }} layer (%s) and burn the availability error budget (objective %s of valid probes over %s) {{ printf \"%%.1f\" $value }} times as fast as the SLO allows. %s Edge: {{ $labels.edge }}.",
				layerWords(), objectiveTemplate(SLOAvailability, "humanizePercentage"), b.profile.Range(time.Duration(b.spec.Window)), b.conditionWords(severity, SLOAvailability)),
			DashboardURL(b.spec.Links.Grafana, DashboardSLO, "var-provider={{ $labels.provider }}&var-check={{ $labels.check }}"),
		),
	}
}

func (b *builder) latencyBudgetBurn(severity string) Rule {
	var alts []string
	for _, bw := range BurnWindowsFor(severity) {
		alts = append(alts, b.globalBurning(SLOLatency, bw))
	}
	w := regionSummaryWindow(severity)
	return Rule{
		Alert: AlertLatencyBudgetBurn,
		Expr:  withEdge(promql.Block(orAll(byProviderCheck, alts...))),
		// The latency SLI times successful probes, whose time is mostly the
		// provider's own: the layer is origin. The provider dashboard's
		// phase panels show when DNS, connect or TLS are slow instead.
		Labels: map[string]string{LabelSeverity: severity, LabelSLO: SLOLatency, LabelLayer: probe.OutcomeOriginError.Layer()},
		Annotations: b.annotations(AlertLatencyBudgetBurn,
			// $labels holds the expression's labels only, not the rule's
			// static layer: name it here.
			fmt.Sprintf("{{ $labels.provider }} {{ $labels.check }}: %s responses slower than %s burn the latency error budget, seen from %s",
				probe.OutcomeOriginError.Layer(), thresholdTemplate(),
				listTemplate(
					promql.Sel(IncreaseName(LevelProviderCheckRegion, MetricLatencyValid, w), "provider=%[1]q", "check=%[2]q")+
						" - "+promql.Sel(IncreaseName(LevelProviderCheckRegion, MetricLatencyGood, w), "provider=%[1]q", "check=%[2]q")+" > 0",
					"$labels.provider $labels.check", "{{ $s.Labels.region }}", "no region in the last "+b.profile.Range(w), probe.LabelRegion)),
			fmt.Sprintf("Successful {{ $labels.provider }} {{ $labels.check }} probes take longer than %s too often: the latency error budget (objective %s within %s over %s) burns {{ printf \"%%.1f\" $value }} times as fast as the SLO allows. %s The layer is origin because the SLI times successful probes; the provider dashboard's phase panels show whether DNS, connect or TLS are slow instead.",
				thresholdTemplate(), objectiveTemplate(SLOLatency, "humanizePercentage"), thresholdTemplate(), b.profile.Range(time.Duration(b.spec.Window)), b.conditionWords(severity, SLOLatency)),
			DashboardURL(b.spec.Links.Grafana, DashboardSLO, "var-provider={{ $labels.provider }}&var-check={{ $labels.check }}"),
		),
	}
}

// sharedEdgeIncident fires when two or more providers behind one CDN fail
// at the edge layer, each from Quorum regions: failing now (the fast
// window, as LLMProbeProviderDown reads it), or at a paging burn rate. It
// lives in the fast group.
func (b *builder) sharedEdgeIncident() Rule {
	var alts []string
	for _, bw := range BurnWindowsFor(SeverityPage) {
		alts = append(alts, promql.Lines(
			b.burnAbove(LevelProviderCheckLayerRegion, SLOAvailability, bw.Long, bw, promql.Eq(LabelLayer, "edge")),
			"and on ("+byProviderCheckLayerRegion+")",
			b.burnAbove(LevelProviderCheckLayerRegion, SLOAvailability, bw.Short, bw, promql.Eq(LabelLayer, "edge")),
			"and on ("+byProviderCheck+")",
			promql.Sel(IncreaseName(LevelProviderCheckLayer, MetricProbesFailed, bw.Long), promql.Eq(LabelLayer, "edge"))+" >= "+b.minFailed(),
		))
	}
	perRegion := promql.Call("max by ("+promql.By(probe.LabelProvider, probe.LabelRegion)+")", promql.Lines(
		promql.Block(promql.Lines(promql.Block(alts[0]), "or", promql.Block(alts[1]))),
		"unless on ("+probe.LabelRegion+")",
		networkDown(),
	))
	burning := promql.Call("count by ("+promql.By(probe.LabelEdge, probe.LabelProvider)+")", withEdge(perRegion, promql.Ne(probe.LabelEdge, EdgeNone))) +
		" >= " + strconv.Itoa(b.spec.Quorum())
	failingNow := promql.Call("count by ("+promql.By(probe.LabelEdge, probe.LabelProvider)+")",
		withEdge(promql.Block(b.fastDown(promql.Eq(LabelLayer, probe.OutcomeEdgeError.Layer()))), promql.Ne(probe.LabelEdge, EdgeNone)))
	providers := promql.Lines(promql.Block(failingNow), "or", promql.Block(burning))
	edgeOf := "(0 * " + promql.Sel(RecordName(LevelEdgeProvider, MetricProviderInfo, OperationCount), "edge=%[1]q") + ")"
	w := regionSummaryWindow(SeverityPage)
	return Rule{
		Alert:  AlertSharedEdgeIncident,
		Expr:   promql.Call("count by ("+probe.LabelEdge+")", providers) + " >= 2",
		Labels: map[string]string{LabelSeverity: SeverityPage},
		Annotations: b.annotations(AlertSharedEdgeIncident,
			fmt.Sprintf("{{ $labels.edge }} edge incident: {{ $value }} providers fail at the edge together (%s), seen from %s",
				listTemplate(
					"count by (provider) (("+promql.Sel(IncreaseName(LevelProviderCheckLayer, MetricProbesFailed, w), promql.Eq(LabelLayer, "edge"))+" > 0) + on (provider) group_left (edge) "+edgeOf+")",
					"$labels.edge", "{{ $s.Labels.provider }}", "none in the last "+b.profile.Range(w), probe.LabelProvider),
				listTemplate(
					"count by (region) (("+promql.Sel(IncreaseName(LevelProviderCheckLayerRegion, MetricProbesFailed, w), promql.Eq(LabelLayer, "edge"))+" > 0) + on (provider) group_left (edge) "+edgeOf+")",
					"$labels.edge", "{{ $s.Labels.region }}", "no region in the last "+b.profile.Range(w), probe.LabelRegion)),
			fmt.Sprintf("Two or more providers behind {{ $labels.edge }} fail at the edge layer (the CDN's own errors, TLS and connection resets), each from at least %d regions, failing now (%d failed probes in the last %s) or at a paging burn rate: the CDN is failing, not each provider. Their per-provider edge pages are inhibited while this fires; check the CDN's status page and fail over to providers behind another edge.",
				b.spec.Quorum(), b.spec.ProviderDown.MinFailedProbes, FormatDuration(b.spec.FastWindow())),
			DashboardURL(b.spec.Links.Grafana, DashboardOverview, ""),
		),
	}
}

// regionalFailureProviders fires for a region that sees provider checks
// burn at a paging rate while fewer than Quorum regions do, so no provider
// alert pages. Its value is how many checks.
func (b *builder) regionalFailureProviders() Rule {
	var alts []string
	for _, bw := range BurnWindowsFor(SeverityPage) {
		alts = append(alts, promql.Lines(
			b.regionBurning(SLOAvailability, bw, true),
			"unless on ("+byProviderCheck+")",
			promql.Block(b.quorum(SLOAvailability, bw)),
		))
	}
	w := regionSummaryWindow(SeverityPage)
	return Rule{
		Alert: AlertRegionalFailure,
		Expr: promql.Call("count by ("+probe.LabelRegion+")",
			promql.Call("max by ("+byProviderCheckRegion+")", promql.Lines(promql.Block(alts[0]), "or", promql.Block(alts[1])))),
		For:    FormatDuration(b.profile.Scale(5 * time.Minute)),
		Labels: map[string]string{LabelSeverity: SeverityTicket, LabelCause: CauseProviders},
		Annotations: b.annotations(AlertRegionalFailure,
			fmt.Sprintf("{{ $labels.region }}: {{ $value }} provider check(s) fail from this region only (failures here in the last %s: %s)", b.profile.Range(w),
				listTemplate(promql.Sel(IncreaseName(LevelProviderCheckRegion, MetricProbesFailed, w), "region=%q")+" > 0",
					"$labels.region", "{{ $s.Labels.provider }}/{{ $s.Labels.check }}", "none", probe.LabelCheck, probe.LabelProvider)),
			fmt.Sprintf("Probes from {{ $labels.region }} burn the availability budget of these checks at a paging rate while fewer than %d regions see it, so no provider alert pages. The region's control targets answer, so its network is up: suspect a regional provider or CDN problem, or the path from this region (peering, DNS).",
				b.spec.Quorum()),
			DashboardURL(b.spec.Links.Grafana, DashboardOverview, "var-region={{ $labels.region }}"),
		),
	}
}

// regionalFailureNetwork fires when no control target answers from a
// region: the probe's own network is down there.
func (b *builder) regionalFailureNetwork() Rule {
	return Rule{
		Alert:  AlertRegionalFailure,
		Expr:   networkDown(),
		For:    FormatDuration(b.profile.Scale(2 * time.Minute)),
		Labels: map[string]string{LabelSeverity: SeverityTicket, LabelCause: CauseNetwork},
		Annotations: b.annotations(AlertRegionalFailure,
			"{{ $labels.region }}: the probe's own network is down (no control target answers)",
			"Every control target (outside any LLM provider) fails from {{ $labels.region }}: failures seen from this region are its network's, not the providers'. The region does not count toward provider alerts while this lasts, and its cause=providers regional alert is inhibited.",
			DashboardURL(b.spec.Links.Grafana, DashboardOverview, "var-region={{ $labels.region }}"),
		),
	}
}

// workerDown fires for a region whose newest probe is older than StaleAfter
// (the worker hangs but is scraped), whose series vanished after being
// seen within a day (the worker or its scrape is gone), or, for each name
// in regionNames, that has no series at all.
func (b *builder) workerDown() Rule {
	last := probe.MetricCheckLastRun
	stale := b.spec.StaleAfter(b.profile)
	alts := []string{
		fmt.Sprintf("time() - max by (%s) (%s) > %s", probe.LabelRegion, last, promql.Num(stale.Seconds())),
		promql.Lines(
			fmt.Sprintf("time() - max by (%s) (max_over_time(%s[%s]))", probe.LabelRegion, last, b.profile.Range(24*time.Hour)),
			"  unless on ("+probe.LabelRegion+")",
			fmt.Sprintf("max by (%s) (%s)", probe.LabelRegion, last),
		),
	}
	for _, r := range b.spec.RegionNames {
		alts = append(alts, "absent("+promql.Sel(last, promql.Eq(probe.LabelRegion, r))+")")
	}
	return Rule{
		Alert:  AlertWorkerDown,
		Expr:   strings.Join(alts, "\nor\n"),
		For:    FormatDuration(b.profile.Scale(2 * time.Minute)),
		Labels: map[string]string{LabelSeverity: SeverityTicket},
		Annotations: b.annotations(AlertWorkerDown,
			"{{ $labels.region }}: the llmprobe worker stopped reporting",
			fmt.Sprintf("No probe has finished in {{ $labels.region }} for more than %s, or its series are gone (the worker, its scrape or its remote write is down). The region is blind: providers are not measured from there, and provider alerts have one region fewer to reach their quorum.",
				FormatDuration(stale)),
			DashboardURL(b.spec.Links.Grafana, DashboardOverview, "var-region={{ $labels.region }}"),
		),
	}
}

// misconfigured fires while probe_error persists: the probe's owner must fix
// a key, a quota or a model.
func (b *builder) misconfigured() Rule {
	forDur := b.profile.Scale(15 * time.Minute)
	return Rule{
		Alert: AlertMisconfigured,
		Expr: increase(promql.By(probe.LabelProvider, probe.LabelCheck, probe.LabelRegion, probe.LabelReason),
			promql.Sel(probe.MetricProbesTotal, promql.Eq(probe.LabelOutcome, string(probe.OutcomeProbeError))),
			b.profile.Range(5*time.Minute)) + " > 0",
		For:    FormatDuration(forDur),
		Labels: map[string]string{LabelSeverity: SeverityTicket},
		Annotations: b.annotations(AlertMisconfigured,
			fmt.Sprintf("{{ $labels.provider }} {{ $labels.check }} from {{ $labels.region }}: probe_error {{ $labels.reason }} for more than %s", FormatDuration(forDur)),
			"The probe itself fails, not the provider: {{ $labels.reason }} (auth: the key was rejected; quota or budget_exhausted: the account or the probe's budget is spent; model_not_found or bad_request: the model or its parameters need changing; output_limit: raise LLMPROBE_<ID>_MAX_TOKENS for a model that reasons first; no_api_key: the key variable is empty; blocked_location: the provider does not serve this region). These probes do not count against the provider's SLO, so the check measures nothing until it is fixed.",
			DashboardURL(b.spec.Links.Grafana, DashboardProvider, "var-provider={{ $labels.provider }}&var-check={{ $labels.check }}&var-region={{ $labels.region }}"),
		),
	}
}

func (b *builder) annotations(alert, summary, description, dashboard string) map[string]string {
	return map[string]string{
		AnnotationSummary:      summary,
		AnnotationDescription:  description,
		AnnotationRunbookURL:   RunbookURL(b.spec.Links.Runbook, alert),
		AnnotationDashboardURL: dashboard,
	}
}

// conditionWords says in prose when an alert of this severity and SLI fires.
func (b *builder) conditionWords(severity, sli string) string {
	var conds []string
	for _, bw := range BurnWindowsFor(severity) {
		conds = append(conds, fmt.Sprintf("%sx over %s and %s", b.factor(bw), b.profile.Range(bw.Long), b.profile.Range(bw.Short)))
	}
	verb := "Pages"
	if severity == SeverityTicket {
		verb = "Opens a ticket"
	}
	bad := "failed"
	if sli == SLOLatency {
		bad = "slow"
	}
	return fmt.Sprintf("%s above %s, with at least %d %s probes, seen from at least %d regions.",
		verb, strings.Join(conds, " or "), b.spec.MinFailedProbes, bad, b.spec.Quorum())
}

// listTemplate writes an alert template that runs a query built with printf
// from queryFmt and args (template expressions such as $labels.provider),
// and lists one item per result, sorted by the sortLabels (last is the
// primary key), comma-separated, or none when the query returns nothing.
func listTemplate(queryFmt, args, item, none string, sortLabels ...string) string {
	var sorts string
	for _, l := range sortLabels {
		sorts += " | sortByLabel " + strconv.Quote(l)
	}
	return fmt.Sprintf("{{ range $i, $s := query (printf %s %s)%s }}{{ if $i }}, {{ end }}%s{{ else }}%s{{ end }}",
		strconv.Quote(queryFmt), args, sorts, item, none)
}

// objectiveTemplate writes the provider check's objective for an SLI.
func objectiveTemplate(sli, format string) string {
	return fmt.Sprintf("{{ with query (printf %s $labels.provider $labels.check %s) }}{{ . | first | value | %s }}{{ end }}",
		strconv.Quote(promql.Sel(RecordName(LevelProviderCheck, MetricObjective, OperationRatio), "provider=%q", "check=%q", "slo=%q")),
		strconv.Quote(sli), format)
}

// thresholdTemplate writes the provider check's latency threshold.
func thresholdTemplate() string {
	return fmt.Sprintf("{{ with query (printf %s $labels.provider $labels.check) }}{{ . | first | value | humanizeDuration }}{{ end }}",
		strconv.Quote(promql.Sel(RecordName(LevelProviderCheck, MetricLatencyThreshold, OperationSeconds), "provider=%q", "check=%q")))
}

// layerWords explains the layer label inside a template.
func layerWords() string {
	return `{{ if eq $labels.layer "edge" }}the CDN in front of the provider{{ else if eq $labels.layer "origin" }}the provider's own servers{{ else }}the network path from the probes{{ end }}`
}
