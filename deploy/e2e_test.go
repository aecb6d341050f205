package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

const e2eKey = "sk-e2e-5d1c-NOT-FOR-LOGS"

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "llmprobe")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/llmprobe")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs bin with a clean environment until the test ends.
func startProcess(t *testing.T, bin string, env []string, args ...string) *testkit.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	logs := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // a graceful stop, as SIGTERM in production
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return logs
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200", url)
}

// firstFailure waits until a worker's check shows the outcome and returns
// when that probe started.
func firstFailure(t *testing.T, workerURL, provider string, kind probe.Kind, outcome probe.Outcome) time.Time {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for time.Now().Before(deadline) {
		resp, err := http.Get(workerURL + "/api/status")
		if err == nil {
			var rep worker.StatusReport
			json.NewDecoder(resp.Body).Decode(&rep)
			resp.Body.Close()
			for _, c := range rep.Checks {
				if c.Provider == provider && c.Check == kind && c.State == outcome && c.Last != nil {
					return c.Last.StartedAt
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never showed %s %s as %s", workerURL, provider, kind, outcome)
	return time.Time{}
}

type timeline struct {
	t      *testing.T
	origin time.Time
	lines  []string
}

func (tl *timeline) mark(what string, at time.Time) {
	line := fmt.Sprintf("  %+8.1fs  %s", at.Sub(tl.origin).Seconds(), what)
	tl.lines = append(tl.lines, line)
	tl.t.Log(line)
}

// TestEndToEndIncidentsAlertAndResolve runs the pipeline on loopback with
// the real tools: three regional workers (the built binary) probe the fake
// providers; a real Prometheus 3 scrapes them and evaluates the rules that
// `llmprobe generate --profile test` writes; a real Alertmanager routes the
// alerts to a webhook inside the test. A shared Cloudflare incident must
// arrive as one LLMProbeSharedEdgeIncident (the per-provider edge pages
// inhibited), an OpenAI origin outage as an LLMProbeProviderDown page with
// layer="origin" (its error-budget page fires too, inhibited by it), and
// both must resolve after recovery.
func TestEndToEndIncidentsAlertAndResolve(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: about two minutes")
	}
	testkit.Prometheus3Tool(t, "prometheus")
	testkit.Binary(t, []string{"prometheus-alertmanager", "alertmanager"}, "prometheus-alertmanager")
	bin := buildBinary(t)
	hook := testkit.NewWebhook(t)
	regions := []string{"eu-west", "us-east", "ap-south"}

	gen := t.TempDir()
	spec := filepath.Join(gen, "slo.yaml")
	os.WriteFile(spec, []byte("apiVersion: llmprobe/v1\nregionNames: [eu-west, us-east, ap-south]\nproviders: [openai, anthropic, gemini]\nalertmanager:\n  webhookURL: "+hook.URL+"/alerts\n"), 0o644)
	if out, err := exec.Command(bin, "generate", "--profile", "test", "--slo", spec, "--out", gen).CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	amConfig, err := os.ReadFile(filepath.Join(gen, "alertmanager/alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	am := testkit.StartAlertmanager(t, string(amConfig))

	cf := providertest.NewServer(providertest.Options{APIKey: e2eKey})
	t.Cleanup(cf.Close)
	gfe := providertest.NewServer(providertest.Options{APIKey: e2eKey, Edge: providertest.EdgeGoogle})
	t.Cleanup(gfe.Close)
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(control.Close)

	var targets, workers []string
	var workerLogs []*testkit.SyncBuffer
	for _, region := range regions {
		addr := freeAddr(t)
		env := []string{"LLMPROBE_REGION=" + region, "LLMPROBE_LISTEN=" + addr, "LLMPROBE_INTERVAL=1s", "LLMPROBE_TIMEOUT=800ms",
			"LLMPROBE_PROVIDERS=openai,anthropic,gemini", "LLMPROBE_STATUS_PAGES=false", "LLMPROBE_CONTROL_TARGETS=local=" + control.URL,
			"LLMPROBE_OPENAI_BASE_URL=" + cf.BaseURL("openai"), "LLMPROBE_ANTHROPIC_BASE_URL=" + cf.BaseURL("anthropic"),
			"LLMPROBE_GEMINI_BASE_URL=" + gfe.BaseURL("gemini"), "LLMPROBE_CHECKS=reach,chat",
			"OPENAI_API_KEY=" + e2eKey, "ANTHROPIC_API_KEY=" + e2eKey, "GEMINI_API_KEY=" + e2eKey}
		if region == regions[len(regions)-1] {
			env = append(env, "GOGC=80") // an explicit GOGC is the worker's; the others get its default
		}
		workerLogs = append(workerLogs, startProcess(t, bin, env, "run"))
		targets = append(targets, addr)
		workers = append(workers, "http://"+addr)
	}
	for _, w := range workers {
		waitHTTP(t, w+"/readyz")
	}
	prom := testkit.StartPrometheus(t, testkit.PrometheusOptions{
		ScrapeTargets: targets, ScrapeInterval: time.Second, EvaluationInterval: time.Second,
		RuleFiles:       []string{filepath.Join(gen, "prometheus/rules/llmprobe-sli.rules.yml"), filepath.Join(gen, "prometheus/rules/llmprobe-alerts.rules.yml")},
		AlertmanagerURL: am.URL,
	})

	// A healthy baseline: every region's availability measured, nothing paging.
	if v, ok := prom.WaitFor(t, `count(provider_check_region:llmprobe_sli_availability:ratio5m{check="chat"} == 1)`, 60*time.Second,
		func(v model.Vector) bool { return len(v) == 1 && v[0].Value == 9 }); !ok {
		t.Fatalf("no healthy baseline from 3 regions x 3 providers: %v", v)
	}
	if v, _ := prom.WaitFor(t, `ALERTS{alertstate="firing",severity="page"}`, 0, func(model.Vector) bool { return true }); len(v) > 0 {
		t.Fatalf("pages firing on a healthy baseline: %v", v)
	}
	if v, ok := prom.WaitFor(t, `go_gc_gogc_percent`, 10*time.Second, func(v model.Vector) bool { return len(v) == len(regions) }); !ok {
		t.Fatalf("go_gc_gogc_percent of %d workers: %v", len(regions), v)
	} else {
		for _, s := range v {
			want := float64(worker.DefaultGOGC)
			if string(s.Metric["instance"]) == targets[len(targets)-1] {
				want = 80
			}
			if float64(s.Value) != want {
				t.Errorf("worker %s runs with GOGC %v, want %v", s.Metric["instance"], s.Value, want)
			}
		}
	}

	tl := &timeline{t: t, origin: time.Now()}
	waitAlert := func(name string, labels map[string]string, timeout time.Duration) time.Time {
		t.Helper()
		var sel []string
		for k, v := range labels {
			sel = append(sel, fmt.Sprintf("%s=%q", k, v))
		}
		expr := fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing",%s}`, name, strings.Join(sel, ","))
		if v, ok := prom.WaitFor(t, expr, timeout, func(v model.Vector) bool { return len(v) > 0 }); !ok {
			t.Fatalf("%s never fired: %v\nwebhook: %s", expr, v, hook.String())
		}
		return time.Now()
	}
	waitDelivery := func(status string, since time.Time, labels map[string]string, timeout time.Duration) (time.Time, int) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			if at, n := hook.Find(status, since, labels); n > 0 {
				return at, n
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no %s notification for %v within %s; got %s", status, labels, timeout, hook.String())
		return time.Time{}, 0
	}

	// Incident 1: Cloudflare fails in front of OpenAI and Anthropic.
	tl.lines = append(tl.lines, "shared Cloudflare edge incident (openai, anthropic):")
	injected := time.Now()
	cf.Inject("openai", providertest.Fault{Kind: providertest.CF500})
	cf.Inject("anthropic", providertest.Fault{Kind: providertest.CF500})
	tl.mark("fault injected: cf_500 for openai and anthropic", injected)
	tl.mark("first failed probe (eu-west, openai chat, edge_error)", firstFailure(t, workers[0], "openai", probe.KindChat, probe.OutcomeEdgeError))
	shared := map[string]string{"alertname": "LLMProbeSharedEdgeIncident", "edge": "cloudflare"}
	tl.mark("LLMProbeSharedEdgeIncident{edge=cloudflare} firing in Prometheus", waitAlert("LLMProbeSharedEdgeIncident", map[string]string{"edge": "cloudflare"}, 90*time.Second))
	at, n := waitDelivery("firing", injected, shared, 60*time.Second)
	tl.mark(fmt.Sprintf("delivered to the webhook (%d alert)", n), at)
	if n != 1 {
		t.Errorf("the shared-edge incident arrived as %d alerts, want one", n)
	}
	time.Sleep(5 * time.Second) // let any wrongly uninhibited page arrive
	for _, p := range []string{"openai", "anthropic"} {
		if _, n := hook.Find("firing", injected, map[string]string{"alertname": "LLMProbeErrorBudgetBurn", "provider": p, "layer": "edge", "severity": "page"}); n > 0 {
			t.Errorf("%s's edge page was delivered: the shared-edge incident must inhibit it", p)
		}
	}
	recovered := time.Now()
	cf.Clear()
	tl.mark("fault cleared", recovered)
	at, _ = waitDelivery("resolved", recovered, shared, 120*time.Second)
	tl.mark("LLMProbeSharedEdgeIncident resolved at the webhook", at)

	// Incident 2: OpenAI's origin fails behind a healthy edge.
	tl.lines = append(tl.lines, "OpenAI origin outage:")
	injected = time.Now()
	cf.Inject("openai", providertest.Fault{Kind: providertest.Origin500})
	tl.mark("fault injected: origin_500 for openai", injected)
	tl.mark("first failed probe (eu-west, openai chat, origin_error)", firstFailure(t, workers[0], "openai", probe.KindChat, probe.OutcomeOriginError))
	// Both pages fire in Prometheus; the fast LLMProbeProviderDown is the
	// one delivered (it inhibits the budget page of the same provider,
	// check and layer once it fires, so whether the budget page got out
	// first is a race this test does not judge).
	page := map[string]string{"alertname": "LLMProbeProviderDown", "provider": "openai", "layer": "origin", "severity": "page"}
	tl.mark("LLMProbeProviderDown{openai, origin} firing", waitAlert("LLMProbeProviderDown", map[string]string{"provider": "openai", "layer": "origin", "severity": "page"}, 90*time.Second))
	tl.mark("LLMProbeErrorBudgetBurn{openai, origin, page} firing", waitAlert("LLMProbeErrorBudgetBurn", map[string]string{"provider": "openai", "layer": "origin", "severity": "page"}, 90*time.Second))
	at, _ = waitDelivery("firing", injected, page, 60*time.Second)
	tl.mark("LLMProbeProviderDown delivered to the webhook", at)
	if _, n := hook.Find("firing", injected, map[string]string{"provider": "anthropic", "severity": "page"}); n > 0 {
		t.Error("anthropic paged during an OpenAI-only outage")
	}
	recovered = time.Now()
	cf.Clear()
	tl.mark("fault cleared", recovered)
	at, _ = waitDelivery("resolved", recovered, page, 120*time.Second)
	tl.mark("LLMProbeProviderDown resolved at the webhook", at)
	// One incident: every notification that carried the page belongs to
	// one alert group (the pager's incident key), and each check's page
	// began firing once (it never resolved and fired again mid-outage).
	groups := map[string]int{}
	firings := map[string]map[time.Time]bool{}
	for _, n := range hook.Since(injected) {
		for _, a := range n.Alerts {
			if a.Status != "firing" || !a.HasLabels(page) {
				continue
			}
			groups[n.GroupKey]++
			if firings[a.Labels["check"]] == nil {
				firings[a.Labels["check"]] = map[time.Time]bool{}
			}
			firings[a.Labels["check"]][a.StartsAt] = true
		}
	}
	if len(groups) != 1 {
		t.Errorf("LLMProbeProviderDown reached the webhook in %d alert groups, want one incident: %v", len(groups), groups)
	}
	for check, starts := range firings {
		if len(starts) != 1 {
			t.Errorf("LLMProbeProviderDown for openai %s began firing %d times during one outage", check, len(starts))
		}
	}
	tl.lines = append(tl.lines, fmt.Sprintf("  LLMProbeProviderDown reached the webhook as one incident: %d alert group, %d check(s) firing once each", len(groups), len(firings)))

	everything := hook.String()
	for _, l := range workerLogs {
		everything += l.String()
	}
	if strings.Contains(everything, e2eKey) {
		t.Error("the API key appears in the workers' logs or the alerts")
	}
	report := "end-to-end timeline (seconds from the first fault):\n" + strings.Join(tl.lines, "\n") + "\n"
	if path := os.Getenv("LLMPROBETEST_E2E_TIMELINE"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Errorf("write timeline: %v", err)
		}
	}
	io.WriteString(os.Stdout, report)
}
