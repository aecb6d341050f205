package slo

import (
	"bytes"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the generator's output")

// goldenCase is one spec and profile whose whole output is kept in testdata.
type goldenCase struct {
	name    string
	profile Profile
	spec    string // a file under testdata/specs, or "" for the defaults
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "default", profile: DefaultProfile()},
		{name: "test", profile: TestProfile()},
		{name: "custom", profile: DefaultProfile(), spec: "testdata/specs/custom.yaml"},
	}
}

func (c goldenCase) generate(t *testing.T) Result {
	t.Helper()
	s := DefaultSpec(c.profile)
	if c.spec != "" {
		var err error
		if s, err = Load(c.spec, c.profile); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Generate(s, c.profile)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGeneratedFilesMatchTheGoldenFiles(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range c.generate(t).Files {
				golden := testkit.GoldenPath(c.name, f.Path)
				testkit.Golden(t, golden, f.Data, *update)
			}
		})
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, c := range goldenCases() {
		a, b := c.generate(t), c.generate(t)
		for i := range a.Files {
			if !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
				t.Errorf("%s/%s differs between two runs", c.name, a.Files[i].Path)
			}
		}
	}
}

func TestGenerateWritesTheFourFilesUnderDeployPaths(t *testing.T) {
	res := goldenCases()[0].generate(t)
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
		if !bytes.HasPrefix(f.Data, []byte(generatedHeader)) {
			t.Errorf("%s does not start with %q", f.Path, generatedHeader)
		}
	}
	want := []string{FileSLIRules, FileAlertRules, FileAlertmanager, FileAlertmanagerSubtree, FilePrometheusRule}
	if !slices.Equal(paths, want) {
		t.Errorf("files %v, want %v", paths, want)
	}
}

var reRuleName = regexp.MustCompile(`\b[a-z_]+:llmprobe_[a-z_]+:[a-z0-9_]+\b`)

// Recording rule names follow level:metric:operation with the levels,
// metrics and operations of conventions.go, and every recorded name that an
// alert expression or annotation reads is recorded: dashboards and alerts
// never read a series nobody writes.
func TestRuleNamesFollowTheConventionsAndAlertsReadOnlyRecordedSeries(t *testing.T) {
	levels := []string{LevelProviderCheck, LevelProviderCheckRegion, LevelProviderCheckLayer,
		LevelProviderCheckLayerRegion, LevelRegion, LevelEdgeProvider, LevelEdgeProviderRegion, LevelProviderCheckPhaseRegion}
	reOp := regexp.MustCompile(`^(increase|ratio|seconds)(\d+[dhms])+$|^(max|count|ratio|seconds|increase_fast)$`)
	for _, c := range goldenCases() {
		res := c.generate(t)
		recorded := map[string]bool{}
		for _, g := range append(slices.Clone(res.SLI.Groups), res.Alerts.Groups...) {
			for _, r := range g.Rules {
				if r.Record == "" {
					continue
				}
				parts := strings.Split(r.Record, ":")
				if len(parts) != 3 || !slices.Contains(levels, parts[0]) || !strings.HasPrefix(parts[1], "llmprobe_") || !reOp.MatchString(parts[2]) {
					t.Errorf("%s: rule %q is not level:llmprobe_metric:operation", c.name, r.Record)
				}
				recorded[r.Record] = true
			}
		}
		read := map[string]bool{}
		for _, files := range []RuleFile{res.SLI, res.Alerts} {
			for _, g := range files.Groups {
				for _, r := range g.Rules {
					for _, n := range reRuleName.FindAllString(r.Expr, -1) {
						read[n] = true
					}
					for _, a := range r.Annotations {
						for _, n := range reRuleName.FindAllString(a, -1) {
							read[n] = true
						}
					}
				}
			}
		}
		for n := range read {
			if !recorded[n] {
				t.Errorf("%s: %s is read but never recorded", c.name, n)
			}
		}
		if len(read) < 20 {
			t.Errorf("%s: only %d recorded series are read; the check is not looking", c.name, len(read))
		}
	}
}

