package dashboards

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/slo"
)

const e2eKey = "e2e-test-key"

// buildWorker builds the llmprobe binary once for the test.
func buildWorker(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "llmprobe")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/llmprobe/llmprobe/cmd/llmprobe")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// reListen finds the worker's address in its start-up log line.
var reListen = regexp.MustCompile(`listen=http://(127\.0\.0\.1:\d+)`)

// startWorkerProcess runs `llmprobe run` with only the given environment
// (so that no LLMPROBE_ variable of the test's own leaks in) and returns its
// host:port once it logs it. The process is interrupted when the test ends.
func startWorkerProcess(t *testing.T, bin string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "run")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start worker: %v", err)
	}
	var logMu sync.Mutex
	var logs strings.Builder
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			logs.WriteString(line + "\n")
			logMu.Unlock()
			if m := reListen.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			logMu.Lock()
			t.Logf("worker %s log (tail):\n%s", env["LLMPROBE_REGION"], tailString(logs.String(), 3000))
			logMu.Unlock()
		}
	})
	select {
	case a := <-addr:
		return a
	case <-exited:
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("worker exited before it listened:\n%s", logs.String())
	case <-time.After(time.Minute): // only catches a hang
		t.Fatal("worker did not log its address within a minute")
	}
	return ""
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestDashboardQueriesAgainstARealPrometheus runs every query of every
// dashboard through real Prometheus 3 servers that evaluate the generated
// rules (test profile) over two regional workers probing faulty fakes:
// Gemini's origin fails from both regions (an availability page), OpenAI
// fails at the Cloudflare edge from us-east only (a regional failure),
// Anthropic is healthy. One Prometheus stores the workers' histograms as
// classic series (text scrape), the other as native histograms only
// (protobuf scrape, scrape_native_histograms): a user may have either.
// Every query must be valid on both, and every one not listed in
// mayBeEmpty must return data for at least one provider on both. The
// workers trace their probes, and the duration observations reach both
// Prometheus servers as exemplars carrying the trace ID.
func TestDashboardQueriesAgainstARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts Prometheus and two workers")
	}
	testkit.Prometheus3Tool(t, "prometheus")
	bin := buildWorker(t)

	profile := slo.TestProfile()
	spec := slo.DefaultSpec(profile)
	spec.Providers = []string{"openai", "anthropic", "gemini"}
	spec.Regions = 2
	res, err := slo.Generate(spec, profile)
	if err != nil {
		t.Fatal(err)
	}
	rulesDir := t.TempDir()
	var ruleFiles []string
	for _, f := range res.Files {
		if f.Path != slo.FileSLIRules && f.Path != slo.FileAlertRules {
			continue
		}
		p := filepath.Join(rulesDir, filepath.Base(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		ruleFiles = append(ruleFiles, p)
	}

	// One Cloudflare edge per region, so that a fault can be regional, and
	// one Google edge both regions share.
	cfEU := providertest.NewServer(providertest.Options{Edge: providertest.EdgeCloudflare, APIKey: e2eKey, POP: "FRA"})
	t.Cleanup(cfEU.Close)
	cfUS := providertest.NewServer(providertest.Options{Edge: providertest.EdgeCloudflare, APIKey: e2eKey, POP: "IAD"})
	t.Cleanup(cfUS.Close)
	gfe := providertest.NewServer(providertest.Options{Edge: providertest.EdgeGoogle, APIKey: e2eKey})
	t.Cleanup(gfe.Close)
	// OpenAI answers in 20 ms from eu-west (its openai-processing-ms gives
	// the edge overhead) and fails at the edge from us-east; Gemini's origin
	// fails from both regions; Anthropic is healthy (rate-limit headers).
	cfEU.Inject("openai", providertest.Fault{Kind: providertest.Healthy, Delay: 20 * time.Millisecond})
	cfUS.Inject("openai", providertest.Fault{Kind: providertest.CF500})
	gfe.Inject("gemini", providertest.Fault{Kind: providertest.Origin503})
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(control.Close)
	collector := testkit.TraceCollector(t) // the workers trace their probes: exemplars

	var targets []string
	for region, cf := range map[string]*providertest.Server{"eu-west": cfEU, "us-east": cfUS} {
		targets = append(targets, startWorkerProcess(t, bin, map[string]string{
			"LLMPROBE_REGION": region, "LLMPROBE_LISTEN": "127.0.0.1:0",
			"LLMPROBE_INTERVAL": "1s", "LLMPROBE_TIMEOUT": "800ms",
			"LLMPROBE_STATUS_PAGES": "false", "LLMPROBE_CONTROL_TARGETS": "local=" + control.URL,
			"LLMPROBE_PROVIDERS":          strings.Join(spec.Providers, ","),
			"LLMPROBE_OPENAI_BASE_URL":    cf.BaseURL("openai"),
			"LLMPROBE_ANTHROPIC_BASE_URL": cf.BaseURL("anthropic"),
			"LLMPROBE_GEMINI_BASE_URL":    gfe.BaseURL("gemini"),
			"OPENAI_API_KEY":              e2eKey, "ANTHROPIC_API_KEY": e2eKey, "GEMINI_API_KEY": e2eKey,
			"OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_BSP_SCHEDULE_DELAY": "200",
		}))
	}
	sort.Strings(targets)
	type kind struct {
		name   string
		scrape []string
		// has and hasNot are histogram series this kind must and must not store.
		has, hasNot string
	}
	kinds := []*kind{
		{name: "classic histograms", scrape: []string{"scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]"},
			has: probe.MetricProbeDuration + "_bucket", hasNot: probe.MetricProbeDuration},
		{name: "native histograms", scrape: []string{"scrape_protocols: [PrometheusProto]", "scrape_native_histograms: true", "always_scrape_classic_histograms: false"},
			has: probe.MetricProbeDuration, hasNot: probe.MetricProbeDuration + "_bucket"},
	}
	// One after the other, so that one Prometheus at a time evaluates the
	// rules on a shared machine; each stops when its subtest ends.
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			prom := testkit.StartPrometheus(t, testkit.PrometheusOptions{ScrapeTargets: targets, ScrapeInterval: time.Second,
				ScrapeSettings: kind.scrape, RuleFiles: ruleFiles, ExtraArgs: []string{"--enable-feature=exemplar-storage"}})
			if v, ok := prom.WaitFor(t, "count("+kind.has+")", 30*time.Second, func(v model.Vector) bool { return len(v) == 1 }); !ok {
				t.Fatalf("%s stores no %s: %v", kind.name, kind.has, v)
			}
			if v, _ := prom.WaitFor(t, "count("+kind.hasNot+")", 0, func(model.Vector) bool { return true }); len(v) > 0 {
				t.Fatalf("%s stores %s too: the test would not tell the kinds apart", kind.name, kind.hasNot)
			}
			// The latency SLI is measured from either kind: anthropic's
			// chat probes all finish well within the threshold.
			sli := slo.RatioName(slo.LevelProviderCheck, slo.MetricSLILatency, 5*time.Minute) + `{provider="anthropic",check="chat"}`
			if v, ok := prom.WaitFor(t, sli, time.Minute, func(v model.Vector) bool { return len(v) == 1 && v[0].Value == 1 }); !ok {
				t.Errorf("%s = %v, want 1", sli, v)
			}
			checkDashboardQueries(t, prom, spec, profile)
			prom.CheckTraceExemplars(t, `{__name__=~"`+probe.MetricProbeDuration+`(_bucket)?",outcome="success"}`, probe.ExemplarTraceIDLabel)
		})
	}
}

