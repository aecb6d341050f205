package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// promParser is the Prometheus PromQL parser with its default options: no
// experimental functions, as a stock Prometheus evaluates them.
var promParser = parser.NewParser(parser.Options{})

func defaultOptions() Options { return DefaultOptions(slo.DefaultProfile()) }

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), got, *update)
}

// goldenName is a generated file's golden file: the dashboard's UID, or
// the provisioning file's kind.
func goldenName(p string) string {
	switch p {
	case FileDatasource:
		return "provisioning-datasource.golden.yml"
	case FileDashboardProvider:
		return "provisioning-dashboards.golden.yml"
	}
	return strings.TrimSuffix(path.Base(p), ".json") + ".golden.json"
}

func TestGeneratedFilesMatchGolden(t *testing.T) {
	files, err := Generate(defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		golden(t, goldenName(f.Path), f.Data)
		names = append(names, f.Path)
	}
	want := []string{
		DashboardFile(slo.DashboardOverview), DashboardFile(slo.DashboardProvider), DashboardFile(slo.DashboardSLO),
		FileDatasource, FileDashboardProvider,
	}
	if !slices.Equal(names, want) {
		t.Errorf("Generate wrote %v, want %v", names, want)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between two runs", a[i].Path)
		}
	}
}

// The dashboards use exactly the UIDs the alerts link to.
func TestDashboardUIDsAreTheOnesAlertsLinkTo(t *testing.T) {
	var uids []string
	for _, d := range parsed(t, defaultOptions()) {
		uids = append(uids, d.UID)
	}
	want := []string{slo.DashboardOverview, slo.DashboardProvider, slo.DashboardSLO}
	slices.Sort(want)
	if !slices.Equal(uids, want) {
		t.Errorf("dashboard UIDs %v, want %v", uids, want)
	}
}

// The rendered JSON decodes back into the SDK's types: it is a dashboard
// Grafana's schema knows.
func TestRenderedDashboardsDecodeIntoTheSDKTypes(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for uid, data := range rendered(t, defaultOptions()) {
		var d dashboard.Dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Errorf("%s: %v", uid, err)
			continue
		}
		if d.Uid == nil || *d.Uid != uid || len(d.Panels) == 0 {
			t.Errorf("%s decoded without its UID or panels", uid)
		}
	}
}

// staticValues substitutes every variable with a plausible value, for
// parsing: a single value for the repeated and single-select variables,
// the All value for the others.
func staticValues(d dashboardJSON) map[string]string {
	v := map[string]string{"__rate_interval": "1m", "__range": "6h", "__interval": "30s", "__url_time_range": "from=now-6h&to=now"}
	for _, x := range d.Templating.List {
		switch {
		case x.Type == "textbox":
			v[x.Name] = x.Query
		case x.IncludeAll:
			v[x.Name] = x.AllValue
		default:
			v[x.Name] = "openai"
		}
	}
	return v
}

func TestEveryQueryParsesAsPromQL(t *testing.T) {
	n := 0
	for _, d := range parsed(t, defaultOptions()) {
		values := staticValues(d)
		for _, q := range d.queries() {
			expr, err := expand(q.Expr, values)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			if _, err := promParser.ParseExpr(expr); err != nil {
				t.Errorf("%s does not parse: %v\n%s", q, err, expr)
			}
			n++
		}
		for _, x := range d.Templating.List {
			if x.Type != "query" {
				continue
			}
			m := reLabelValues.FindStringSubmatch(x.Query)
			if m == nil {
				t.Errorf("%s variable %s: %q is not label_values(selector, label)", d.UID, x.Name, x.Query)
				continue
			}
			expr, err := expand(m[1], values)
			if err != nil {
				t.Errorf("%s variable %s: %v", d.UID, x.Name, err)
				continue
			}
			if _, err := promParser.ParseMetricSelector(expr); err != nil {
				t.Errorf("%s variable %s: selector %q does not parse: %v", d.UID, x.Name, expr, err)
			}
			if m[2] != x.Name {
				t.Errorf("%s variable %s lists label %s: alert links set var-<label>", d.UID, x.Name, m[2])
			}
		}
	}
	if n < 60 {
		t.Errorf("only %d queries: the dashboards lost panels", n)
	}
}

