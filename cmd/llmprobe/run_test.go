package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/slo/slotest"
)

// clearLLMProbeEnv unsets every LLMPROBE_* and provider key variable for the
// test, so the developer's own environment cannot leak in.
func clearLLMProbeEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LLMPROBE_") || strings.HasSuffix(k, "_API_KEY") || strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

type worker struct {
	url    string
	logs   *slotest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

var reListen = regexp.MustCompile(`listen=http://(127\.0\.0\.1:\d+)`)

// startWorker runs `llmprobe run` in-process with the given environment
// and returns once it serves HTTP.
func startWorker(t *testing.T, env map[string]string) *worker {
	t.Helper()
	clearLLMProbeEnv(t)
	base := map[string]string{"LLMPROBE_LISTEN": "127.0.0.1:0", "LLMPROBE_STATUS_PAGES": "false", "LLMPROBE_CONTROL_TARGETS": "", "LLMPROBE_LOG_LEVEL": "debug"}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
	w := &worker{logs: &slotest.SyncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- runWorker(ctx, nil, os.Getenv, io.Discard, w.logs) }()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for w.url == "" {
		if m := reListen.FindStringSubmatch(w.logs.String()); m != nil {
			w.url = "http://" + m[1]
			break
		}
		select {
		case err := <-w.done:
			t.Fatalf("worker exited: %v\n%s", err, w.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker did not start:\n%s", w.logs.String())
		}
	}
	t.Cleanup(func() { w.stop(t) })
	return w
}

// stop cancels the worker and waits for it: the shutdown bound is the
// worker's own (LLMPROBE_SHUTDOWN_TIMEOUT), the 30 s here only catches a hang.
func (w *worker) stop(t *testing.T) error {
	w.cancel()
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls until cond holds (bounded; no timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func scrape(t *testing.T, url string) map[string]*model.Sample {
	t.Helper()
	_, body := get(t, url+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]*model.Sample{}
	vec, _ := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, mapValues(fams)...)
	for _, s := range vec {
		out[s.Metric.String()] = s
	}
	return out
}

func mapValues[K comparable, V any](m map[K]V) []V {
	var out []V
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// value returns the sample of name whose labels include want, or -1.
func value(samples map[string]*model.Sample, name string, want map[string]string) float64 {
	for _, s := range samples {
		if string(s.Metric[model.MetricNameLabel]) != name {
			continue
		}
		ok := true
		for k, v := range want {
			if string(s.Metric[model.LabelName(k)]) != v {
				ok = false
				break
			}
		}
		if ok {
			return float64(s.Value)
		}
	}
	return -1
}

func TestRunProbesServesMetricsStatusAndBacksOff(t *testing.T) {
	cf := providertest.NewServer(providertest.Options{APIKey: testKey})
	defer cf.Close()
	gfe := providertest.NewServer(providertest.Options{APIKey: testKey, Edge: providertest.EdgeGoogle})
	defer gfe.Close()
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer control.Close()
	cf.Inject("openai", providertest.Fault{Kind: providertest.CF502Unbranded})
	cf.Inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529})

	w := startWorker(t, map[string]string{
		// No fake stalls: the timeout only catches a hang (a tight one turns
		// healthy loopback probes into timeouts on a loaded machine).
		"LLMPROBE_REGION": "eu-west", "LLMPROBE_INTERVAL": "2s", "LLMPROBE_TIMEOUT": "2s",
		"LLMPROBE_PROVIDERS":          "openai,anthropic,gemini",
		"LLMPROBE_OPENAI_BASE_URL":    cf.BaseURL("openai"),
		"LLMPROBE_ANTHROPIC_BASE_URL": cf.BaseURL("anthropic"),
		"LLMPROBE_GEMINI_BASE_URL":    gfe.BaseURL("gemini"),
		"OPENAI_API_KEY":              testKey, "ANTHROPIC_API_KEY": testKey, "GEMINI_API_KEY": testKey,
		"LLMPROBE_CONTROL_TARGETS": "local=" + control.URL,
	})
	waitFor(t, "/readyz", func() bool { code, _ := get(t, w.url+"/readyz"); return code == 200 })
	waitFor(t, "a back-off skip of anthropic chat", func() bool {
		return value(scrape(t, w.url), probe.MetricProbesSkipped, map[string]string{"provider": "anthropic", "check": "chat", "reason": "backoff"}) >= 1
	})
	s := scrape(t, w.url)
	l := func(provider, check, model string, kv ...string) map[string]string {
		m := map[string]string{"provider": provider, "check": check, "model": model, "region": "eu-west"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{probe.MetricProbesTotal, l("openai", "chat", "gpt-4o-mini", "outcome", "edge_error", "reason", "edge_5xx"), 1},
		{probe.MetricProbesTotal, l("openai", "reach", "", "outcome", "edge_error", "reason", "edge_5xx"), 1},
		{probe.MetricProbesTotal, l("anthropic", "stream", "claude-haiku-4-5", "outcome", "origin_error", "reason", "overloaded"), 1},
		{probe.MetricProbesTotal, l("gemini", "stream", "gemini-2.5-flash-lite", "outcome", "success", "reason", "ok"), 1},
		{probe.MetricCheckSuccess, l("gemini", "chat", "gemini-2.5-flash-lite"), 1},
		{probe.MetricProviderInfo, map[string]string{"provider": "openai", "region": "eu-west", "edge": "cloudflare"}, 1},
		{probe.MetricProviderInfo, map[string]string{"provider": "gemini", "region": "eu-west", "edge": "google"}, 1},
		{probe.MetricControlSuccess, map[string]string{"target": "local", "region": "eu-west"}, 1},
		{probe.MetricTokensTotal, l("gemini", "chat", "gemini-2.5-flash-lite", "direction", "input"), 1},
		{probe.MetricBuildInfo, map[string]string{}, 1},
		{probe.MetricProbeDuration + "_bucket", l("gemini", "chat", "gemini-2.5-flash-lite", "outcome", "success", "le", "+Inf"), 1},
		{probe.MetricPhaseDuration + "_count", l("gemini", "stream", "gemini-2.5-flash-lite", "phase", "ttft"), 1},
		{probe.MetricCheckLastRun, l("gemini", "reach", ""), float64(time.Now().Add(-time.Minute).Unix())},
		{"llmprobe_schedule_lateness_seconds_count", map[string]string{}, 1},
	} {
		if got := value(s, tt.name, tt.labels); got < tt.min {
			t.Errorf("%s%v = %v, want at least %v", tt.name, tt.labels, got, tt.min)
		}
	}
	if got := value(s, probe.MetricCheckSuccess, l("openai", "chat", "gpt-4o-mini")); got != 0 {
		t.Errorf("openai check_success %v, want 0", got)
	}

	_, body := get(t, w.url+"/api/status")
	var rep probe.StatusReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	states := map[string]probe.Outcome{}
	for _, c := range rep.Checks {
		states[c.Provider+"/"+string(c.Check)] = c.State
		if c.Provider == "anthropic" && c.Check == probe.KindChat && c.Backoff.Strikes == 0 {
			t.Errorf("anthropic chat shows no back-off in /api/status: %+v", c.Backoff)
		}
	}
	if states["openai/chat"] != probe.OutcomeEdgeError || states["gemini/chat"] != probe.OutcomeSuccess || len(rep.Checks) != 9 || !rep.Ready {
		t.Errorf("status %v ready %v", states, rep.Ready)
	}
	_, metricsBody := get(t, w.url+"/metrics")
	if err := w.stop(t); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for what, text := range map[string]string{"/metrics": metricsBody, "/api/status": body, "logs": w.logs.String()} {
		if strings.Contains(text, testKey) {
			t.Errorf("%s shows the API key", what)
		}
	}
	if !strings.Contains(w.logs.String(), "llmprobe worker stopped") {
		t.Errorf("no clean stop in the logs:\n%s", w.logs.String())
	}
}

func TestRunShutdownIsBoundedWithAStalledProbe(t *testing.T) {
	cf := providertest.NewServer(providertest.Options{APIKey: testKey})
	defer cf.Close()
	cf.Inject("openai", providertest.Fault{Kind: providertest.StallBeforeHeaders})
	w := startWorker(t, map[string]string{
		"LLMPROBE_INTERVAL": "3s", "LLMPROBE_TIMEOUT": "2900ms", "LLMPROBE_SHUTDOWN_TIMEOUT": "1s",
		"LLMPROBE_PROVIDERS": "openai", "LLMPROBE_OPENAI_BASE_URL": cf.BaseURL("openai"),
	})
	// wait until the probe is stuck in the fake
	waitFor(t, "the stalled request", func() bool { return cf.Requests("openai") >= 1 })
	started := time.Now()
	if err := w.stop(t); err != nil {
		t.Fatalf("shutdown with a probe in flight: %v", err)
	}
	t.Logf("shutdown took %v with a probe stalled for up to 2.9s", time.Since(started))
}

func TestRunConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env     map[string]string
		message string
	}{
		{map[string]string{"LLMPROBE_INTERVAL": "often"}, `LLMPROBE_INTERVAL: "often" is not a valid time.Duration`},
		{map[string]string{"LLMPROBE_INTERVAL": "10s", "LLMPROBE_TIMEOUT": "20s"}, "LLMPROBE_TIMEOUT: 20s exceeds LLMPROBE_INTERVAL 10s"},
		{map[string]string{"LLMPROBE_REGION": "EU West"}, `LLMPROBE_REGION: "EU West" must be lower-case`},
		{map[string]string{"LLMPROBE_PROVIDERS": "openai,opnai"}, `LLMPROBE_PROVIDERS: unknown provider "opnai" (valid: openai, anthropic`},
		{map[string]string{"LLMPROBE_CHECKS": "reach,ping"}, `LLMPROBE_CHECKS: unknown check "ping"`},
		{map[string]string{"LLMPROBE_INTERVALL": "10s"}, "LLMPROBE_INTERVALL: unknown variable"},
		{map[string]string{"LLMPROBE_OPENAI_BASE_URL": "localhost:8080"}, "LLMPROBE_OPENAI_BASE_URL:"},
		{map[string]string{"LLMPROBE_CONTROL_TARGETS": "x=ftp://a"}, "LLMPROBE_CONTROL_TARGETS:"},
		{map[string]string{"LLMPROBE_CA_FILE": "/nonexistent/ca.pem"}, "LLMPROBE_CA_FILE: open /nonexistent/ca.pem"},
		{map[string]string{"LLMPROBE_PROVIDERS": "azure"}, "provider azure needs LLMPROBE_AZURE_RESOURCE"},
		{map[string]string{"LLMPROBE_LOG_LEVEL": "loud"}, `LLMPROBE_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{map[string]string{"LLMPROBE_CUSTOM_PROVIDERS": "My-GW"}, `LLMPROBE_CUSTOM_PROVIDERS: "My-GW" is not a valid id`},
		{map[string]string{"LLMPROBE_LISTEN": "127.0.0.1:99999"}, "LLMPROBE_LISTEN:"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			clearLLMProbeEnv(t)
			t.Setenv("LLMPROBE_STATUS_PAGES", "false")
			t.Setenv("LLMPROBE_CONTROL_TARGETS", "") // never reach the internet, even if a case slipped through
			t.Setenv("LLMPROBE_LISTEN", "127.0.0.1:0")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a valid configuration would start and stop at once
			code := run(ctx, []string{"run"}, os.Getenv, &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.message) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.message)
			}
		})
	}
}

func TestRunCheckConfigListsChecksWithoutKeys(t *testing.T) {
	clearLLMProbeEnv(t)
	t.Setenv("OPENAI_API_KEY", testKey)
	t.Setenv("LLMPROBE_CUSTOM_PROVIDERS", "gateway")
	t.Setenv("LLMPROBE_GATEWAY_BASE_URL", "http://127.0.0.1:4000/v1")
	t.Setenv("LLMPROBE_GATEWAY_MODEL", "llama3")
	t.Setenv("GATEWAY_API_KEY", testKey)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "--check-config"}, os.Getenv, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	rows := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 {
			rows[f[0]+" "+f[1]+" "+f[2]] = true
		}
	}
	for _, want := range []string{"openai chat gpt-4o-mini", "openai stream gpt-4o-mini", "gateway chat llama3", "anthropic reach -"} {
		if !rows[want] {
			t.Errorf("--check-config output lacks the check %q:\n%s", want, out)
		}
	}
	if rows["anthropic chat claude-haiku-4-5"] {
		t.Error("anthropic has no key, so no chat check")
	}
	for _, want := range []string{"configuration ok: region local, interval 30s", "not probed: azure"} {
		if !strings.Contains(out, want) {
			t.Errorf("--check-config output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr.String(), testKey) {
		t.Fatal("--check-config shows a key")
	}
}