// checkDashboardQueries waits for the incident's alerts, then runs every
// dashboard query and checks what the key panels show.
func checkDashboardQueries(t *testing.T, prom *testkit.Prometheus, spec slo.Spec, profile slo.Profile) {
	t.Helper()
	api := prom.API()

	// The incident pages and the regional failure is seen before the
	// dashboards are read.
	for _, alert := range []string{slo.AlertErrorBudgetBurn, slo.AlertRegionalFailure} {
		expr := fmt.Sprintf(`ALERTS{alertname=%q, alertstate="firing"}`, alert)
		if _, ok := prom.WaitFor(t, expr, 2*time.Minute, func(v model.Vector) bool { return len(v) > 0 }); !ok {
			t.Fatalf("%s did not fire within two minutes", alert)
		}
	}
	// The slowness baseline ends a degraded window before now: it has data
	// once the workers have run that long.
	baseline := slo.RecordName(slo.LevelProviderCheckPhaseRegion, slo.MetricPhaseP95, slo.OperationSeconds+slo.FormatDuration(time.Duration(spec.Degraded.Baseline)))
	if _, ok := prom.WaitFor(t, baseline, 90*time.Second, func(v model.Vector) bool { return len(v) > 0 }); !ok {
		t.Fatalf("%s was not recorded within 90s", baseline)
	}

	o := Options{Spec: spec, Profile: profile}
	dashboards := parsed(t, o)
	now := time.Now()
	hasData := map[string]bool{}
	var names []string
	ran := 0
	for _, d := range dashboards {
		for _, values := range e2eValues(t, api, d, spec.Providers, now) {
			for _, q := range d.queries() {
				key := q.String()
				if !hasData[key] && !contains(names, key) {
					names = append(names, key)
				}
				expr, err := expand(q.Expr, values)
				if err != nil {
					t.Errorf("%s: %v", q, err)
					continue
				}
				n, err := runQuery(api, expr, q.Instant, now)
				ran++
				if err != nil {
					t.Errorf("%s (provider %s) is not valid in Prometheus: %v\n%s", q, values[VarProvider], err, expr)
					continue
				}
				if n > 0 {
					hasData[key] = true
				}
			}
		}
	}
	for _, key := range names {
		if !hasData[key] {
			t.Logf("empty: %s", key)
		}
		if !hasData[key] && !mayBeEmpty[key] {
			t.Errorf("%s returned no data for any provider", key)
		}
	}
	t.Logf("ran %d queries; %d of %d panel queries had data", ran, len(hasData), len(names))

	// The pictures say what happened, where the machine let it happen: the
	// workers' probes time out after 800ms (the compressed windows need a
	// probe a second), and on a machine loaded enough a healthy fake now
	// and then answers later than that. A provider with such a failed
	// probe is not healthy in the pictures either, so the rows about it
	// are left out, with a line in the log; no verdict depends on speed.
	slow := timedOutProviders(t, api, now)
	for _, c := range []struct {
		dashboard string
		panel     uint32
		provider  string // "" for All
		want      string // series ({labels}=value, no spaces) that must be among the results
		absent    bool   // the query must return nothing
	}{
		{slo.DashboardOverview, slo.OverviewProviderTimeline, "openai", `{region="eu-west"}=1 {region="us-east"}=5`, false},
		{slo.DashboardOverview, slo.OverviewProviderTimeline, "gemini", `{region="eu-west"}=4 {region="us-east"}=4`, false},
		{slo.DashboardOverview, slo.OverviewMatrix, "", `{provider="anthropic",region="eu-west"}=1 {provider="gemini",region="us-east"}=0`, false},
		{slo.DashboardOverview, slo.OverviewEdgeProviders, "", `{edge="cloudflare"}=1`, false},
		{slo.DashboardOverview, slo.OverviewProviderState, "anthropic", `{check="chat"}=1 {check="reach"}=1 {check="stream"}=1`, false},
		{slo.DashboardOverview, slo.OverviewProviderState, "openai", `{check="chat"}=0.5`, false},
		{slo.DashboardProvider, slo.ProviderFailuresByReason, "gemini", `outcome="origin_error"`, false},
		{slo.DashboardOverview, slo.OverviewFiringAlerts, "gemini", `alertname="LLMProbeErrorBudgetBurn"`, false},
		{slo.DashboardSLO, slo.SLOExhaustion, "gemini", `check="reach"`, false},
		{slo.DashboardSLO, slo.SLOExhaustion, "anthropic", "", true},
	} {
		if p := mentionsAny(c.provider+" "+c.want, slow); p != "" {
			t.Logf("%s panel %d for %s left out: a probe of %s timed out on this loaded machine", c.dashboard, c.panel, orAll(c.provider), p)
			continue
		}
		q, ok := findQuery(dashboards, c.dashboard, c.panel)
		if !ok {
			t.Errorf("%s panel %d has no query", c.dashboard, c.panel)
			continue
		}
		values := e2eValues(t, api, dashboardByUID(dashboards, c.dashboard), spec.Providers, now)[0]
		values[VarProvider] = c.provider
		if c.provider == "" {
			values[VarProvider] = allValue
		}
		expr, _ := expand(q.Expr, values)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, _, _, err := api.Query(ctx, expr, now)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		got := v.String()
		if c.absent {
			if vec, ok := v.(model.Vector); !ok || len(vec) > 0 {
				t.Errorf("%s for %s: got %s, want nothing", q, c.provider, got)
			}
			continue
		}
		for _, w := range strings.Fields(c.want) {
			w = strings.ReplaceAll(w, ",", ", ")
			if strings.Contains(w, "}=") {
				w += " @" // the whole value, not a prefix of it
			}
			if !strings.Contains(strings.ReplaceAll(got, " => ", "="), w) {
				t.Errorf("%s for %s: want %s among\n%s", q, c.provider, w, got)
			}
		}
	}
}

