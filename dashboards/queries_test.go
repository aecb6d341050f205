package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/slo"
)

// The rendered JSON, as Grafana reads it: what the tests below inspect.

type dashboardJSON struct {
	UID         string      `json:"uid"`
	Title       string      `json:"title"`
	Panels      []panelJSON `json:"panels"`
	Links       []linkJSON  `json:"links"`
	Templating  struct{ List []variableJSON }
	Annotations struct{ List []annotationJSON }
}

type panelJSON struct {
	ID          int          `json:"id"`
	Type        string       `json:"type"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Repeat      string       `json:"repeat"`
	Datasource  *dsJSON      `json:"datasource"`
	Targets     []targetJSON `json:"targets"`
	Links       []linkJSON   `json:"links"`
	Panels      []panelJSON  `json:"panels"`
	FieldConfig struct {
		Defaults struct {
			Unit     string `json:"unit"`
			Mappings []any  `json:"mappings"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type dsJSON struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type targetJSON struct {
	RefID        string  `json:"refId"`
	Expr         string  `json:"expr"`
	Instant      bool    `json:"instant"`
	Range        bool    `json:"range"`
	Format       string  `json:"format"`
	LegendFormat string  `json:"legendFormat"`
	Datasource   *dsJSON `json:"datasource"`
}

type linkJSON struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

type variableJSON struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Query      string  `json:"query"`
	Multi      bool    `json:"multi"`
	IncludeAll bool    `json:"includeAll"`
	AllValue   string  `json:"allValue"`
	Datasource *dsJSON `json:"datasource"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

type annotationJSON struct {
	Name       string  `json:"name"`
	Expr       string  `json:"expr"`
	Datasource *dsJSON `json:"datasource"`
}

// panelQuery is one query a dashboard runs: a panel target, or an
// annotation (Panel 0).
type panelQuery struct {
	Dashboard string
	PanelID   int
	Panel     string
	RefID     string
	Expr      string
	Instant   bool
	// Repeat is the variable the panel's row repeats over, if any.
	Repeat string
}

func (q panelQuery) String() string {
	return fmt.Sprintf("%s panel %d %q query %s", q.Dashboard, q.PanelID, q.Panel, q.RefID)
}

// rendered builds and renders every dashboard with the options.
func rendered(t testing.TB, o Options) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, b := range All(o) {
		d, err := b.Build()
		if err != nil {
			t.Fatalf("build %T: %v", b, err)
		}
		data, err := Render(d)
		if err != nil {
			t.Fatalf("render %T: %v", b, err)
		}
		out[*d.Uid] = data
	}
	return out
}

// parsed decodes rendered dashboards.
func parsed(t testing.TB, o Options) []dashboardJSON {
	t.Helper()
	var out []dashboardJSON
	r := rendered(t, o)
	uids := make([]string, 0, len(r))
	for uid := range r {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	for _, uid := range uids {
		var d dashboardJSON
		if err := json.Unmarshal(r[uid], &d); err != nil {
			t.Fatalf("%s: %v", uid, err)
		}
		out = append(out, d)
	}
	return out
}

// allPanels flattens rows (collapsed rows hold their panels) and records
// which repeated row each panel is under.
func (d dashboardJSON) allPanels() []struct {
	panelJSON
	repeat string
} {
	var out []struct {
		panelJSON
		repeat string
	}
	repeat := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			repeat = p.Repeat
		}
		out = append(out, struct {
			panelJSON
			repeat string
		}{p, repeat})
		for _, c := range p.Panels {
			out = append(out, struct {
				panelJSON
				repeat string
			}{c, p.Repeat})
		}
	}
	return out
}

// queries lists every PromQL query of a dashboard: panel targets and
// annotations.
func (d dashboardJSON) queries() []panelQuery {
	var out []panelQuery
	for _, p := range d.allPanels() {
		for _, t := range p.Targets {
			out = append(out, panelQuery{Dashboard: d.UID, PanelID: p.ID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr, Instant: t.Instant, Repeat: p.repeat})
		}
	}
	for _, a := range d.Annotations.List {
		out = append(out, panelQuery{Dashboard: d.UID, Panel: "annotation " + a.Name, RefID: "annotation", Expr: a.Expr})
	}
	return out
}

// reVariable matches Grafana's variable syntaxes: $name, ${name},
// ${name:format}, [[name]].
var reVariable = regexp.MustCompile(`\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::\w+)?\]\]`)

// builtinVariables are the variables Grafana defines itself that the
// dashboards use.
var builtinVariables = map[string]bool{"__rate_interval": true, "__range": true, "__interval": true, "__url_time_range": true}

// variablesIn lists the variable names s refers to.
func variablesIn(s string) []string {
	var out []string
	for _, m := range reVariable.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1]+m[2]+m[3])
	}
	return out
}

// expand substitutes variables as Grafana would: values maps each name to
// its interpolated value. An unknown name is an error.
func expand(s string, values map[string]string) (string, error) {
	var missing []string
	out := reVariable.ReplaceAllStringFunc(s, func(m string) string {
		name := variablesIn(m)[0]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return out, fmt.Errorf("undefined variables %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// labelValuesQuery splits a variable's label_values(selector, label).
var reLabelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// recordedNames are the record names of the generated rules.
func recordedNames(t testing.TB, o Options) map[string]bool {
	t.Helper()
	res, err := slo.Generate(o.Spec, o.Profile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, g := range append(res.SLI.Groups, res.Alerts.Groups...) {
		for _, r := range g.Rules {
			if r.Record != "" {
				out[r.Record] = true
			}
		}
	}
	return out
}
