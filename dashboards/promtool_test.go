package dashboards

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

// Every dashboard query (variables filled in as Grafana would) parses in
// the oldest supported Prometheus, 2.42, and in Prometheus 3: each becomes
// a recording rule of a file that both promtools check. A query only one
// of them accepts is a defect (a function or syntax too new or gone).
func TestEveryQueryPassesBothPromtools(t *testing.T) {
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, d := range parsed(t, defaultOptions()) {
		values := staticValues(d)
		add := func(expr string) {
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard_query:%s:q%d", strings.ReplaceAll(d.UID, "-", "_"), len(rules)), Expr: expr})
		}
		for _, q := range d.queries() {
			expr, err := expand(q.Expr, values)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			add(expr)
		}
		for _, x := range d.Templating.List {
			if m := reLabelValues.FindStringSubmatch(x.Query); m != nil {
				expr, _ := expand(m[1], values)
				add(expr)
			}
		}
	}
	if len(rules) < 50 {
		t.Fatalf("only %d queries", len(rules))
	}
	data, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard-queries", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "queries.yml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.EachPromtool(t, func(t *testing.T, promtool string) {
		out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
		if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(rules))) {
			t.Errorf("promtool check rules on the dashboards' queries: %v\n%s", err, out)
		}
	})
}
