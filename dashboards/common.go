package dashboards

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/slo"
)

// Tag marks every llmprobe dashboard; the dashboards' link bar lists the
// dashboards carrying it.
const Tag = "llmprobe"

// Template variable names. The label variables are named after the labels
// they filter, so that alert links (slo.DashboardURL) can say
// var-provider=..., var-check=..., var-region=....
const (
	// VarDatasource picks the Prometheus every panel, variable and
	// annotation queries, so the JSON imports into any Grafana.
	VarDatasource  = "datasource"
	VarProvider    = probe.LabelProvider
	VarCheck       = probe.LabelCheck
	VarRegion      = probe.LabelRegion
	VarInputPrice  = "input_usd_per_mtok"
	VarOutputPrice = "output_usd_per_mtok"
)

// Names Prometheus itself gives the series of alerting rules.
const (
	metricAlerts     = "ALERTS"
	labelAlertName   = "alertname"
	labelAlertState  = "alertstate"
	alertStateFiring = "firing"
)

// allValue is the value an "All" selection substitutes: it matches every
// value and the empty one, so series without the label (an alert with no
// provider label, say) stay in.
const allValue = ".*"

// Grafana's colours, by name.
const (
	colorGreen   = "green"
	colorYellow  = "yellow"
	colorOrange  = "orange"
	colorRed     = "red"
	colorDarkRed = "dark-red"
	colorNoProbe = "transparent"
)

// Options are what the dashboards need to know about the SLO rules they
// read: the SLO window (it names the window's recorded series and scales
// the time to exhaustion) and the profile (the test profile compresses
// time 60 times).
type Options struct {
	Spec    slo.Spec
	Profile slo.Profile
	// PrometheusURL is where the provisioned datasource points: the
	// compose stack's Prometheus service by default.
	PrometheusURL string
	// ScrapeInterval is the datasource's "scrape interval" setting, the
	// lower bound of $__rate_interval: the central Prometheus's scrape
	// interval (deploy/prometheus/prometheus.yml).
	ScrapeInterval time.Duration
}

// DefaultOptions are the options of the default SLO spec and profile.
func DefaultOptions(p slo.Profile) Options {
	return Options{Spec: slo.DefaultSpec(p), Profile: p}
}

func (o Options) withDefaults() Options {
	if o.PrometheusURL == "" {
		o.PrometheusURL = "http://prometheus:9090"
	}
	if o.ScrapeInterval == 0 {
		o.ScrapeInterval = 15 * time.Second
	}
	return o
}

// window is the SLO window, the one whose recorded series say "over the
// SLO window".
func (o Options) window() time.Duration { return time.Duration(o.Spec.Window) }

// burnThresholds are the burn-rate factors of the alerting conditions for
// the spec's SLO window, without duplicates, in increasing order: 1, 3, 6
// and 14.4 for 30 days.
func (o Options) burnThresholds() []float64 {
	var out []float64
	for _, b := range slo.BurnWindows() {
		out = append(out, b.Factor(o.window()))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// datasource is the reference every panel, query, variable and annotation
// uses: the datasource variable, never a fixed UID, so that the dashboards
// import into a Grafana whose Prometheus has any UID.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + VarDatasource + "}")}
}

// datasourceVariable lists the Grafana's Prometheus datasources. It starts
// on the one the compose stack provisions (slo.DatasourceUID), so that
// provisioning pins it there; where no datasource has that UID, Grafana
// starts it on the default Prometheus.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(VarDatasource).
		Label("Prometheus").
		Description("The Prometheus that evaluates the llmprobe rules (llmprobe generate's rule files or PrometheusRule).").
		Type("prometheus").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(provisionedDatasourceName)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(slo.DatasourceUID)},
		})
}

// provisionedDatasourceName is the name of the datasource that
// deploy/grafana/provisioning creates with slo.DatasourceUID.
const provisionedDatasourceName = "llmprobe Prometheus"

// ---- PromQL ----

// ref is a template variable as a query uses it.
func ref(name string) string { return "$" + name }

// quantile writes histogram_quantile over the rate of a histogram, by
// labels: native where the Prometheus stores it, else classic
// (promql.HistogramQuantile).
func quantile(q float64, histogram string, filter []string, labels string) string {
	return promql.HistogramQuantile(promql.Num(q), labels, histogram, filter, rateInterval)
}

// Grafana's interval variables.
const (
	rateInterval = "$__rate_interval"
	rangeVar     = "$__range"
)

// availabilityOverRange is success / valid over the dashboard's time range,
// from the raw counters, summed by labels, leaving out the probes of a
// region whose own network was down, as the SLI rules do.
func availabilityOverRange(filter []string, labels string) string {
	success := slo.MeasuredIncrease(labels, filter, rangeVar, string(probe.OutcomeSuccess))
	valid := slo.MeasuredIncrease(labels, filter, rangeVar, slo.ValidOutcomes()...)
	return "(\n" + success + "\n)\n/\n(\n" + valid + "\n)"
}

