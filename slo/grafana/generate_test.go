package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	sdk "github.com/grafana/grafana-foundation-sdk/go/alerting"
	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/slo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the generator's output")

// testCase is one spec and profile: the same three the slo package keeps
// golden files for.
type testCase struct {
	name    string
	profile slo.Profile
	spec    string // a spec file, or "" for the defaults
}

func testCases() []testCase {
	return []testCase{
		{name: "default", profile: slo.DefaultProfile()},
		{name: "test", profile: slo.TestProfile()},
		{name: "custom", profile: slo.DefaultProfile(), spec: "../testdata/specs/custom.yaml"},
	}
}

// generate runs slo.Generate and this package's Generate on the case.
func (c testCase) generate(t *testing.T) (slo.Spec, slo.Result, []slo.File) {
	t.Helper()
	s := slo.DefaultSpec(c.profile)
	if c.spec != "" {
		var err error
		if s, err = slo.Load(c.spec, c.profile); err != nil {
			t.Fatal(err)
		}
	}
	res, err := slo.Generate(s, c.profile)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(s, c.profile, res)
	if err != nil {
		t.Fatal(err)
	}
	return s, res, files
}

// file returns the generated file at p.
func file(t *testing.T, files []slo.File, p string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == p {
			return f.Data
		}
	}
	t.Fatalf("no file %s generated", p)
	return nil
}

func TestGeneratedFilesMatchTheGoldenFiles(t *testing.T) {
	for _, c := range testCases() {
		t.Run(c.name, func(t *testing.T) {
			_, _, files := c.generate(t)
			if len(files) != 3 {
				t.Fatalf("generated %d files, want 3", len(files))
			}
			for _, f := range files {
				golden := testkit.GoldenPath(c.name, f.Path)
				testkit.Golden(t, golden, f.Data, *update)
			}
		})
	}
}

// headerOf returns the comment lines a file starts with, without "# ",
// leaving out the generated-code line.
func headerOf(data []byte) []string {
	var out []string
	for i, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		if i > 0 {
			out = append(out, strings.TrimPrefix(l, "# "))
		}
	}
	return out
}

func TestProvisioningDecodesIntoTheSDKTypesWithoutLoss(t *testing.T) {
	for _, c := range testCases() {
		t.Run(c.name, func(t *testing.T) {
			_, _, files := c.generate(t)
			for _, tc := range []struct {
				path string
				v    any
			}{
				{FileRules, &RulesFile{}},
				{FileContactPoints, &ContactPointsFile{}},
				{FilePolicies, &PoliciesFile{}},
			} {
				data := file(t, files, tc.path)
				if err := Decode(data, tc.v); err != nil {
					t.Fatalf("%s: %v", tc.path, err)
				}
				again, err := Render(reflect.ValueOf(tc.v).Elem().Interface(), headerOf(data)...)
				if err != nil {
					t.Fatalf("%s: %v", tc.path, err)
				}
				if !bytes.Equal(again, data) {
					t.Errorf("%s: decoding into the SDK's types and encoding again changed it:\n%s", tc.path, again)
				}
			}
		})
	}
}