// histograms are the worker's histograms: queries read their classic
// _bucket, _count and _sum series, or the bare name, the native histogram
// a Prometheus 3 scraping protobuf stores.
var histograms = []string{probe.MetricProbeDuration, probe.MetricPhaseDuration, probe.MetricEdgeOverhead, probe.MetricScheduleLateness}

// exportedSeries maps every series name the worker exports to its labels
// (DESIGN.md, Metrics), plus Prometheus's own ALERTS and up.
func exportedSeries() map[string][]string {
	l := []string{probe.LabelProvider, probe.LabelCheck, probe.LabelModel, probe.LabelRegion}
	w := func(extra ...string) []string { return append(slices.Clone(l), extra...) }
	m := map[string][]string{
		probe.MetricProbesTotal:         w(probe.LabelOutcome, probe.LabelReason),
		probe.MetricCheckSuccess:        l,
		probe.MetricCheckLastRun:        l,
		probe.MetricTokensTotal:         w(probe.LabelDirection),
		probe.MetricProviderInfo:        {probe.LabelProvider, probe.LabelRegion, probe.LabelEdge},
		probe.MetricControlSuccess:      {probe.LabelTarget, probe.LabelRegion},
		probe.MetricStatusPageComponent: {probe.LabelProvider, probe.LabelRegion, probe.LabelComponent},
		probe.MetricRateLimitRemaining:  w(probe.LabelKind),
		probe.MetricBuildInfo:           {probe.LabelVersion, probe.LabelRevision, probe.LabelGoVersion},
		probe.MetricProbesSkipped:       w(probe.LabelSkipReason),
		probe.MetricProbesUnmeasured:    w(probe.LabelOutcome),
		probe.MetricBackoff:             l,
		probe.MetricBudgetRemaining:     {probe.LabelProvider, probe.LabelRegion, probe.LabelKind},
		"up":                            {},
		metricAlerts: {labelAlertName, labelAlertState, slo.LabelSeverity, probe.LabelProvider, probe.LabelCheck,
			slo.LabelLayer, slo.LabelSLO, probe.LabelEdge, probe.LabelRegion, slo.LabelCause, probe.LabelReason, probe.LabelPhase},
	}
	hist := map[string][]string{
		probe.MetricProbeDuration:    w(probe.LabelOutcome),
		probe.MetricPhaseDuration:    w(probe.LabelPhase),
		probe.MetricEdgeOverhead:     l,
		probe.MetricScheduleLateness: {},
	}
	for _, h := range histograms {
		m[h] = hist[h]
		m[h+"_bucket"] = append(slices.Clone(hist[h]), "le")
		m[h+"_count"] = hist[h]
		m[h+"_sum"] = hist[h]
	}
	for name, labels := range m {
		m[name] = append(labels, "job", "instance")
	}
	return m
}

