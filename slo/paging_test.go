package slo

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
)

// The paging suite: promtool scenarios built here, each after hours of
// healthy history, that hold how fast the generated rules page for the
// incidents users need paged, and that they stay quiet when nothing is
// down. Each runs on every promtool found: Debian's Prometheus 2.42, the
// oldest supported, and Prometheus 3 (left-open ranges).

// pagingRegions are the three regions of every scenario.
var pagingRegions = []string{"eu-west", "us-east", "ap-south"}

// pagingCase is one scenario. Probes run every interval from each region;
// Prometheus scrapes every 15s; the incident starts after healthy history,
// right after a probe, and lasts for outage. The quiet cases keep their
// history short on purpose: a burn rate over a window that holds less
// healthy history is higher, so quiet there is quiet after a healthy day.
type pagingCase struct {
	name     string
	interval time.Duration
	healthy  time.Duration
	outage   time.Duration
	// outcome is probe j's (1-based, since the incident started) outcome
	// for a provider from a region; success outside the incident.
	outcome func(region, provider string, j int) probe.Outcome
	// networkDown says a region's control targets all fail during the
	// incident.
	networkDown map[string]bool
	// fires is the alert that must fire first, with labels; "" for none.
	fires  string
	labels string // as PromQL matchers, e.g. provider="openai",layer="origin"
	within time.Duration
	// figures are the measured times from the incident's start to the first
	// firing evaluation, per promtool (testkit.Promtools): the suite holds
	// them exactly, and each must be within the target and within the
	// worst case Spec.TimeToPage states for the rate.
	figures map[string]time.Duration
	rate    float64 // the failing share of probes, for Spec.TimeToPage
	// quiet alerts never fire (as PromQL alertname regex), over the whole run.
	quiet string
	// tickets must fire at some point (alertname{labels}), for the quiet
	// cases that are still someone's problem.
	tickets []string
}

const pagingScrape = 15 * time.Second

// figures are a case's measured first firings on Prometheus 2.42's and 3's
// promtool.
func figures(p2, p3 time.Duration) map[string]time.Duration {
	return map[string]time.Duration{"prometheus-2.42": p2, "prometheus-3": p3}
}

// everyNth fails probe j when j's share of failures grows: rate failures
// spread evenly (30% fails probes 3, 6, 10, 13, ...).
func evenly(rate float64) func(int) bool {
	return func(j int) bool { return math.Floor(rate*float64(j)) > math.Floor(rate*float64(j-1)) }
}