// recordedAvailability is success / valid from the region-level recorded
// counts over w, summed by labels, so that the region filter applies.
func recordedAvailability(filter []string, labels string, w time.Duration) string {
	success := promql.SumBy(labels, promql.Sel(slo.IncreaseName(slo.LevelProviderCheckRegion, slo.MetricProbesSuccess, w), filter...))
	valid := promql.SumBy(labels, promql.Sel(slo.IncreaseName(slo.LevelProviderCheckRegion, slo.MetricProbesValid, w), filter...))
	return success + "\n/\n" + valid
}

// outcomeCodes number the outcomes for state timelines, worst last: in an
// interval with several outcomes the timeline shows the highest code.
// 0 means no probe finished in the interval.
var outcomeCodes = []struct {
	outcome probe.Outcome
	code    int
	text    string
	color   string
}{
	{probe.OutcomeSuccess, 1, "success", probe.OutcomeSuccess.Style().Color},
	{probe.OutcomeProbeError, 2, "probe error", probe.OutcomeProbeError.Style().Color},
	{probe.OutcomeNetworkError, 3, "network error", probe.OutcomeNetworkError.Style().Color},
	{probe.OutcomeOriginError, 4, "origin error", probe.OutcomeOriginError.Style().Color},
	{probe.OutcomeEdgeError, 5, "edge error", probe.OutcomeEdgeError.Style().Color},
}

// outcomeTimeline is, per value of labels, the code of the worst outcome
// of the probes that finished in each interval.
func outcomeTimeline(filter []string, labels string) string {
	var terms []string
	for _, c := range outcomeCodes {
		counted := promql.SumBy(labels+", "+probe.LabelOutcome,
			promql.Increase(promql.Sel(probe.MetricProbesTotal, promql.With(filter, promql.Eq(probe.LabelOutcome, string(c.outcome)))...), rateInterval))
		terms = append(terms, fmt.Sprintf("  (%s > bool 0) * %d", counted, c.code))
	}
	return "max by (" + labels + ") (\n" + strings.Join(terms, "\n  or\n") + "\n)"
}

// outcomeMappings show outcome codes as words and colours.
func outcomeMappings() []dashboard.ValueMapping {
	out := []dashboard.ValueMapping{valueText(0, "no probe", colorNoProbe)}
	for _, c := range outcomeCodes {
		out = append(out, valueText(float64(c.code), c.text, c.color))
	}
	return out
}

// edgeOf joins the CDN in front of each provider (the edge label of
// edge_provider:llmprobe_provider_info:count) onto expr, which must carry a
// provider label, without changing its value.
func edgeOf(expr string, edgeMatchers ...string) string {
	return expr + "\n+ on (" + probe.LabelProvider + ") group_left (" + probe.LabelEdge + ")\n(0 * " +
		promql.Sel(slo.RecordName(slo.LevelEdgeProvider, slo.MetricProviderInfo, slo.OperationCount), edgeMatchers...) + ")"
}

// alertsSelector selects the firing llmprobe alerts named, for the
// providers of the provider variable or with no provider label at all.
func alertsSelector(names []string, extra ...string) string {
	return promql.Sel(metricAlerts, append([]string{promql.Eq(labelAlertState, alertStateFiring), promql.Re(labelAlertName, names...)}, extra...)...)
}

// ---- queries ----

type query = prometheus.DataqueryBuilder

// series is a range query drawn as time series.
func series(expr, legend string) *query {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range().EditorMode(prometheus.QueryEditorModeCode)
}

// instant is an instant query, for stats and gauges of "now".
func instant(expr, legend string) *query {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Instant().EditorMode(prometheus.QueryEditorModeCode)
}

// tableQuery is an instant query in table format: one row per series,
// one column per label.
func tableQuery(expr string) *query {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable).EditorMode(prometheus.QueryEditorModeCode)
}

// heatmapQuery reads a histogram's buckets for a heatmap panel
// (promql.HistogramIncrease: classic buckets by le, or a native histogram).
func heatmapQuery(expr string) *query {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat("{{le}}").Range().Format(prometheus.PromQueryFormatHeatmap).EditorMode(prometheus.QueryEditorModeCode)
}

// targets names queries A, B, C... in order.
func targets(qs ...*query) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q.RefId(string(rune('A' + i))).Datasource(datasource())
	}
	return out
}

// ---- variables ----