// recordedLabels are the labels of a recorded series: its level's, and
// slo on the SLO series (slo/conventions.go).
func recordedLabels(name string) []string {
	level, metric, _ := strings.Cut(name, ":")
	metric, _, _ = strings.Cut(metric, ":")
	var out []string
	switch level {
	case slo.LevelProviderCheck:
		out = []string{probe.LabelProvider, probe.LabelCheck}
	case slo.LevelProviderCheckRegion:
		out = []string{probe.LabelProvider, probe.LabelCheck, probe.LabelRegion}
	case slo.LevelProviderCheckLayer:
		out = []string{probe.LabelProvider, probe.LabelCheck, slo.LabelLayer}
	case slo.LevelProviderCheckLayerRegion:
		out = []string{probe.LabelProvider, probe.LabelCheck, slo.LabelLayer, probe.LabelRegion}
	case slo.LevelRegion:
		out = []string{probe.LabelRegion}
	case slo.LevelEdgeProvider:
		out = []string{probe.LabelEdge, probe.LabelProvider}
	case slo.LevelEdgeProviderRegion:
		out = []string{probe.LabelEdge, probe.LabelProvider, probe.LabelRegion}
	case slo.LevelProviderCheckPhaseRegion:
		out = []string{probe.LabelProvider, probe.LabelCheck, probe.LabelPhase, probe.LabelRegion}
	}
	switch metric {
	case slo.MetricBurnRate, slo.MetricObjective, slo.MetricLatencyThreshold, slo.MetricBudgetRemaining:
		out = append(out, slo.LabelSLO)
	}
	return out
}

// Every query names only series the worker exports or the rules record,
// and filters only on labels those series have: a filter on a label the
// series lacks returns nothing as soon as a value is chosen.
func TestQueriesNameOnlyExportedOrRecordedSeries(t *testing.T) {
	o := defaultOptions()
	exported := exportedSeries()
	recorded := recordedNames(t, o)
	if len(recorded) < 50 {
		t.Fatalf("only %d recorded names in the generated rules", len(recorded))
	}
	used := map[string]bool{}
	for _, d := range parsed(t, o) {
		values := staticValues(d)
		check := func(where, expr string) {
			e, err := promParser.ParseExpr(expr)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				return
			}
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				name := vs.Name
				var have []string
				switch {
				case recorded[name]:
					have = recordedLabels(name)
				case exported[name] != nil:
					have = exported[name]
				default:
					t.Errorf("%s reads %q, which neither the worker exports nor the rules record", where, name)
					return nil
				}
				used[name] = true
				for _, m := range vs.LabelMatchers {
					if m.Name == labels.MetricName {
						continue
					}
					if !slices.Contains(have, m.Name) {
						t.Errorf("%s filters %s on %q, a label it does not have (it has %v)", where, name, m.Name, have)
					}
				}
				return nil
			})
		}
		for _, q := range d.queries() {
			expr, err := expand(q.Expr, values)
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			check(q.String(), expr)
		}
		for _, x := range d.Templating.List {
			if m := reLabelValues.FindStringSubmatch(x.Query); m != nil {
				expr, _ := expand(m[1], values)
				check(d.UID+" variable "+x.Name, expr)
			}
		}
	}
	// The dashboards show the contract's metrics, not a subset by accident.
	for _, name := range []string{
		probe.MetricProbesTotal, probe.MetricPhaseDuration + "_bucket", probe.MetricProbeDuration + "_bucket",
		probe.MetricEdgeOverhead + "_bucket", probe.MetricCheckSuccess, probe.MetricCheckLastRun, probe.MetricTokensTotal,
		probe.MetricStatusPageComponent, probe.MetricRateLimitRemaining, metricAlerts,
		slo.RecordName(slo.LevelEdgeProvider, slo.MetricProviderInfo, slo.OperationCount),
		slo.RecordName(slo.LevelProviderCheck, slo.MetricBudgetRemaining, slo.OperationRatio),
	} {
		if !used[name] {
			t.Errorf("no dashboard reads %s", name)
		}
	}
}