func pagingCases() []pagingCase {
	origin := func(rate float64, providers ...string) func(string, string, int) probe.Outcome {
		fail := evenly(rate)
		return func(_, p string, j int) probe.Outcome {
			if fail(j) && containsString(providers, p) {
				return probe.OutcomeOriginError
			}
			return probe.OutcomeSuccess
		}
	}
	edge := func(rate float64, providers ...string) func(string, string, int) probe.Outcome {
		fail := evenly(rate)
		return func(_, p string, j int) probe.Outcome {
			if fail(j) && containsString(providers, p) {
				return probe.OutcomeEdgeError
			}
			return probe.OutcomeSuccess
		}
	}
	noise := rand.New(rand.NewPCG(20260420, 1))
	noisy := map[string]bool{}
	for _, r := range pagingRegions {
		for _, p := range []string{"openai", "anthropic", "gemini"} {
			for j := 1; j <= int(3*time.Hour/(30*time.Second)); j++ {
				if noise.Float64() < NoiseRate {
					noisy[r+p+strconv.Itoa(j)] = true
				}
			}
		}
	}
	return []pagingCase{
		{
			name: "a total OpenAI origin outage with 15s probes fires within 60s", interval: 15 * time.Second, healthy: 15 * time.Minute, outage: 10 * time.Minute,
			outcome: origin(1, "openai"), fires: AlertProviderDown, labels: `provider="openai",check="chat",layer="origin"`,
			within: 60 * time.Second, rate: 1, figures: figures(30*time.Second, 30*time.Second),
		},
		{
			name: "a total OpenAI origin outage with 30s probes fires within 100s", interval: 30 * time.Second, healthy: 15 * time.Minute, outage: 10 * time.Minute,
			outcome: origin(1, "openai"), fires: AlertProviderDown, labels: `provider="openai",check="chat",layer="origin"`,
			within: 100 * time.Second, rate: 1, figures: figures(60*time.Second, 60*time.Second),
		},
		{
			name: "30% intermittent origin errors from every region fire within 250s", interval: 30 * time.Second, healthy: 15 * time.Minute, outage: 15 * time.Minute,
			outcome: origin(0.3, "openai"), fires: AlertProviderDown, labels: `provider="openai",check="chat",layer="origin"`,
			within: 250 * time.Second, rate: 0.3, figures: figures(210*time.Second, 210*time.Second),
		},
		{
			// The burn-rate half of its condition reads an hour of history.
			name: "Cloudflare failing 50% of OpenAI and Anthropic probes raises a shared-edge incident within 180s", interval: 30 * time.Second, healthy: time.Hour, outage: 10 * time.Minute,
			outcome: edge(0.5, "openai", "anthropic"), fires: AlertSharedEdgeIncident, labels: `edge="cloudflare"`,
			within: 180 * time.Second, figures: figures(120*time.Second, 120*time.Second),
		},
		{
			name: "a single failed probe pages nobody", interval: 30 * time.Second, healthy: 30 * time.Minute, outage: 10 * time.Minute,
			outcome: func(r, p string, j int) probe.Outcome {
				if r == "eu-west" && p == "openai" && j == 1 {
					return probe.OutcomeOriginError
				}
				return probe.OutcomeSuccess
			},
			quiet: AlertProviderDown + "|" + AlertErrorBudgetBurn + "|" + AlertSharedEdgeIncident,
		},
		{
			name: "one region's own provider errors open a ticket and page nobody", interval: 30 * time.Second, healthy: 30 * time.Minute, outage: 15 * time.Minute,
			outcome: func(r, p string, _ int) probe.Outcome {
				if r == "eu-west" && p == "openai" {
					return probe.OutcomeOriginError
				}
				return probe.OutcomeSuccess
			},
			quiet: AlertProviderDown + "|" + AlertErrorBudgetBurn + "|" + AlertSharedEdgeIncident, tickets: []string{`LLMProbeRegionalFailure{cause="providers",region="eu-west"}`},
		},
		{
			name: "one region's network failure pages nobody", interval: 30 * time.Second, healthy: 30 * time.Minute, outage: 15 * time.Minute,
			outcome: func(r, _ string, _ int) probe.Outcome {
				if r == "eu-west" {
					return probe.OutcomeNetworkError
				}
				return probe.OutcomeSuccess
			},
			networkDown: map[string]bool{"eu-west": true},
			quiet:       AlertProviderDown + "|" + AlertErrorBudgetBurn + "|" + AlertSharedEdgeIncident, tickets: []string{`LLMProbeRegionalFailure{cause="network",region="eu-west"}`},
		},
		{
			name: "2% of probes failing at random for an hour page nobody", interval: 30 * time.Second, healthy: 30 * time.Minute, outage: time.Hour,
			outcome: func(r, p string, j int) probe.Outcome {
				if noisy[r+p+strconv.Itoa(j)] {
					return probe.OutcomeOriginError
				}
				return probe.OutcomeSuccess
			},
			quiet: AlertProviderDown + "|" + AlertErrorBudgetBurn + "|" + AlertSharedEdgeIncident,
		},
	}
}

// alerts matches the alerts the case reads.
func (c pagingCase) alerts() *regexp.Regexp {
	names := []string{}
	if c.fires != "" {
		names = append(names, c.fires)
	}
	if c.quiet != "" {
		names = append(names, c.quiet)
	}
	for _, tk := range c.tickets {
		name, _, _ := strings.Cut(tk, "{")
		names = append(names, name)
	}
	return regexp.MustCompile("^(?:" + strings.Join(names, "|") + ")$")
}