func TestEveryWindowIsRecordedGloballyAndPerRegion(t *testing.T) {
	res := goldenCases()[0].generate(t)
	recorded := map[string]bool{}
	for _, g := range res.SLI.Groups {
		for _, r := range g.Rules {
			recorded[r.Record] = true
		}
	}
	for _, w := range []time.Duration{5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour, 72 * time.Hour, 30 * 24 * time.Hour} {
		for _, level := range []string{LevelProviderCheck, LevelProviderCheckRegion} {
			for _, n := range []string{
				IncreaseName(level, MetricProbesValid, w), IncreaseName(level, MetricProbesSuccess, w),
				IncreaseName(level, MetricProbesFailed, w), RatioName(level, MetricSLIAvailability, w),
				IncreaseName(level, MetricLatencyValid, w), IncreaseName(level, MetricLatencyGood, w),
				RatioName(level, MetricSLILatency, w), RatioName(level, MetricBurnRate, w),
			} {
				if !recorded[n] {
					t.Errorf("%s is not recorded", n)
				}
			}
		}
		for _, n := range []string{
			IncreaseName(LevelProviderCheckLayer, MetricProbesFailed, w), IncreaseName(LevelProviderCheckLayerRegion, MetricProbesFailed, w),
			RatioName(LevelProviderCheckLayer, MetricErrorAttribution, w), RatioName(LevelProviderCheckLayerRegion, MetricErrorAttribution, w),
			RatioName(LevelProviderCheck, MetricUptime, w),
		} {
			if !recorded[n] {
				t.Errorf("%s is not recorded", n)
			}
		}
	}
}