// Every $variable a query, a variable query, an annotation, a title or a
// link uses is defined, before it is used in the case of variables.
func TestEveryTemplateVariableResolves(t *testing.T) {
	for _, d := range parsed(t, defaultOptions()) {
		defined := map[string]bool{}
		for name := range builtinVariables {
			defined[name] = true
		}
		checkRefs := func(where, s string) {
			for _, name := range variablesIn(s) {
				if !defined[name] {
					t.Errorf("%s %s uses $%s, which is not defined", d.UID, where, name)
				}
			}
		}
		for _, x := range d.Templating.List {
			checkRefs("variable "+x.Name, x.Query)
			defined[x.Name] = true
		}
		for _, q := range d.queries() {
			checkRefs(q.String(), q.Expr)
		}
		for _, l := range d.Links {
			checkRefs("link "+l.Title, l.URL)
		}
		for _, p := range d.allPanels() {
			where := "panel " + p.Title
			checkRefs(where+" title", p.Title)
			checkRefs(where+" description", p.Description)
			for _, l := range p.Links {
				checkRefs(where+" link "+l.Title, l.URL)
			}
			if p.Repeat != "" && !defined[p.Repeat] {
				t.Errorf("%s %s repeats over undefined $%s", d.UID, where, p.Repeat)
			}
		}
	}
}

// Every panel is documented, and every panel, query, variable and
// annotation queries the datasource variable, never a fixed UID, so the
// JSON imports into any Grafana; the variable starts on the provisioned
// datasource.
func TestEveryPanelHasADescriptionAndTheDatasource(t *testing.T) {
	ref := "${" + VarDatasource + "}"
	for _, d := range parsed(t, defaultOptions()) {
		for _, p := range d.allPanels() {
			if p.Type == "row" {
				continue
			}
			where := d.UID + " panel " + p.Title
			if len(p.Description) < 40 {
				t.Errorf("%s has no real description: %q", where, p.Description)
			}
			if p.Datasource == nil || p.Datasource.UID != ref {
				t.Errorf("%s does not use the datasource variable: %+v", where, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s has no query", where)
			}
			for _, q := range p.Targets {
				if q.Datasource == nil || q.Datasource.UID != ref {
					t.Errorf("%s query %s does not use the datasource variable: %+v", where, q.RefID, q.Datasource)
				}
			}
			if p.Type != "table" && p.FieldConfig.Defaults.Unit == "" && len(p.FieldConfig.Defaults.Mappings) == 0 && p.Type != "heatmap" {
				t.Errorf("%s has neither a unit nor value mappings", where)
			}
		}
		var dsVars int
		for _, x := range d.Templating.List {
			if x.Type == "query" && (x.Datasource == nil || x.Datasource.UID != ref) {
				t.Errorf("%s variable %s does not use the datasource variable", d.UID, x.Name)
			}
			if x.Type == "datasource" {
				dsVars++
				if x.Name != VarDatasource || x.Query != "prometheus" || x.Current.Value != slo.DatasourceUID {
					t.Errorf("%s datasource variable %+v, want %s over Prometheus datasources starting on %s", d.UID, x, VarDatasource, slo.DatasourceUID)
				}
			}
		}
		if dsVars != 1 || d.Templating.List[0].Type != "datasource" {
			t.Errorf("%s has %d datasource variables, want one, first", d.UID, dsVars)
		}
		for _, a := range d.Annotations.List {
			if a.Datasource == nil || (a.Datasource.UID != ref && a.Datasource.UID != "grafana") {
				t.Errorf("%s annotation %s does not use the datasource variable: %+v", d.UID, a.Name, a.Datasource)
			}
		}
		if len(d.Annotations.List) == 0 {
			t.Errorf("%s has no alert annotations", d.UID)
		}
	}
}

// No dashboard JSON names a datasource by a fixed UID.
func TestDashboardJSONHasNoFixedDatasourceUID(t *testing.T) {
	files, err := Generate(defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".json") {
			continue
		}
		n++
		var doc any
		if err := json.Unmarshal(f.Data, &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					if k == "uid" && path != "" && c != "${"+VarDatasource+"}" && c != "grafana" {
						if p := path[strings.LastIndex(path, ".")+1:]; p == "datasource" {
							t.Errorf("%s: %s.uid = %v, a fixed datasource UID", f.Path, path, c)
						}
					}
					walk(path+"."+k, c)
				}
			case []any:
				for _, c := range x {
					walk(path, c)
				}
			}
		}
		walk("", doc)
	}
	if n != 3 {
		t.Errorf("%d dashboards, want 3", n)
	}
}