func findQuery(ds []dashboardJSON, uid string, panel uint32) (panelQuery, bool) {
	for _, q := range dashboardByUID(ds, uid).queries() {
		if q.PanelID == int(panel) {
			return q, true
		}
	}
	return panelQuery{}, false
}

func dashboardByUID(ds []dashboardJSON, uid string) dashboardJSON {
	for _, d := range ds {
		if d.UID == uid {
			return d
		}
	}
	return dashboardJSON{}
}

// timedOutProviders are the providers with a probe that failed for want
// of time (a timeout, or a stream cut by one) on either worker.
func timedOutProviders(t *testing.T, api v1.API, now time.Time) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, _, _, err := api.Query(ctx, `sum by (provider) (llmprobe_probes_total{reason=~"ttfb_timeout|body_timeout|connect_timeout|stream_error"}) > 0`, now)
	if err != nil {
		t.Fatalf("query timed-out probes: %v", err)
	}
	out := map[string]bool{}
	if vec, ok := v.(model.Vector); ok {
		for _, s := range vec {
			out[string(s.Metric["provider"])] = true
		}
	}
	return out
}

// mentionsAny returns the first of providers that text names ("anthropic"
// or provider="anthropic"), or "".
func mentionsAny(text string, providers map[string]bool) string {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '"' || r == '{' || r == '}' || r == ',' || r == '=' }) {
		if providers[w] {
			return w
		}
	}
	return ""
}

