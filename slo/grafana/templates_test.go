package grafana

import (
	"strings"
	"testing"
	"text/template/parse"

	"github.com/llmprobe/llmprobe/slo"
)

// grafanaFuncs are the functions Grafana's alert templates offer (names
// only); query, first and sortByLabel are not among them.
var grafanaFuncs = map[string]any{}

func init() {
	for _, name := range []string{"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
		"title", "toUpper", "toLower", "match", "reReplaceAll", "graphLink", "tableLink", "args", "safeHtml", "externalURL",
		"pathPrefix", "printf", "len", "index", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "print", "urlquery"} {
		grafanaFuncs[name] = struct{}{}
	}
}

func TestGrafanaTextKeepsLabelsAndWordsQueries(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{{ $labels.region }}: the worker stopped`, `{{$labels.region}}: the worker stopped`},
		{`x seen from {{ range $i, $s := query (printf "a{r=%q}" $labels.r) | sortByLabel "region" }}{{ if $i }}, {{ end }}{{ $s.Labels.region }}{{ else }}none{{ end }} now`,
			`x seen from the regions on the linked panel now`},
		{`slower than {{ with query (printf "x:llmprobe_slo_latency_threshold:seconds{p=%q}" $labels.p) }}{{ . | first | value | humanizeDuration }}{{ end }}`,
			`slower than the latency SLO's threshold`},
		{`{{ $value }} providers`, `{{$value}} providers`},
	}
	for _, tt := range tests {
		got, err := grafanaText(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("grafanaText(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestEveryGrafanaAnnotationUsesOnlyGrafanaFunctions parses every generated
// Grafana annotation with Grafana's function set: a Prometheus-only
// function would be a template error in Grafana.
func TestEveryGrafanaAnnotationUsesOnlyGrafanaFunctions(t *testing.T) {
	for _, p := range []slo.Profile{slo.DefaultProfile(), slo.TestProfile()} {
		res, err := slo.Generate(slo.DefaultSpec(p), p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var rules []slo.Rule
		for _, g := range res.Alerts.Groups {
			rules = append(rules, g.Rules...)
		}
		for _, r := range rules {
			ann, err := Annotations(r)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range ann {
				// Grafana declares these before an alert template.
				const header = "{{$labels := .Labels}}{{$values := .Values}}{{$value := .Value}}"
				if _, err := parse.Parse("a", header+v, "{{", "}}", grafanaFuncs); err != nil {
					t.Errorf("%s %s: %v\n%s", r.Alert, k, err, v)
				}
				if strings.Contains(v, "query") {
					t.Errorf("%s %s still calls query: %s", r.Alert, k, v)
				}
				n++
			}
		}
		if n == 0 {
			t.Fatal("no annotations checked")
		}
	}
}