// The panel IDs are the ones slo/panels.go documents, each unique, and the
// panel each alert links to exists in the dashboard the alert names.
func TestPanelIDsAreTheDocumentedOnes(t *testing.T) {
	want := map[string]map[int]string{
		slo.DashboardOverview: {
			int(slo.OverviewRowNow): "row", int(slo.OverviewFiringAlerts): "table", int(slo.OverviewMatrix): "table",
			int(slo.OverviewWorkers): "stat", int(slo.OverviewNetwork): "stat", int(slo.OverviewRowEdges): "row",
			int(slo.OverviewEdgeInventory): "table", int(slo.OverviewEdgeErrorRatio): "timeseries", int(slo.OverviewEdgeProviders): "timeseries",
			int(slo.OverviewRowProvider): "row", int(slo.OverviewProviderState): "stat", int(slo.OverviewProviderAvail): "stat",
			int(slo.OverviewProviderBudget): "stat", int(slo.OverviewProviderLayers): "timeseries", int(slo.OverviewProviderTimeline): "state-timeline",
		},
		slo.DashboardProvider: {
			int(slo.ProviderRowNow): "row", int(slo.ProviderState): "stat", int(slo.ProviderAvailability): "stat", int(slo.ProviderBudget): "stat",
			int(slo.ProviderEdges): "table", int(slo.ProviderRowLatency): "row", int(slo.ProviderPhaseP50): "timeseries",
			int(slo.ProviderPhaseP95): "timeseries", int(slo.ProviderDurationVsSLO): "timeseries", int(slo.ProviderTTFBHeatmap): "heatmap",
			int(slo.ProviderEdgeOverhead): "timeseries", int(slo.ProviderRowFailures): "row", int(slo.ProviderFailuresByReason): "timeseries",
			int(slo.ProviderRegionAvail): "timeseries", int(slo.ProviderRegionTTFB): "timeseries", int(slo.ProviderRegionTimeline): "state-timeline",
			int(slo.ProviderRowStatusPage): "row", int(slo.ProviderStatusPage): "state-timeline", int(slo.ProviderProbeAvail): "state-timeline",
			int(slo.ProviderRowQuota): "row", int(slo.ProviderRateLimit): "timeseries", int(slo.ProviderBudgetLeft): "timeseries",
			int(slo.ProviderSkipped): "timeseries", int(slo.ProviderTokens): "timeseries", int(slo.ProviderTokensTotal): "stat", int(slo.ProviderCost): "stat",
			int(slo.ProviderSlowness): "timeseries",
		},
		slo.DashboardSLO: {
			int(slo.SLORowSummary): "row", int(slo.SLOSummary): "table", int(slo.SLORowProvider): "row", int(slo.SLOObjective): "stat",
			int(slo.SLOSLI): "stat", int(slo.SLOBudget): "bargauge", int(slo.SLOExhaustion): "stat", int(slo.SLOBurnAvail): "timeseries",
			int(slo.SLOBurnLatency): "timeseries", int(slo.SLOBudgetOverTime): "timeseries", int(slo.SLOAvailSLI): "timeseries",
			int(slo.SLOLatencySLI): "timeseries",
		},
	}
	types := map[string]map[int]string{}
	for _, d := range parsed(t, defaultOptions()) {
		types[d.UID] = map[int]string{}
		for _, p := range d.allPanels() {
			if _, dup := types[d.UID][p.ID]; dup {
				t.Errorf("%s: panel ID %d is used twice", d.UID, p.ID)
			}
			types[d.UID][p.ID] = p.Type
		}
		for id, typ := range types[d.UID] {
			if want[d.UID][id] != typ {
				t.Errorf("%s: panel %d is a %s, slo/panels.go says %q", d.UID, id, typ, want[d.UID][id])
			}
		}
		for id := range want[d.UID] {
			if _, ok := types[d.UID][id]; !ok {
				t.Errorf("%s: documented panel %d is missing", d.UID, id)
			}
		}
	}
	for _, alert := range slo.AlertNames() {
		for _, cause := range []string{"", slo.CauseNetwork, slo.CauseProviders} {
			ref, ok := slo.AlertPanel(alert, map[string]string{slo.LabelCause: cause})
			if !ok {
				t.Errorf("slo.AlertPanel(%s) has no panel", alert)
				continue
			}
			if typ := types[ref.DashboardUID][int(ref.PanelID)]; typ == "" || typ == "row" {
				t.Errorf("slo.AlertPanel(%s, cause %q) = %+v, which is not a panel", alert, cause, ref)
			}
		}
	}
	if _, ok := slo.AlertPanel("NoSuchAlert", nil); ok {
		t.Error("slo.AlertPanel knows an alert that does not exist")
	}
}

