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

// SLOs shows every SLO: its objective, its SLI over the SLO window, the
// error budget left, how fast it burns in each alerting window against the
// alert thresholds, and when the budget runs out at the current rate.
type SLOs struct{ Options Options }

// sloFilter narrows the recorded series to the dashboard's variables.
var sloFilter = []string{
	promql.Re(probe.LabelProvider, ref(VarProvider)),
	promql.Re(probe.LabelCheck, ref(VarCheck)),
}

// Build builds the SLO dashboard.
func (d SLOs) Build() (dashboard.Dashboard, error) {
	o := d.Options.withDefaults()
	b := newDashboard(slo.DashboardSLO, "llmprobe / SLOs",
		"Every SLO of every provider check: objective, SLI over the "+slo.FormatDuration(o.window())+" SLO window, error budget left, burn rate in each alerting window with the page and ticket thresholds drawn, and the time until the budget is spent.",
		"now-7d", ref(VarProvider)).
		WithVariable(labelVariable(VarProvider, "Provider", "Providers with SLOs.",
			slo.RecordName(slo.LevelProviderCheck, slo.MetricObjective, slo.OperationRatio), true)).
		WithVariable(labelVariable(VarCheck, "Check", "Check kinds: reach (keyless), chat, stream.",
			promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricObjective, slo.OperationRatio), promql.Re(probe.LabelProvider, ref(VarProvider))), true))

	b = b.WithRow(row(slo.SLORowSummary, "All SLOs")).
		WithPanel(sloSummary(o))
	b = b.WithRow(row(slo.SLORowProvider, ref(VarProvider)).Repeat(VarProvider)).
		WithPanel(sloObjective()).
		WithPanel(sloSLI(o)).
		WithPanel(sloBudget(o)).
		WithPanel(sloExhaustion(o)).
		WithPanel(sloBurn(o, slo.SLOBurnAvail, slo.SLOAvailability)).
		WithPanel(sloBurn(o, slo.SLOBurnLatency, slo.SLOLatency)).
		WithPanel(sloBudgetOverTime()).
		WithPanel(sloSLIOverTime(o, slo.SLOAvailSLI, slo.SLOAvailability)).
		WithPanel(sloSLIOverTime(o, slo.SLOLatencySLI, slo.SLOLatency))
	return b.Build()
}

// exhaustionWindow is the burn-rate window the time to exhaustion assumes
// continues.
const exhaustionWindow = time.Hour

// Recorded series the SLO panels read.
func objectiveSeries(extra ...string) string {
	return promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricObjective, slo.OperationRatio), promql.With(sloFilter, extra...)...)
}

func budgetSeries() string {
	return promql.Sel(slo.RecordName(slo.LevelProviderCheck, slo.MetricBudgetRemaining, slo.OperationRatio), sloFilter...)
}

func burnSeries(w time.Duration, extra ...string) string {
	return promql.Sel(slo.RatioName(slo.LevelProviderCheck, slo.MetricBurnRate, w), promql.With(sloFilter, extra...)...)
}

// sliMetric is the recorded SLI of an SLO kind.
func sliMetric(kind string) string {
	if kind == slo.SLOLatency {
		return slo.MetricSLILatency
	}
	return slo.MetricSLIAvailability
}

func sliSeries(kind string, w time.Duration) string {
	return promql.Sel(slo.RatioName(slo.LevelProviderCheck, sliMetric(kind), w), sloFilter...)
}

// exhaustion is the time, in seconds, until the budget left is spent if
// the SLO keeps burning as it did over exhaustionWindow: budget left times
// the (scaled) SLO window over the burn rate. Absent when nothing burns.
func (o Options) exhaustion() string {
	w := o.Profile.Scale(o.window()).Seconds()
	return "clamp_min(" + budgetSeries() + ", 0) * " + promql.Num(w) + "\n/\n(" + burnSeries(exhaustionWindow) + " > 0)"
}

// labelledSLI is both SLIs over w with an slo label, as the other recorded
// SLO series carry it.
func labelledSLI(w time.Duration) string {
	one := func(kind string) string {
		return `label_replace(` + sliSeries(kind, w) + `, "` + slo.LabelSLO + `", "` + kind + `", "", "")`
	}
	return one(slo.SLOAvailability) + "\nor\n" + one(slo.SLOLatency)
}