// promtoolFile writes the scenario's promtool test file.
func (c pagingCase) promtoolFile(spec Spec, p Profile, figure time.Duration, groups []string) string {
	start := c.healthy
	end := c.healthy + c.outage
	steps := int(end / pagingScrape)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\nrule_files: [llmprobe-sli.rules.yml, llmprobe-alerts.rules.yml]\n", c.name)
	fmt.Fprintf(&b, "evaluation_interval: %s\n", FormatDuration(p.ScaleAtLeast(time.Duration(spec.ProviderDown.EvaluationInterval), time.Second)))
	fmt.Fprintf(&b, "group_eval_order: [%s]\n", strings.Join(groups, ", "))
	fmt.Fprintf(&b, "tests:\n  - interval: %s\n    input_series:\n", FormatDuration(pagingScrape))
	series := func(name string, values []float64) {
		var vs strings.Builder
		for i, v := range values {
			if i > 0 {
				vs.WriteByte(' ')
			}
			vs.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		}
		fmt.Fprintf(&b, "      - series: '%s'\n        values: '%s'\n", name, vs.String())
	}
	edges := map[string]string{"openai": "cloudflare", "anthropic": "cloudflare", "gemini": "google"}
	for _, r := range pagingRegions {
		for _, prov := range []string{"openai", "anthropic", "gemini"} {
			counts := map[probe.Outcome][]float64{}
			n := map[probe.Outcome]float64{}
			probes := 0 // probes done before the sample
			for k := 0; k <= steps; k++ {
				at := time.Duration(k) * pagingScrape
				// Probes run at multiples of the interval; the incident's
				// first probe comes one interval after its start.
				for time.Duration(probes+1)*c.interval <= at {
					probes++
					o := probe.OutcomeSuccess
					if pat := time.Duration(probes) * c.interval; pat > start && pat <= end {
						o = c.outcome(r, prov, int((pat-start)/c.interval))
					}
					n[o]++
				}
				for _, o := range probe.Outcomes[:4] {
					counts[o] = append(counts[o], n[o])
				}
			}
			for _, o := range probe.Outcomes[:4] {
				reason := map[probe.Outcome]string{probe.OutcomeSuccess: "ok", probe.OutcomeEdgeError: "edge_5xx", probe.OutcomeOriginError: "origin_5xx", probe.OutcomeNetworkError: "connect_refused"}[o]
				series(fmt.Sprintf(`llmprobe_probes_total{provider="%s",check="chat",model="m",region="%s",outcome="%s",reason="%s"}`, prov, r, o, reason), counts[o])
			}
			ones := make([]float64, steps+1)
			for i := range ones {
				ones[i] = 1
			}
			series(fmt.Sprintf(`llmprobe_provider_info{provider="%s",region="%s",edge="%s"}`, prov, r, edges[prov]), ones)
			series(fmt.Sprintf(`llmprobe_check_last_run_timestamp_seconds{provider="%s",check="chat",model="m",region="%s"}`, prov, r), timestamps(steps))
		}
		control := make([]float64, steps+1)
		for k := range control {
			control[k] = 1
			if at := time.Duration(k) * pagingScrape; c.networkDown[r] && at > start && at <= end {
				control[k] = 0
			}
		}
		series(fmt.Sprintf(`llmprobe_control_success{target="example",region="%s"}`, r), control)
	}
	b.WriteString("    promql_expr_test:\n")
	expr := func(e string, samples ...string) {
		fmt.Fprintf(&b, "      - expr: '%s'\n        eval_time: %s\n        exp_samples:", e, FormatDuration(end))
		if len(samples) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		for _, s := range samples {
			b.WriteString(s)
		}
	}
	rng := FormatDuration(end) + ":" + FormatDuration(p.ScaleAtLeast(time.Duration(spec.ProviderDown.EvaluationInterval), time.Second))
	if c.fires != "" {
		// The first firing evaluation, in seconds after the incident's start.
		expr(fmt.Sprintf(`min(min_over_time(timestamp(ALERTS{alertname="%s",alertstate="firing",%s})[%s])) - %d`, c.fires, c.labels, rng, int(start.Seconds())),
			fmt.Sprintf("          - labels: '{}'\n            value: %d\n", int(figure.Seconds())))
	}
	if c.quiet != "" {
		expr(fmt.Sprintf(`max_over_time(ALERTS{alertname=~"%s",severity="page"}[%s])`, c.quiet, FormatDuration(end)))
	}
	for _, tk := range c.tickets {
		name, labels, _ := strings.Cut(strings.TrimSuffix(tk, "}"), "{")
		expr(fmt.Sprintf(`count(max_over_time(ALERTS{alertname="%s",alertstate="firing",%s}[%s]))`, name, labels, FormatDuration(end)),
			"          - labels: '{}'\n            value: 1\n")
	}
	return b.String()
}