func orAll(provider string) string {
	if provider == "" {
		return "All"
	}
	return provider
}

// mayBeEmpty lists the queries that have no data in this scenario, and why.
var mayBeEmpty = map[string]bool{
	// LLMPROBE_STATUS_PAGES=false: nothing is polled on loopback.
	panelQuery{Dashboard: slo.DashboardProvider, PanelID: int(slo.ProviderStatusPage), Panel: "Official status page", RefID: "A"}.String(): true,
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// e2eValues resolves a dashboard's variables as Grafana would, through the
// label values API (which checks the variable queries too), and returns one
// set of values per provider: a single provider for the single-select and
// repeated provider variables, All for the others.
func e2eValues(t *testing.T, api v1.API, d dashboardJSON, providers []string, now time.Time) []map[string]string {
	t.Helper()
	// $__rate_interval of 10s: twice the longest gap between a backing-off
	// check's probes (five 1s intervals), so every window holds a probe of
	// every check even as Prometheus 3 reads it left-open.
	base := map[string]string{"__rate_interval": "10s", "__range": "1m", "__interval": "2s", "__url_time_range": "from=now-1m&to=now"}
	var sets []map[string]string
	for _, p := range providers {
		v := map[string]string{}
		for k, x := range base {
			v[k] = x
		}
		for _, x := range d.Templating.List {
			switch {
			case x.Type == "textbox":
				v[x.Name] = x.Query
				continue
			case x.Type == "datasource":
				continue // the test queries its one Prometheus
			case x.Name == VarProvider:
				v[x.Name] = p
			default:
				v[x.Name] = x.AllValue
			}
			m := reLabelValues.FindStringSubmatch(x.Query)
			if m == nil {
				t.Fatalf("%s variable %s: not label_values: %q", d.UID, x.Name, x.Query)
			}
			selector, err := expand(m[1], v)
			if err != nil {
				t.Fatalf("%s variable %s: %v", d.UID, x.Name, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			vals, _, _, err := api.LabelValues(ctx, m[2], []string{selector}, now.Add(-time.Hour), now)
			cancel()
			if err != nil {
				t.Fatalf("%s variable %s: label values of %s: %v", d.UID, x.Name, selector, err)
			}
			if len(vals) == 0 {
				t.Errorf("%s variable %s has no values (%s)", d.UID, x.Name, x.Query)
			}
			if x.Name == VarProvider && !containsValue(vals, p) {
				t.Errorf("%s variable %s does not offer %s: %v", d.UID, x.Name, p, vals)
			}
		}
		sets = append(sets, v)
	}
	return sets
}

func containsValue(vals model.LabelValues, s string) bool {
	for _, v := range vals {
		if string(v) == s {
			return true
		}
	}
	return false
}

// runQuery runs an instant query now or a range query over the last minute,
// and returns how many series (or samples of a scalar) came back.
func runQuery(api v1.API, expr string, instant bool, now time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		v   model.Value
		err error
	)
	if instant {
		v, _, _, err = api.Query(ctx, expr, now)
	} else {
		v, _, _, err = api.QueryRange(ctx, expr, v1.Range{Start: now.Add(-time.Minute), End: now, Step: 2 * time.Second})
	}
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case model.Vector:
		return len(x), nil
	case model.Matrix:
		return len(x), nil
	case *model.Scalar:
		return 1, nil
	}
	return 0, fmt.Errorf("unexpected result type %s", v.Type())
}
