package ruleeval

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/slo"
)

// outageSeries are three regions' probe counters, scraped every 15s:
// healthy for a while, then for 20 minutes every OpenAI probe fails at the
// origin, one probe every 30s per region; Anthropic stays healthy. Values
// are the counters at each scrape, by series.
func outageSeries(healthy time.Duration) (map[string][]float64, time.Duration) {
	const scrape = 15 * time.Second
	end := healthy + 20*time.Minute
	steps := int(end / scrape)
	out := map[string][]float64{}
	for _, region := range []string{"eu-west", "us-east", "ap-south"} {
		for _, provider := range []string{"openai", "anthropic"} {
			ok, failed := make([]float64, steps+1), make([]float64, steps+1)
			var n, f float64
			for k := 0; k <= steps; k++ {
				at := time.Duration(k) * scrape
				if k > 0 && at%(30*time.Second) == 0 {
					if provider == "openai" && at > healthy {
						f++
					} else {
						n++
					}
				}
				ok[k], failed[k] = n, f
			}
			base := fmt.Sprintf(`provider="%s",check="chat",model="m",region="%s"`, provider, region)
			out[`llmprobe_probes_total{`+base+`,outcome="success",reason="ok"}`] = ok
			out[`llmprobe_probes_total{`+base+`,outcome="origin_error",reason="origin_5xx"}`] = failed
			last := make([]float64, steps+1)
			for k := range last {
				last[k] = (time.Duration(k) * scrape).Seconds()
			}
			out[`llmprobe_check_last_run_timestamp_seconds{`+base+`}`] = last
		}
		ones := make([]float64, steps+1)
		for k := range ones {
			ones[k] = 1
		}
		out[`llmprobe_control_success{target="t",region="`+region+`"}`] = ones
		out[`llmprobe_provider_info{provider="openai",region="`+region+`",edge="cloudflare"}`] = ones
	}
	return out, scrape
}

// pagingRuleFiles are the generated rules without the long SLI group (no
// page reads it, and promtool evaluates every group at every step).
func pagingRuleFiles(t *testing.T) (sli, alerts []byte) {
	t.Helper()
	spec := slo.DefaultSpec(slo.DefaultProfile())
	spec.Providers = []string{"openai", "anthropic"}
	res, err := slo.Generate(spec, slo.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	var groups []slo.RuleGroup
	for _, g := range res.SLI.Groups {
		if g.Name != slo.GroupSLILong {
			groups = append(groups, g)
		}
	}
	for _, f := range res.Files {
		if f.Path == slo.FileAlertRules {
			alerts = f.Data
		}
	}
	sli, err = slo.MarshalRuleFile(slo.RuleFile{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	return sli, alerts
}

// TestFirstFiringMatchesPromtool evaluates the generated rules on an
// outage with this package and with promtool test rules, every 15s as
// promtool does: each alert fires first at the same evaluation in both, and
// no other alert fires in promtool.
func TestFirstFiringMatchesPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found: install the Debian package prometheus (apt-get install prometheus)")
	}
	if testing.Short() {
		t.Skip("evaluates 80 minutes of rules twice; skipped with -short")
	}
	// An hour of healthy history fills the page's 1h window. The race
	// detector slows the PromQL engine tenfold, and the comparison is
	// about semantics, not concurrency: there, 20 minutes (the windows
	// partly filled, the same for both evaluators).
	healthy := time.Hour
	if testkit.Race {
		healthy = 20 * time.Minute
	}
	sliRules, alertRules := pagingRuleFiles(t)
	series, scrape := outageSeries(healthy)

	store := NewStore()
	var names []string
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	steps := 0
	for _, name := range names {
		lset, err := parseSeries(name)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range series[name] {
			store.Append(lset, time.UnixMilli(0).Add(time.Duration(k)*scrape), v)
		}
		steps = len(series[name]) - 1
	}
	e, err := New(store, sliRules, alertRules)
	if err != nil {
		t.Fatal(err)
	}
	e.Every = 15 * time.Second
	first := map[string]time.Duration{}
	for k := 0; k <= steps; k++ {
		at := time.Duration(k) * scrape
		events, err := e.Eval(context.Background(), time.UnixMilli(0).Add(at))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			key := ev.Alert.Labels.String()
			if _, ok := first[key]; !ok && ev.Alert.State == StateFiring {
				first[key] = at
			}
		}
	}
	if len(first) == 0 {
		t.Fatal("nothing fired on a total outage")
	}
	var down bool
	for k := range first {
		down = down || strings.Contains(k, `alertname="LLMProbeProviderDown"`)
	}
	if !down {
		t.Fatalf("LLMProbeProviderDown never fired: %v", first)
	}

	// The same series and rules in promtool: each alert's first firing
	// evaluation, and how many alerts fired at all.
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("rule_files: [sli.yml, alerts.yml]\nevaluation_interval: 15s\n")
	b.WriteString("group_eval_order: [llmprobe-sli, llmprobe-fast, llmprobe-fast-alerts, llmprobe-alerts]\n")
	b.WriteString("tests:\n  - interval: 15s\n    input_series:\n")
	for _, name := range names {
		var vs []string
		for _, v := range series[name] {
			vs = append(vs, fmt.Sprint(v))
		}
		fmt.Fprintf(&b, "      - series: '%s'\n        values: '%s'\n", name, strings.Join(vs, " "))
	}
	end := time.Duration(steps) * scrape
	b.WriteString("    promql_expr_test:\n")
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sel := strings.TrimSuffix(strings.TrimPrefix(k, "{"), "}")
		fmt.Fprintf(&b, "      - expr: 'min(min_over_time(timestamp(ALERTS{%s,alertstate=\"firing\"})[%s:15s]))'\n        eval_time: %s\n        exp_samples:\n          - labels: '{}'\n            value: %d\n",
			strings.ReplaceAll(sel, "'", "''"), slo.FormatDuration(end), slo.FormatDuration(end), int(first[k].Seconds()))
	}
	fmt.Fprintf(&b, "      - expr: 'count(count by (alertname, provider, check, layer, severity, slo, edge) (max_over_time(ALERTS{alertstate=\"firing\"}[%s])))'\n        eval_time: %s\n        exp_samples:\n          - labels: '{}'\n            value: %d\n",
		slo.FormatDuration(end), slo.FormatDuration(end), len(first))
	for name, data := range map[string][]byte{"sli.yml": sliRules, "alerts.yml": alertRules, "test.yml": []byte(b.String())} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool disagrees with this evaluator (%d alerts fired here: %v): %v\n%s", len(first), first, err, out)
	}
	t.Logf("%d alerts fired, each at the same evaluation as in promtool: %v", len(first), first)
}

// parseSeries reads a series in promtool's input notation.
func parseSeries(s string) (labels.Labels, error) {
	name, rest, ok := strings.Cut(s, "{")
	if !ok {
		return labels.FromStrings(labels.MetricName, s), nil
	}
	b := labels.NewBuilder(labels.FromStrings(labels.MetricName, name))
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return labels.EmptyLabels(), fmt.Errorf("series %s: %q is not name=value", s, kv)
		}
		b.Set(k, strings.Trim(v, `"`))
	}
	return b.Labels(), nil
}
