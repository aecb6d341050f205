package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

type runningWorker struct {
	url    string
	logs   *testkit.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

var reListen = regexp.MustCompile(`listen=http://(127\.0\.0\.1:\d+)`)

// startWorker runs a worker in-process, configured as `llmprobe run` is by
// the given environment, and returns once it serves HTTP.
func startWorker(t *testing.T, env map[string]string) *runningWorker {
	return startWorkerWith(t, env, worker.Options{})
}

// startWorkerWith is startWorker with options beyond the settings; its
// checks and logger are always those of the environment.
func startWorkerWith(t *testing.T, env map[string]string, o worker.Options) *runningWorker {
	t.Helper()
	testkit.ClearEnv(t)
	base := map[string]string{"LLMPROBE_LISTEN": "127.0.0.1:0", "LLMPROBE_STATUS_PAGES": "false", "LLMPROBE_CONTROL_TARGETS": "", "LLMPROBE_LOG_LEVEL": "debug"}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
	s, err := worker.LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if o.Checks, _, err = s.Checks(); err != nil {
		t.Fatal(err)
	}
	w := &runningWorker{logs: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	o.Logger = worker.NewLogger(w.logs, s)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go func() { w.done <- worker.Run(ctx, s, o) }()
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
func (w *runningWorker) stop(t *testing.T) error {
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

func scrape(t *testing.T, url string) map[string]*model.Sample {
	t.Helper()
	_, body := testkit.Get(t, url+"/metrics")
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
	cf := providertest.NewServer(providertest.Options{APIKey: fakeKey})
	defer cf.Close()
	gfe := providertest.NewServer(providertest.Options{APIKey: fakeKey, Edge: providertest.EdgeGoogle})
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
		"OPENAI_API_KEY":              fakeKey, "ANTHROPIC_API_KEY": fakeKey, "GEMINI_API_KEY": fakeKey,
		"LLMPROBE_CONTROL_TARGETS": "local=" + control.URL,
	})
	testkit.Eventually(t, "/readyz", func() bool { code, _ := testkit.Get(t, w.url+"/readyz"); return code == 200 })
	testkit.Eventually(t, "a back-off skip of anthropic chat", func() bool {
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

	_, body := testkit.Get(t, w.url+"/api/status")
	var rep worker.StatusReport
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
	_, metricsBody := testkit.Get(t, w.url+"/metrics")
	if err := w.stop(t); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for what, text := range map[string]string{"/metrics": metricsBody, "/api/status": body, "logs": w.logs.String()} {
		if strings.Contains(text, fakeKey) {
			t.Errorf("%s shows the API key", what)
		}
	}
	if !strings.Contains(w.logs.String(), "llmprobe worker stopped") {
		t.Errorf("no clean stop in the logs:\n%s", w.logs.String())
	}
}

func TestRunServesPProfOnlyWhenAskedTo(t *testing.T) {
	cf := providertest.NewServer(providertest.Options{APIKey: fakeKey})
	defer cf.Close()
	for _, tt := range []struct {
		pprof string
		code  int
	}{{"", http.StatusNotFound}, {"false", http.StatusNotFound}, {"true", http.StatusOK}} {
		t.Run("LLMPROBE_PPROF="+tt.pprof, func(t *testing.T) {
			env := map[string]string{"LLMPROBE_PROVIDERS": "openai", "LLMPROBE_OPENAI_BASE_URL": cf.BaseURL("openai")}
			if tt.pprof != "" {
				env["LLMPROBE_PPROF"] = tt.pprof
			}
			w := startWorker(t, env)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
				if code, _ := testkit.Get(t, w.url+path); code != tt.code {
					t.Errorf("GET %s: %d, want %d", path, code, tt.code)
				}
			}
		})
	}
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
		{map[string]string{"LLMPROBE_PPROF": "yes"}, `LLMPROBE_PPROF: "yes" is not a valid bool`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.env), func(t *testing.T) {
			testkit.ClearEnv(t)
			t.Setenv("LLMPROBE_STATUS_PAGES", "false")
			t.Setenv("LLMPROBE_CONTROL_TARGETS", "") // never reach the internet, even if a case slipped through
			t.Setenv("LLMPROBE_LISTEN", "127.0.0.1:0")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := loadAndRun()
			var ce *worker.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want a configuration error with %q", err, tt.message)
			}
		})
	}
}

// loadAndRun loads the settings and checks from the environment as
// `llmprobe run` does and runs a worker that stops at once: the first
// error, or nil for a configuration that starts.
func loadAndRun() error {
	s, err := worker.LoadSettings()
	if err != nil {
		return err
	}
	checks, _, err := s.Checks()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a valid configuration starts and stops at once
	return worker.Run(ctx, s, worker.Options{Checks: checks})
}