// The alert contract (DESIGN.md): names and the labels routing relies on.
func TestAlertsCarryTheContractLabels(t *testing.T) {
	res := goldenCases()[0].generate(t)
	seen := map[string]int{}
	var rules []Rule
	for _, g := range res.Alerts.Groups {
		rules = append(rules, g.Rules...)
	}
	for _, r := range rules {
		if r.Alert == "" {
			continue // the fast group's recording rules
		}
		seen[r.Alert]++
		sev := r.Labels[LabelSeverity]
		if sev != SeverityPage && sev != SeverityTicket {
			t.Errorf("%s: severity %q", r.Alert, sev)
		}
		for _, k := range []string{AnnotationSummary, AnnotationDescription, AnnotationRunbookURL, AnnotationDashboardURL} {
			if r.Annotations[k] == "" {
				t.Errorf("%s: no %s annotation", r.Alert, k)
			}
		}
		if want := "https://github.com/llmprobe/llmprobe#" + strings.ToLower(r.Alert); r.Annotations[AnnotationRunbookURL] != want {
			t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations[AnnotationRunbookURL], want)
		}
		if !strings.Contains(r.Annotations[AnnotationDashboardURL], "/d/llmprobe-") {
			t.Errorf("%s: dashboard_url %q links no llmprobe dashboard", r.Alert, r.Annotations[AnnotationDashboardURL])
		}
		switch r.Alert {
		case AlertErrorBudgetBurn:
			// provider, check, layer and edge come from the expression.
			if r.Labels[LabelSLO] != SLOAvailability || !strings.Contains(r.Expr, "group_right") || !strings.Contains(r.Expr, "group_left (edge)") {
				t.Errorf("%s: labels %v or expression do not give slo, layer and edge", r.Alert, r.Labels)
			}
			if !strings.Contains(r.Annotations[AnnotationSummary], "$labels.layer") || !strings.Contains(r.Annotations[AnnotationSummary], "Labels.region") {
				t.Errorf("%s: summary does not name the layer and the regions", r.Alert)
			}
		case AlertLatencyBudgetBurn:
			if r.Labels[LabelSLO] != SLOLatency || r.Labels[LabelLayer] != "origin" {
				t.Errorf("%s: labels %v", r.Alert, r.Labels)
			}
		case AlertSharedEdgeIncident:
			if sev != SeverityPage || !strings.HasPrefix(r.Expr, "count by (edge)") {
				t.Errorf("%s: severity %s, expression not by edge", r.Alert, sev)
			}
		case AlertRegionalFailure:
			if sev != SeverityTicket || (r.Labels[LabelCause] != CauseNetwork && r.Labels[LabelCause] != CauseProviders) {
				t.Errorf("%s: labels %v", r.Alert, r.Labels)
			}
		case AlertWorkerDown:
			if !strings.Contains(r.Expr, "max_over_time(llmprobe_check_last_run_timestamp_seconds[1d])") {
				t.Errorf("%s: no absent-series branch", r.Alert)
			}
		case AlertMisconfigured:
			if sev != SeverityTicket || !strings.Contains(r.Expr, "reason") {
				t.Errorf("%s: labels %v", r.Alert, r.Labels)
			}
		case AlertProviderDown:
			// provider, check, layer and edge come from the expression.
			if sev != SeverityPage || !strings.Contains(r.Expr, "group_right") || strings.Count(r.Expr, "group_left (edge)") != 1 || !strings.Contains(r.Expr, "unless on (region)") {
				t.Errorf("%s: labels %v or expression do not give layer, edge and the network-down exclusion", r.Alert, r.Labels)
			}
			if !strings.Contains(r.Annotations[AnnotationSummary], "Labels.reason") || !strings.Contains(r.Annotations[AnnotationSummary], "Labels.region") {
				t.Errorf("%s: summary does not name the reasons and the regions", r.Alert)
			}
		case AlertDegraded:
			if sev != SeverityTicket || !strings.HasPrefix(r.Expr, "count by (provider, check, phase)") || r.For == "" {
				t.Errorf("%s: severity %s, expression not by provider, check and phase, or no for", r.Alert, sev)
			}
		default:
			t.Errorf("unexpected alert %s", r.Alert)
		}
	}
	for _, a := range AlertNames() {
		if seen[a] == 0 {
			t.Errorf("no rule for %s", a)
		}
	}
	if seen[AlertErrorBudgetBurn] != 2 || seen[AlertLatencyBudgetBurn] != 2 || seen[AlertRegionalFailure] != 2 {
		t.Errorf("rules per alert %v, want a page and a ticket rule per burn alert and two regional rules", seen)
	}
}

func TestBurnRateFactorsAreTheWorkbooks(t *testing.T) {
	month := 30 * 24 * time.Hour
	var got []float64
	for _, b := range BurnWindows() {
		got = append(got, b.Factor(month))
	}
	if want := []float64{14.4, 6, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("factors for 30d = %v, want %v", got, want)
	}
	if f := BurnWindows()[0].Factor(28 * 24 * time.Hour); f != 13.44 {
		t.Errorf("1h factor for 28d = %v, want 13.44 (2%% of the budget in 1h)", f)
	}
	ws := RecordingWindows(month)
	var names []string
	for _, w := range ws {
		names = append(names, FormatDuration(w))
	}
	if want := []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"}; !slices.Equal(names, want) {
		t.Errorf("recording windows %v, want %v", names, want)
	}
}