func exhaustionSteps() *dashboard.ThresholdsConfigBuilder {
	day := (24 * time.Hour).Seconds()
	return thresholds(colorRed, step{day, colorOrange}, step{7 * day, colorYellow}, step{14 * day, colorGreen})
}

func sloSummary(o Options) cog.Builder[dashboard.Panel] {
	window := slo.FormatDuration(o.window())
	burnName := "burn rate " + slo.FormatDuration(exhaustionWindow)
	sliName := "SLI over " + window
	day := (24 * time.Hour).Seconds()
	return newTable(slo.SLOSummary, "Every SLO",
		"One row per SLO: its objective, the SLI over the "+window+" SLO window, the error budget left, the burn rate over the last "+slo.FormatDuration(exhaustionWindow)+" (1 spends the budget exactly over the window; pages fire from "+promql.Num(o.burnThresholds()[len(o.burnThresholds())-1])+"), and the time until the budget is spent at that rate (empty when nothing burns).",
		24, 10,
		tableQuery(objectiveSeries()),
		tableQuery(labelledSLI(o.window())),
		tableQuery(budgetSeries()),
		tableQuery(burnSeries(exhaustionWindow)),
		tableQuery(o.exhaustion())).
		WithTransformation(organize([]string{"Time", "__name__"}, nil, nil)).
		WithTransformation(merge()).
		WithTransformation(organize(nil,
			map[string]string{"Value #A": "objective", "Value #B": sliName, "Value #C": "budget left", "Value #D": burnName, "Value #E": "time to exhaustion"},
			[]string{probe.LabelProvider, probe.LabelCheck, slo.LabelSLO, "Value #A", "Value #B", "Value #C", "Value #D", "Value #E"})).
		WithOverride(columnOverride("objective", unitProp("percentunit"), decimalsProp(2))).
		WithOverride(columnOverride(sliName, unitProp("percentunit"), decimalsProp(3))).
		WithOverride(columnOverride("budget left", unitProp("percentunit"), decimalsProp(1), colorBackgroundProp(),
			thresholdsProp(colorRed, step{0, colorOrange}, step{0.25, colorYellow}, step{0.5, colorGreen}))).
		WithOverride(columnOverride(burnName, unitProp("x"), decimalsProp(2), colorBackgroundProp(), o.burnThresholdsProp())).
		WithOverride(columnOverride("time to exhaustion", unitProp("s"), colorBackgroundProp(),
			thresholdsProp(colorRed, step{day, colorOrange}, step{7 * day, colorYellow}, step{14 * day, colorGreen}))).
		SortBy(sortBy(probe.LabelProvider))
}

// burnThresholdsProp is burnSteps as a field override.
func (o Options) burnThresholdsProp() dashboard.DynamicConfigValue {
	colors := []string{colorYellow, colorOrange, colorRed, colorDarkRed}
	var steps []step
	for i, f := range o.burnThresholds() {
		steps = append(steps, step{f, colors[min(i, len(colors)-1)]})
	}
	return thresholdsProp(colorGreen, steps...)
}