// The burn-rate panels draw the alerting factors of the spec's SLO window:
// 14.4, 6, 3 and 1 for 30 days.
func TestBurnRatePanelsDrawTheAlertThresholds(t *testing.T) {
	if got := defaultOptions().burnThresholds(); !slices.Equal(got, []float64{1, 3, 6, 14.4}) {
		t.Errorf("burn thresholds %v, want [1 3 6 14.4]", got)
	}
	data := rendered(t, defaultOptions())[slo.DashboardSLO]
	var d struct {
		Panels []struct {
			ID          int `json:"id"`
			FieldConfig struct {
				Defaults struct {
					Thresholds struct {
						Steps []struct {
							Value *float64 `json:"value"`
						} `json:"steps"`
					} `json:"thresholds"`
					Custom struct {
						ThresholdsStyle struct {
							Mode string `json:"mode"`
						} `json:"thresholdsStyle"`
					} `json:"custom"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Panels {
		if p.ID != int(slo.SLOBurnAvail) && p.ID != int(slo.SLOBurnLatency) {
			continue
		}
		var got []float64
		for _, s := range p.FieldConfig.Defaults.Thresholds.Steps {
			if s.Value != nil {
				got = append(got, *s.Value)
			}
		}
		if !slices.Equal(got, []float64{1, 3, 6, 14.4}) || p.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode == "off" {
			t.Errorf("burn-rate panel %d draws thresholds %v (%s), want 1, 3, 6, 14.4", p.ID, got, p.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode)
		}
	}
	// Another SLO window moves the factors and the window's series.
	o := defaultOptions()
	o.Spec.Window = slo.Duration(28 * 24 * 60 * 60 * 1e9)
	if got := o.burnThresholds(); got[len(got)-1] != 13.44 {
		t.Errorf("28d window: fastest page at %v, want 13.44", got[len(got)-1])
	}
	if !bytes.Contains(rendered(t, o)[slo.DashboardSLO], []byte(":ratio28d")) {
		t.Error("28d window: the SLO dashboard does not read the 28d series")
	}
}

func TestProvisioningPointsAtTheDashboardsAndTheDatasource(t *testing.T) {
	files, err := Generate(defaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Data)
	}
	ds := byPath[FileDatasource]
	for _, want := range []string{"uid: " + slo.DatasourceUID, "type: prometheus", "url: http://prometheus:9090", "timeInterval: 15s"} {
		if !strings.Contains(ds, want) {
			t.Errorf("datasource provisioning lacks %q:\n%s", want, ds)
		}
	}
	if !strings.Contains(byPath[FileDashboardProvider], "path: "+DashboardsPath) {
		t.Errorf("dashboard provider does not read %s", DashboardsPath)
	}
	o := defaultOptions()
	o.PrometheusURL = "http://central:9090"
	files, _ = Generate(o)
	for _, f := range files {
		if f.Path == FileDatasource && !bytes.Contains(f.Data, []byte("url: http://central:9090")) {
			t.Error("PrometheusURL is not the datasource's url")
		}
	}
}