// labelVariable is a query variable over label_values(selector, label).
// A multi variable starts on All, which substitutes allValue.
func labelVariable(name, label, description, selector string, multi bool) *dashboard.QueryVariableBuilder {
	q := "label_values(" + selector + ", " + name + ")"
	b := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Datasource(datasource()).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		b = b.Multi(true).IncludeAll(true).AllValue(allValue).Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
	}
	return b
}

// textVariable is a free-text variable with a default value.
func textVariable(name, label, description, value string) *dashboard.TextBoxVariableBuilder {
	return dashboard.NewTextBoxVariableBuilder(name).
		Label(label).
		Description(description).
		DefaultValue(dashboard.StringOrMap{String: cog.ToPtr(value)}).
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(value)},
		})
}

// ---- dashboard parts ----

// newDashboard starts a dashboard with what all three share: the tag, the
// link bar to the other llmprobe dashboards, refresh and time zone, and the
// alert annotations.
func newDashboard(uid, title, description, from string, providerFilter string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time(from, "now").
		Timezone(common.TimeZoneBrowser).
		Link(dashboard.NewDashboardLinkBuilder("llmprobe").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true).
			Tooltip("The other llmprobe dashboards, with these variables and this time range")).
		Annotations(alertAnnotations(providerFilter)).
		WithVariable(datasourceVariable())
}

// Alert annotations: every dashboard marks when llmprobe alerts fired on
// its time series, pages in red and tickets in orange.
const (
	annotationPages   = "llmprobe pages"
	annotationTickets = "llmprobe tickets"
)

// annotationExtras are the Prometheus annotation settings the SDK's
// AnnotationQuery has no fields for; Render adds them to every annotation
// of the llmprobe datasource.
var annotationExtras = map[string]any{
	"step":        "1m",
	"titleFormat": "{{alertname}}",
	"tagKeys":     strings.Join([]string{probe.LabelProvider, probe.LabelCheck, slo.LabelLayer, slo.LabelSLO, probe.LabelEdge, probe.LabelRegion, slo.LabelSeverity}, ","),
	"textFormat":  "{{provider}} {{check}} {{layer}} {{edge}} {{region}}",
}

// alertAnnotations select the firing llmprobe alerts of each severity.
// providerFilter restricts them to the dashboard's providers (alerts with
// no provider label, such as a shared-edge incident, always show).
func alertAnnotations(providerFilter string) []cog.Builder[dashboard.AnnotationQuery] {
	var out []cog.Builder[dashboard.AnnotationQuery]
	for _, a := range []struct{ name, severity, color string }{
		{annotationPages, slo.SeverityPage, colorRed},
		{annotationTickets, slo.SeverityTicket, colorOrange},
	} {
		out = append(out, dashboard.NewAnnotationQueryBuilder().
			Name(a.name).
			Datasource(datasource()).
			Enable(true).
			IconColor(a.color).
			Expr(alertsSelector(slo.AlertNames(), promql.Eq(slo.LabelSeverity, a.severity), promql.Re(probe.LabelProvider, providerFilter+"|"))))
	}
	return out
}

// row starts a row.
func row(id uint32, title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Id(id)
}

// dashboardLink links a panel to another dashboard, passing variables
// (as "var-provider=${provider}" or "${check:queryparam}") and the time
// range.
func dashboardLink(title, uid string, params ...string) cog.Builder[dashboard.DashboardLink] {
	q := strings.Join(append(params, "${__url_time_range}"), "&")
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url("/d/" + uid + "?" + q).
		Tooltip("Open " + title)
}

// ---- field config ----

type step struct {
	value float64
	color string
}

// thresholds starts at base and changes colour at each step.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// availabilitySteps colour an availability: red below 99 %, orange below
// 99.5 %, yellow below 99.9 %, green from 99.9 % (the default objectives).
func availabilitySteps() *dashboard.ThresholdsConfigBuilder {
	return thresholds(colorRed, step{0.99, colorOrange}, step{0.995, colorYellow}, step{0.999, colorGreen})
}

// budgetSteps colour the error budget left: red when spent, orange below a
// quarter, yellow below half.
func budgetSteps() *dashboard.ThresholdsConfigBuilder {
	return thresholds(colorRed, step{0, colorOrange}, step{0.25, colorYellow}, step{0.5, colorGreen})
}

// burnSteps draw the alerting burn-rate factors: green below the slowest
// ticket, then yellow, orange, red, dark red up to the fastest page.
func (o Options) burnSteps() *dashboard.ThresholdsConfigBuilder {
	colors := []string{colorYellow, colorOrange, colorRed, colorDarkRed}
	var steps []step
	for i, f := range o.burnThresholds() {
		steps = append(steps, step{f, colors[min(i, len(colors)-1)]})
	}
	return thresholds(colorGreen, steps...)
}

func valueText(value float64, text, color string) dashboard.ValueMapping {
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			promql.Num(value): {Text: cog.ToPtr(text), Color: cog.ToPtr(color)},
		},
	}}
}