// The test profile keeps every rule name and scales every range 60 times.
func TestTestProfileKeepsNamesAndScalesRanges(t *testing.T) {
	def, test := goldenCases()[0].generate(t), goldenCases()[1].generate(t)
	names := func(r Result) []string {
		var out []string
		for _, f := range []RuleFile{r.SLI, r.Alerts} {
			for _, g := range f.Groups {
				for _, rule := range g.Rules {
					out = append(out, rule.Record+rule.Alert)
				}
			}
		}
		return out
	}
	if !slices.Equal(names(def), names(test)) {
		t.Error("the test profile records or alerts under other names")
	}
	ranges := func(r Result) map[string]bool {
		out := map[string]bool{}
		for _, f := range []RuleFile{r.SLI, r.Alerts} {
			for _, g := range f.Groups {
				for _, rule := range g.Rules {
					for _, m := range regexp.MustCompile(`\[(\w+)\]`).FindAllStringSubmatch(rule.Expr, -1) {
						out[m[1]] = true
					}
				}
			}
		}
		return out
	}
	// The fast window is probe intervals, not a nominal span: 8 x 30s here,
	// 8 x 1s in the test profile.
	fast := FormatDuration(DefaultSpec(DefaultProfile()).FastWindow())
	if want := FormatDuration(DefaultSpec(TestProfile()).FastWindow()); !ranges(test)[want] {
		t.Errorf("the test profile has no fast window [%s]", want)
	}
	for d := range ranges(def) {
		if d == fast {
			continue
		}
		nominal, err := ParseDuration(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := FormatDuration(nominal / 60); !ranges(test)[want] {
			t.Errorf("default range [%s] has no [%s] in the test profile", d, want)
		}
	}
	for _, g := range test.SLI.Groups {
		if iv, _ := ParseDuration(g.Interval); iv > 2*time.Second {
			t.Errorf("test profile group %s is evaluated every %s", g.Name, g.Interval)
		}
	}
}

func TestPrometheusRuleHoldsTheRuleFilesGroups(t *testing.T) {
	for _, c := range goldenCases() {
		res := c.generate(t)
		var pr prometheusRule
		for _, f := range res.Files {
			if f.Path == FilePrometheusRule {
				if err := yaml.Unmarshal(f.Data, &pr); err != nil {
					t.Fatal(err)
				}
			}
		}
		if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Metadata.Name != PrometheusRuleName {
			t.Errorf("%s: header %s %s %s", c.name, pr.APIVersion, pr.Kind, pr.Metadata.Name)
		}
		want := append(append([]RuleGroup{}, res.SLI.Groups...), res.Alerts.Groups...)
		got, _ := yaml.Marshal(pr.Spec.Groups)
		w, _ := yaml.Marshal(want)
		if !bytes.Equal(got, w) || len(pr.Spec.Groups) != 5 {
			t.Errorf("%s: the PrometheusRule's groups differ from the rule files'", c.name)
		}
	}
}

func TestMeasurabilityWarnings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile Profile
		file    string
		want    []string // substrings, each in some warning
	}{
		{name: "the defaults measure every objective", profile: DefaultProfile(), file: "apiVersion: llmprobe/v1\n"},
		{name: "the test profile's 1m page window is below the minimum count for 99.9%", profile: TestProfile(), file: "apiVersion: llmprobe/v1\n",
			want: []string{"availability objective 0.999 for reach", "page 14.4x over 1m is 2.6 failed probes of 180, fewer than minFailedProbes (3): it fires only from 16.7x"}},
		{name: "one region probing every 10m cannot measure 99.99%", profile: DefaultProfile(),
			file: "apiVersion: llmprobe/v1\nregions: 1\nprobeInterval: 10m\nchecks: {reach: {availability: 0.9999}}\n",
			want: []string{"window 5m (5m in this profile) holds 0.5 probes per region",
				"the whole error budget over 30d is 0.4 failed probes of 4320, fewer than minFailedProbes (3): the objective cannot be measured"}},
		{name: "a loose latency objective cannot reach the page burn rate", profile: DefaultProfile(),
			file: "apiVersion: llmprobe/v1\nchecks: {chat: {latency: {objective: 0.9, threshold: 10s}}}\n",
			want: []string{"latency objective 0.9 for chat", "page 14.4x over 1h would need more than every probe to fail: it can never fire (an objective above 0.9306 can)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.file), "slo.yaml", tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			got := Measurability(s, tc.profile)
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("warnings %q, want none", got)
			}
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, w)
				}
				if !found {
					t.Errorf("no warning contains %q; got %q", w, got)
				}
			}
		})
	}
}