// TestEveryObjectPassesTheSDKsStrictDecoding decodes each rule, receiver
// and policy with the SDK's strict decoder, which rejects unknown fields
// and missing required ones.
func TestEveryObjectPassesTheSDKsStrictDecoding(t *testing.T) {
	_, _, files := testCases()[0].generate(t)
	var generic map[string]any
	if err := yaml.Unmarshal(file(t, files, FileRules), &generic); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range generic["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			// The file format's own panel link, beside the SDK's fields.
			delete(r.(map[string]any), "dashboardUid")
			delete(r.(map[string]any), "panelId")
			raw, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var rule sdk.Rule
			if err := rule.UnmarshalJSONStrict(raw); err != nil {
				t.Errorf("rule %s: %v", r.(map[string]any)["uid"], err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no rules")
	}
	if err := yaml.Unmarshal(file(t, files, FileContactPoints), &generic); err != nil {
		t.Fatal(err)
	}
	for _, cp := range generic["contactPoints"].([]any) {
		for _, r := range cp.(map[string]any)["receivers"].([]any) {
			raw, _ := json.Marshal(r)
			var rec sdk.ContactPoint
			if err := rec.UnmarshalJSONStrict(raw); err != nil {
				t.Errorf("receiver: %v", err)
			}
		}
	}
}

// promModel is what the condition test reads from a query's model.
type promModel struct {
	Expr       string `json:"expr"`
	Instant    bool   `json:"instant"`
	Range      bool   `json:"range"`
	Expression string `json:"expression"`
	Type       string `json:"type"`
}

func modelOf(t *testing.T, q sdk.Query) promModel {
	t.Helper()
	raw, err := json.Marshal(q.Model)
	if err != nil {
		t.Fatal(err)
	}
	var m promModel
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGrafanaRulesExpressTheSameConditionsAsThePrometheusRules reads the
// generated rules file back and checks it against slo.Generate's alerting
// rules, one for one and in order: same alert name, the same PromQL
// expression byte for byte as the instant query A (so the same burn-rate
// thresholds, windows, minimum-failure guards and quorum, which live in the
// PromQL), a condition B that fires for every series A returns (the
// Prometheus semantics), no-data as inactive, the same `for`, the same
// labels, the same annotations but for $value (Grafana's is
// $values.A.Value) and the panel link, and the Prometheus group's
// evaluation interval.
func TestGrafanaRulesExpressTheSameConditionsAsThePrometheusRules(t *testing.T) {
	for _, c := range testCases() {
		t.Run(c.name, func(t *testing.T) {
			_, res, files := c.generate(t)
			var rf RulesFile
			if err := Decode(file(t, files, FileRules), &rf); err != nil {
				t.Fatal(err)
			}
			type grafanaRule struct {
				group RuleGroup
				rule  sdk.Rule
			}
			var got []grafanaRule
			for _, g := range rf.Groups {
				for _, r := range g.Rules {
					if r.DashboardUID != r.Rule.Annotations[AnnotationDashboardUID] || fmt.Sprint(r.PanelID) != r.Rule.Annotations[AnnotationPanelID] {
						t.Errorf("rule %s: dashboardUid %s panelId %d, annotations say %s %s", r.Rule.Title, r.DashboardUID, r.PanelID,
							r.Rule.Annotations[AnnotationDashboardUID], r.Rule.Annotations[AnnotationPanelID])
					}
					got = append(got, grafanaRule{g, r.Rule})
				}
			}
			var want []slo.Rule
			interval := map[string]string{} // alert name -> its Prometheus group's interval
			for _, g := range res.Alerts.Groups {
				for _, r := range g.Rules {
					if r.Alert != "" {
						want = append(want, r)
						interval[r.Alert] = g.Interval
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d Grafana rules, %d Prometheus alerting rules", len(got), len(want))
			}
			// The file groups rules by SLO: its order is the Prometheus
			// order, stably grouped.
			slices.SortStableFunc(want, func(a, b slo.Rule) int {
				return slices.Index(groupOrder, GroupOf(a.Alert)) - slices.Index(groupOrder, GroupOf(b.Alert))
			})
			uids := map[string]bool{}
			for i, w := range want {
				g, r := got[i].group, got[i].rule
				name := fmt.Sprintf("rule %d (%s)", i, w.Alert)
				if r.Title != w.Alert {
					t.Errorf("%s: title %q, want the alert name", name, r.Title)
				}
				if g.Name != GroupOf(w.Alert) || r.RuleGroup != g.Name || g.Folder != Folder || r.FolderUID != Folder {
					t.Errorf("%s: group %q folder %q (rule says %q, %q)", name, g.Name, g.Folder, r.RuleGroup, r.FolderUID)
				}
				if g.Interval != interval[w.Alert] {
					t.Errorf("%s: group interval %s, Prometheus evaluates every %s", name, g.Interval, interval[w.Alert])
				}
				if r.Uid == nil || uids[*r.Uid] || len(*r.Uid) > 40 {
					t.Errorf("%s: uid missing, repeated or too long", name)
				} else {
					uids[*r.Uid] = true
				}
				if len(r.Data) != 2 {
					t.Fatalf("%s: %d queries, want A and B", name, len(r.Data))
				}
				a, b := r.Data[0], r.Data[1]
				if *a.RefId != RefQuery || *a.DatasourceUid != slo.DatasourceUID {
					t.Errorf("%s: query A is %s on %s", name, *a.RefId, *a.DatasourceUid)
				}
				am := modelOf(t, a)
				if am.Expr != w.Expr {
					t.Errorf("%s: PromQL differs:\n%s\nwant\n%s", name, am.Expr, w.Expr)
				}
				if !am.Instant || am.Range {
					t.Errorf("%s: query A is not an instant query", name)
				}
				bm := modelOf(t, b)
				if r.Condition != RefCondition || *b.RefId != RefCondition || *b.DatasourceUid != ExprDatasourceUID ||
					bm.Type != "math" || bm.Expression != FiresForEverySeries {
					t.Errorf("%s: condition %s is %s %q, want B: math %q", name, r.Condition, bm.Type, bm.Expression, FiresForEverySeries)
				}
				if r.NoDataState != sdk.RuleNoDataStateOK {
					t.Errorf("%s: no data is %s, want OK (no series: inactive)", name, r.NoDataState)
				}
				if r.For != forDuration(w.For) {
					t.Errorf("%s: for %q, want %q", name, r.For, w.For)
				}
				if !maps.Equal(r.Labels, w.Labels) {
					t.Errorf("%s: labels %v, want %v", name, r.Labels, w.Labels)
				}
				ann := maps.Clone(r.Annotations)
				panel, _ := slo.AlertPanel(w.Alert, w.Labels)
				if ann[AnnotationDashboardUID] != panel.DashboardUID || ann[AnnotationPanelID] != fmt.Sprint(panel.PanelID) {
					t.Errorf("%s: links to %s panel %s, want %v", name, ann[AnnotationDashboardUID], ann[AnnotationPanelID], panel)
				}
				delete(ann, AnnotationDashboardUID)
				delete(ann, AnnotationPanelID)
				for k, v := range ann {
					ann[k] = strings.ReplaceAll(v, "$values.A.Value", "$value")
				}
				want := map[string]string{}
				for k, v := range w.Annotations {
					text, err := grafanaText(v)
					if err != nil {
						t.Fatal(err)
					}
					want[k] = text
				}
				if !maps.Equal(ann, want) {
					t.Errorf("%s: annotations differ:\n%v\nwant\n%v", name, ann, want)
				}
			}
		})
	}
}

// amRoute is the part of an Alertmanager route the policy tree mirrors.
type amRoute struct {
	Receiver       string    `yaml:"receiver"`
	GroupBy        []string  `yaml:"group_by"`
	GroupWait      string    `yaml:"group_wait"`
	GroupInterval  string    `yaml:"group_interval"`
	RepeatInterval string    `yaml:"repeat_interval"`
	Matchers       []string  `yaml:"matchers"`
	Routes         []amRoute `yaml:"routes"`
}

// asRoute writes a policy the way the Alertmanager configuration does.
func asRoute(p sdk.NotificationPolicy) amRoute {
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	r := amRoute{Receiver: str(p.Receiver), GroupBy: p.GroupBy, GroupWait: str(p.GroupWait),
		GroupInterval: str(p.GroupInterval), RepeatInterval: str(p.RepeatInterval)}
	if p.ObjectMatchers != nil {
		for _, m := range *p.ObjectMatchers {
			r.Matchers = append(r.Matchers, fmt.Sprintf("%s%s%q", m[0], m[1], m[2]))
		}
	}
	for _, c := range p.Routes {
		r.Routes = append(r.Routes, asRoute(c))
	}
	return r
}

func TestPolicyTreeRoutesAndGroupsLikeTheAlertmanagerConfig(t *testing.T) {
	for _, c := range testCases() {
		t.Run(c.name, func(t *testing.T) {
			_, res, files := c.generate(t)
			var am struct {
				Route amRoute `yaml:"route"`
			}
			var found bool
			for _, f := range res.Files {
				if f.Path == slo.FileAlertmanager {
					found = true
					if err := yaml.Unmarshal(f.Data, &am); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !found {
				t.Fatal("slo.Generate wrote no Alertmanager config")
			}
			var pf PoliciesFile
			if err := Decode(file(t, files, FilePolicies), &pf); err != nil {
				t.Fatal(err)
			}
			if len(pf.Policies) != 1 || pf.Policies[0].OrgID != OrgID {
				t.Fatalf("want one policy tree for org %d, got %+v", OrgID, pf.Policies)
			}
			if got := asRoute(pf.Policies[0].Tree); !reflect.DeepEqual(got, am.Route) {
				t.Errorf("policy tree\n%+v\nAlertmanager route\n%+v", got, am.Route)
			}
			var cf ContactPointsFile
			if err := Decode(file(t, files, FileContactPoints), &cf); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, cp := range cf.ContactPoints {
				names = append(names, cp.Name)
			}
			if !slices.Equal(names, []string{slo.ReceiverPage, slo.ReceiverTicket}) {
				t.Errorf("contact points %v, want the Alertmanager receivers", names)
			}
		})
	}
}

func TestContactPointsPostToTheSpecsWebhook(t *testing.T) {
	p := slo.DefaultProfile()
	s := slo.DefaultSpec(p)
	s.Alertmanager.WebhookURL = "https://hooks.example.com/llmprobe"
	cps, err := ContactPoints(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		if len(cp.Receivers) != 1 {
			t.Fatalf("%s: %d receivers", cp.Name, len(cp.Receivers))
		}
		r := cp.Receivers[0]
		if r.Type != sdk.ContactPointTypeWebhook || r.Settings.(map[string]any)["url"] != s.Alertmanager.WebhookURL {
			t.Errorf("%s: %s %v, want a webhook to %s", cp.Name, r.Type, r.Settings, s.Alertmanager.WebhookURL)
		}
	}
}

func TestEveryAlertLinksToAPanel(t *testing.T) {
	for _, alert := range slo.AlertNames() {
		if _, err := Annotations(slo.Rule{Alert: alert}); err != nil {
			t.Error(err)
		}
	}
	if _, err := Annotations(slo.Rule{Alert: "NoSuchAlert"}); err == nil {
		t.Error("an alert with no panel was accepted")
	}
}