func rangeText(from, to float64, text, color string) dashboard.ValueMapping {
	return dashboard.ValueMapping{RangeMap: &dashboard.RangeMap{
		Type: dashboard.MappingTypeRangeToText,
		Options: dashboard.DashboardRangeMapOptions{
			From: cog.ToPtr(from), To: cog.ToPtr(to),
			Result: dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color)},
		},
	}}
}

// upDownMappings show 1 as up, 0 as down and anything between (a share of
// regions or checks) as partial.
func upDownMappings(up, down, partial string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{
		valueText(1, up, colorGreen),
		valueText(0, down, colorRed),
		rangeText(0.000001, 0.999999, partial, colorOrange),
	}
}

// colorOverride fixes the colour of the series named name.
func colorOverride(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}}
}

// dashedLine draws a series as a dashed line without fill: thresholds and
// objectives beside measured series.
func dashedLine() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
		{Id: "custom.stacking", Value: map[string]any{"mode": "none", "group": "A"}},
	}
}

// ---- panels ----

// Every panel has an ID (slo/panels.go), a title, a description, the
// datasource, a size and its queries.

func newStat(id uint32, title, description string, w, h uint32, qs ...*query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(qs...)).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		TextMode(common.BigValueTextModeValueAndName).
		Orientation(common.VizOrientationAuto)
}

func newBarGauge(id uint32, title, description string, w, h uint32, qs ...*query) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(qs...)).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true)
}

func newTimeseries(id uint32, title, description string, w, h uint32, qs ...*query) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(qs...)).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// stacked makes a time series panel stack its series as areas.
func stacked(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).FillOpacity(60)
}

// bars draws counts per interval as stacked bars.
func bars(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A"))
}

// thresholdLines draws the thresholds as dashed lines.
func thresholdLines(p *timeseries.PanelBuilder, t *dashboard.ThresholdsConfigBuilder) *timeseries.PanelBuilder {
	return p.Thresholds(t).ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
}

func newStateTimeline(id uint32, title, description string, w, h uint32, qs ...*query) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(qs...)).
		ShowValue(common.VisibilityModeNever).
		MergeValues(true).
		RowHeight(0.9).
		FillOpacity(80).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
}

func newTable(id uint32, title, description string, w, h uint32, qs ...*query) *table.PanelBuilder {
	return table.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(qs...)).
		ShowHeader(true).
		Filterable(false).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false))
}

func newHeatmap(id uint32, title, description string, w, h uint32, q *query) *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Span(w).Height(h).Targets(targets(q)).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
		CellValues(heatmap.NewCellValuesBuilder().Unit("short")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Fill("dark-orange").
			Steps(64)).
		ShowValue(common.VisibilityModeNever)
}

// organize hides, renames and orders the columns of a table.
func organize(exclude []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	if rename == nil {
		rename = map[string]string{}
	}
	ex := map[string]bool{}
	for _, e := range exclude {
		ex[e] = true
	}
	idx := map[string]int{}
	for i, o := range order {
		idx[o] = i
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": ex, "renameByName": rename, "indexByName": idx,
	}}
}

// merge joins several table queries into one table, on their labels.
func merge() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

// groupingToMatrix turns a table of (row, column, value) into a matrix.
func groupingToMatrix(rowField, columnField, valueField string) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
		"rowField": rowField, "columnField": columnField, "valueField": valueField, "emptyValue": "null",
	}}
}

// columnOverride sets properties of one table column.
func columnOverride(column string, props ...dashboard.DynamicConfigValue) (dashboard.MatcherConfig, []dashboard.DynamicConfigValue) {
	return dashboard.MatcherConfig{Id: "byName", Options: column}, props
}

func unitProp(unit string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "unit", Value: unit}
}

func decimalsProp(d int) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "decimals", Value: d}
}

func thresholdsProp(base string, steps ...step) dashboard.DynamicConfigValue {
	ts := []map[string]any{{"color": base, "value": nil}}
	for _, s := range steps {
		ts = append(ts, map[string]any{"color": s.color, "value": s.value})
	}
	return dashboard.DynamicConfigValue{Id: "thresholds", Value: map[string]any{"mode": "absolute", "steps": ts}}
}

func colorBackgroundProp() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}}
}

// sortBy sorts a table by a column, ascending.
func sortBy(column string) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(column)}
}

// cellColorBackground colours table cells by their thresholds.
func cellColorBackground() common.TableCellOptions {
	return common.TableCellOptions{TableColoredBackgroundCellOptions: common.NewTableColoredBackgroundCellOptions()}
}

// titleCase capitalises the first letter of an ASCII word.
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// joinWords joins phrases as a sentence lists them: "a, b and c".
func joinWords(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