func sloObjective() cog.Builder[dashboard.Panel] {
	return newStat(slo.SLOObjective, "Objectives",
		"Per check, the availability objective (share of valid probes that succeed) and the latency objective (share of successful chat and stream probes under the threshold), from the SLO spec (provider_check:llmprobe_slo_objective:ratio).",
		4, 6, instant(objectiveSeries(), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")).
		Unit("percentunit").Decimals(2).
		ColorMode(common.BigValueColorModeNone)
}

func sloSLI(o Options) cog.Builder[dashboard.Panel] {
	window := slo.FormatDuration(o.window())
	return newStat(slo.SLOSLI, "SLI over "+window,
		"Per check, the availability SLI (successful over valid probes, all regions) and the latency SLI (successful probes under the threshold over successful probes) over the "+window+" SLO window, from the recorded counts.",
		6, 6,
		instant(sliSeries(slo.SLOAvailability, o.window()), "{{"+probe.LabelCheck+"}} "+slo.SLOAvailability),
		instant(sliSeries(slo.SLOLatency, o.window()), "{{"+probe.LabelCheck+"}} "+slo.SLOLatency)).
		Unit("percentunit").Decimals(3).
		ColorMode(common.BigValueColorModeNone)
}

func sloBudget(o Options) cog.Builder[dashboard.Panel] {
	return newBarGauge(slo.SLOBudget, "Error budget left",
		"Per SLO, the share of the "+slo.FormatDuration(o.window())+" error budget not yet spent (1 - the burn rate over the SLO window). An empty bar is an overspent budget.",
		7, 6, instant(budgetSeries(), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")).
		Unit("percentunit").Decimals(1).Min(0).Max(1).
		Thresholds(budgetSteps())
}

func sloExhaustion(o Options) cog.Builder[dashboard.Panel] {
	return newStat(slo.SLOExhaustion, "Time to exhaustion",
		"Per SLO, how long until the error budget left is spent if the SLO keeps burning as it did over the last "+slo.FormatDuration(exhaustionWindow)+". Absent when it does not burn; 0 when the budget is already spent.",
		7, 6, instant(o.exhaustion(), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")).
		Unit("s").Decimals(0).
		Thresholds(exhaustionSteps()).
		NoValue("Not burning")
}

func sloBurn(o Options, id uint32, kind string) cog.Builder[dashboard.Panel] {
	var qs []*query
	for _, w := range slo.RecordingWindows(o.window()) {
		qs = append(qs, series(burnSeries(w, promql.Eq(slo.LabelSLO, kind)), "{{"+probe.LabelCheck+"}} "+slo.FormatDuration(w)))
	}
	desc := "How many times faster than the SLO allows the " + kind + " error budget burns, per check and window (provider_check:llmprobe_slo_burn_rate:ratio<window>). The dashed lines are the alert thresholds: " +
		burnConditions(o) + "; each needs both of its windows above the line, enough failed probes, and two regions."
	if kind == slo.SLOLatency {
		desc += " Only chat and stream checks have latency SLOs."
	}
	thresholdsMax := o.burnThresholds()[len(o.burnThresholds())-1]
	return thresholdLines(newTimeseries(id, titleCase(kind)+" burn rate per window", desc, 12, 9, qs...), o.burnSteps()).
		Unit("x").Min(0).AxisSoftMax(thresholdsMax + 2)
}

// burnConditions describes the alerting conditions for a description.
func burnConditions(o Options) string {
	var parts []string
	for _, b := range slo.BurnWindows() {
		parts = append(parts, b.Severity+" at "+promql.Num(b.Factor(o.window()))+"x over "+slo.FormatDuration(b.Long)+" and "+slo.FormatDuration(b.Short))
	}
	return joinWords(parts)
}

func sloBudgetOverTime() cog.Builder[dashboard.Panel] {
	return thresholdLines(newTimeseries(slo.SLOBudgetOverTime, "Error budget left over time",
		"Per SLO, the share of the error budget left; below the line at 0 the budget is overspent.",
		8, 8, series(budgetSeries(), "{{"+probe.LabelCheck+"}} {{"+slo.LabelSLO+"}}")),
		thresholds(colorRed, step{0, colorGreen})).
		Unit("percentunit")
}

func sloSLIOverTime(o Options, id uint32, kind string) cog.Builder[dashboard.Panel] {
	var qs []*query
	for _, w := range []time.Duration{time.Hour, 24 * time.Hour, o.window()} {
		qs = append(qs, series(sliSeries(kind, w), "{{"+probe.LabelCheck+"}} "+slo.FormatDuration(w)))
	}
	qs = append(qs, series(objectiveSeries(promql.Eq(slo.LabelSLO, kind)), "{{"+probe.LabelCheck+"}} objective"))
	return newTimeseries(id, titleCase(kind)+" SLI",
		"Per check, the "+kind+" SLI over 1h, 1d and the SLO window, and the objective (dashed). The SLI over the SLO window below the objective means the budget is spent.",
		8, 8, qs...).
		Unit("percentunit").Max(1).
		OverrideByRegexp(".* objective$", dashedLine())
}