// pagingRules are the generated rules a case reads: the alerts whose
// name matches alerts, and the recording rules they read, directly or
// through other recordings (annotations' queries included). promtool
// evaluates every rule at every step, and the others (the 1d to 30d
// windows above all) would make an hour of steps several times slower.
func pagingRules(t *testing.T, res Result, alerts *regexp.Regexp) ([]File, []string) {
	t.Helper()
	byName := map[string][]Rule{}
	for _, g := range res.SLI.Groups {
		for _, r := range g.Rules {
			byName[r.Record] = append(byName[r.Record], r)
		}
	}
	need := map[string]bool{}
	var visit func(r Rule)
	visit = func(r Rule) {
		texts := []string{r.Expr}
		for _, a := range r.Annotations {
			texts = append(texts, a)
		}
		for _, text := range texts {
			for _, n := range reRuleName.FindAllString(text, -1) {
				if !need[n] {
					need[n] = true
					for _, rec := range byName[n] {
						visit(rec)
					}
				}
			}
		}
	}
	var alertFile RuleFile
	for _, g := range res.Alerts.Groups {
		kept := g
		kept.Rules = nil
		for _, r := range g.Rules {
			if alerts.MatchString(r.Alert) {
				kept.Rules = append(kept.Rules, r)
				visit(r)
			}
		}
		if len(kept.Rules) > 0 {
			alertFile.Groups = append(alertFile.Groups, kept)
		}
	}
	var sli RuleFile
	for _, g := range res.SLI.Groups {
		kept := g
		kept.Rules = nil
		for _, r := range g.Rules {
			if need[r.Record] {
				kept.Rules = append(kept.Rules, r)
			}
		}
		if len(kept.Rules) > 0 {
			sli.Groups = append(sli.Groups, kept)
		}
	}
	if len(alertFile.Groups) == 0 {
		t.Fatalf("no alert matches %s", alerts)
	}
	var out []File
	var groups []string
	for _, f := range []struct {
		path string
		file RuleFile
	}{{FileSLIRules, sli}, {FileAlertRules, alertFile}} {
		data, err := marshalYAML(f.file, "The rules the paging suite's case reads.")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Path: f.path, Data: data})
		for _, g := range f.file.Groups {
			groups = append(groups, g.Name)
		}
	}
	return out, groups
}

// timestamps is a worker's last-run timestamp at each sample: it always
// reports.
func timestamps(steps int) []float64 {
	out := make([]float64, steps+1)
	for k := range out {
		out[k] = (time.Duration(k) * pagingScrape).Seconds()
	}
	return out
}

var reGot = regexp.MustCompile(`got: *\{\} *(\S+)`)

// TestPagingSuite runs the paging suite on Prometheus 2.42's and 3's
// promtool. It is the slowest test of the package (an hour or more of
// 15s evaluations per case, a few CPU-seconds each), so -short skips it.
func TestPagingSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates the rules over hours of samples per case; skipped with -short")
	}
	testkit.EachPromtool(t, func(t *testing.T, promtool string) {
		tool := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		for _, c := range pagingCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				spec := DefaultSpec(DefaultProfile())
				spec.ProbeInterval = Duration(c.interval)
				spec.Providers = []string{"openai", "anthropic", "gemini"}
				figure := c.figures[tool]
				if c.fires != "" {
					if figure > c.within {
						t.Fatalf("the held figure %s is over the target %s", figure, c.within)
					}
					if c.rate > 0 {
						if worst := spec.TimeToPage(DefaultProfile(), 0.995, c.rate); worst.Alert != c.fires || figure > worst.Fires {
							t.Fatalf("the held figure %s %s is past the worst case llmprobe generate states, %s %s", c.fires, figure, worst.Alert, worst.Fires)
						}
					}
				}
				res, err := Generate(spec, DefaultProfile())
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				files, groups := pagingRules(t, res, c.alerts())
				writeFiles(t, dir, files)
				if err := os.WriteFile(filepath.Join(dir, "scenario.yml"), []byte(c.promtoolFile(spec, DefaultProfile(), figure, groups)), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(promtool, "test", "rules", "scenario.yml")
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte("SUCCESS")) {
					got := ""
					if m := reGot.FindSubmatch(out); m != nil {
						got = " (fired after " + string(m[1]) + "s)"
					}
					t.Errorf("%s test rules%s: %v\n%s", tool, got, err, out)
				}
			})
		}
	})
}
