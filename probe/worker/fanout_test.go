package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

const fakeKey = "sk-worker-test-9b1d-NEVER-SHOWN"

// roomy is the timeout of probes that must not time out; stallTimeout that
// of probes a stalled fake ends by their timeout, long enough that connect
// and headers come first on a loaded machine (CI runs -race on two cores).
const (
	roomy        = time.Minute
	stallTimeout = 3 * time.Second
)

// gathered finds the sample of a family whose labels include want.
func gathered(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) *dto.Metric {
	t.Helper()
	m := testkit.FindSample(t, reg, name, want)
	if m == nil {
		t.Fatalf("no %s sample with labels %v", name, want)
	}
	return m
}

// labelNames returns the label names of a family's first sample.
func labelNames(t *testing.T, reg *prometheus.Registry, name string) []string {
	t.Helper()
	fams, _ := reg.Gather()
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			var names []string
			for _, lp := range f.GetMetric()[0].GetLabel() {
				names = append(names, lp.GetName())
			}
			return names
		}
	}
	t.Fatalf("no family %s", name)
	return nil
}

func checkFor(t *testing.T, srv *providertest.Server, id string, kind probe.Kind) probe.Check {
	t.Helper()
	p, ok := probe.LookupProvider(id)
	if !ok {
		t.Fatalf("no provider %s", id)
	}
	c := probe.Check{Provider: p, Kind: kind, BaseURL: srv.BaseURL(id), APIKey: fakeKey, Region: "eu-west", Timeout: roomy}
	if kind != probe.KindReach {
		c.Model = p.DefaultModel
	}
	return c
}

func TestWorkerExportsContractMetricsTracesAndLogsAfterFaults(t *testing.T) {
	srv := providertest.NewServer(providertest.Options{APIKey: fakeKey})
	defer srv.Close()
	gfe := providertest.NewServer(providertest.Options{APIKey: fakeKey, Edge: providertest.EdgeGoogle})
	defer gfe.Close()
	srv.Inject("openai", providertest.Fault{Kind: providertest.CF520})
	srv.Inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529})

	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	m.SetBuildInfo("v1.2.3", "abc", "go1.26")
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	var logs testkit.SyncBuffer
	checks := []probe.Check{checkFor(t, srv, "openai", probe.KindChat), checkFor(t, srv, "anthropic", probe.KindStream), checkFor(t, gfe, "gemini", probe.KindChat), checkFor(t, gfe, "gemini", probe.KindStream)}
	pol := &worker.Politeness{Interval: time.Minute}
	status := worker.NewStatusStore("eu-west", checks, 10, nil, pol)
	w := &worker.Fanout{Metrics: m, Status: status, Tracer: tp.Tracer(worker.TracerName), Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Politeness: pol}
	prober := &probe.Prober{}
	for _, c := range checks {
		m.InitCheck(c)
		r := prober.Probe(context.Background(), c)
		pol.Observe(c, r, time.Now())
		w.Record(c, r)
	}

	l := func(provider, check, model string, extra ...string) map[string]string {
		out := map[string]string{"provider": provider, "check": check, "model": model, "region": "eu-west"}
		for i := 0; i+1 < len(extra); i += 2 {
			out[extra[i]] = extra[i+1]
		}
		return out
	}
	if v := gathered(t, reg, probe.MetricProbesTotal, l("openai", "chat", "gpt-4o-mini", "outcome", "origin_error", "reason", "origin_bad_response")).GetCounter().GetValue(); v != 1 {
		t.Errorf("openai origin_bad_response count %v, want 1", v)
	}
	if v := gathered(t, reg, probe.MetricProbesTotal, l("openai", "chat", "gpt-4o-mini", "outcome", "success", "reason", "ok")).GetCounter().GetValue(); v != 0 {
		t.Errorf("pre-initialised success series is %v, want 0", v)
	}
	if v := gathered(t, reg, probe.MetricProbesTotal, l("anthropic", "stream", "claude-haiku-4-5", "outcome", "origin_error", "reason", "overloaded")).GetCounter().GetValue(); v != 1 {
		t.Errorf("anthropic overloaded count %v, want 1", v)
	}
	if v := gathered(t, reg, probe.MetricCheckSuccess, l("gemini", "chat", "gemini-2.5-flash-lite")).GetGauge().GetValue(); v != 1 {
		t.Errorf("gemini check_success %v, want 1", v)
	}
	if v := gathered(t, reg, probe.MetricCheckSuccess, l("openai", "chat", "gpt-4o-mini")).GetGauge().GetValue(); v != 0 {
		t.Errorf("openai check_success %v, want 0", v)
	}
	if v := gathered(t, reg, probe.MetricCheckLastRun, l("gemini", "chat", "gemini-2.5-flash-lite")).GetGauge().GetValue(); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last run timestamp %v is not recent", v)
	}
	gathered(t, reg, probe.MetricProviderInfo, map[string]string{"provider": "openai", "region": "eu-west", "edge": "cloudflare"})
	gathered(t, reg, probe.MetricProviderInfo, map[string]string{"provider": "gemini", "region": "eu-west", "edge": "google"})
	if v := gathered(t, reg, probe.MetricTokensTotal, l("gemini", "chat", "gemini-2.5-flash-lite", "direction", "output")).GetCounter().GetValue(); v <= 0 {
		t.Errorf("gemini output tokens %v, want > 0", v)
	}
	h := gathered(t, reg, probe.MetricProbeDuration, l("gemini", "chat", "gemini-2.5-flash-lite", "outcome", "success")).GetHistogram()
	if h.GetSampleCount() != 1 || len(h.GetBucket()) != len(probe.DurationBuckets) || h.GetSchema() == 0 && len(h.GetPositiveSpan()) == 0 {
		t.Errorf("duration histogram: count %d, %d classic buckets, native spans %d", h.GetSampleCount(), len(h.GetBucket()), len(h.GetPositiveSpan()))
	}
	for _, phase := range []string{"connect", "ttfb", "transfer"} {
		gathered(t, reg, probe.MetricPhaseDuration, l("gemini", "chat", "gemini-2.5-flash-lite", "phase", phase))
	}
	gathered(t, reg, probe.MetricPhaseDuration, l("gemini", "stream", "gemini-2.5-flash-lite", "phase", "ttft"))
	gathered(t, reg, probe.MetricBuildInfo, map[string]string{"version": "v1.2.3", "revision": "abc", "goversion": "go1.26"})
	if v := gathered(t, reg, probe.MetricBackoff, l("anthropic", "stream", "claude-haiku-4-5")).GetGauge().GetValue(); v <= 0 {
		t.Errorf("anthropic backs off after a 529, backoff gauge %v", v)
	}
	if got := strings.Join(labelNames(t, reg, probe.MetricProbesTotal), ","); got != "check,model,outcome,provider,reason,region" {
		t.Errorf("probes_total labels %s", got)
	}
	// exemplars carry the trace ID of the probe
	ex := gathered(t, reg, probe.MetricProbeDuration, l("gemini", "chat", "gemini-2.5-flash-lite", "outcome", "success")).GetHistogram()
	var traceID string
	for _, b := range ex.GetBucket() {
		if e := b.GetExemplar(); e != nil {
			traceID = e.GetLabel()[0].GetValue()
		}
	}
	spans := exporter.GetSpans()
	var probeSpans, phaseSpans int
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "probe ") {
			probeSpans++
		} else {
			phaseSpans++
		}
		if s.Name == "probe gemini chat" && s.SpanContext.TraceID().String() != traceID {
			t.Errorf("exemplar trace id %q, span trace id %s", traceID, s.SpanContext.TraceID())
		}
	}
	if probeSpans != 4 || phaseSpans < 12 {
		t.Errorf("%d probe spans and %d phase spans, want 4 and at least 12", probeSpans, phaseSpans)
	}

	rep, _ := json.Marshal(status.Report())
	all := logs.String() + string(rep)
	if strings.Contains(all, fakeKey) {
		t.Fatal("the key appears in logs or the status report")
	}
	if !strings.Contains(logs.String(), `"msg":"probe failed"`) || !strings.Contains(logs.String(), `"reason":"origin_bad_response"`) {
		t.Errorf("logs lack the failure: %s", logs.String())
	}
}

// TestTenThousandProbesLeakNoGoroutine runs 10,000 real probes with mixed
// faults through the scheduler and checks the goroutine count returns to
// where it started.
func TestTenThousandProbesLeakNoGoroutine(t *testing.T) {
	total := int64(10000)
	if testing.Short() {
		total = 1000
	}
	srv := providertest.NewServer(providertest.Options{APIKey: fakeKey})
	base := runtime.NumGoroutine()
	faults := []providertest.FaultKind{providertest.Healthy, providertest.CF520, providertest.Overloaded529, providertest.ResetBeforeHeaders,
		providertest.StallBeforeHeaders, providertest.CutMidStream, providertest.ErrorEventMidStream, providertest.StallMidStream, providertest.CF1015}
	var checks []probe.Check
	for i, f := range faults {
		id := "p" + string(rune('a'+i))
		for _, kind := range []probe.Kind{probe.KindReach, probe.KindChat, probe.KindStream} {
			c := probe.Check{Provider: probe.CustomProvider(id, srv.BaseURL(id), "m"), Kind: kind, BaseURL: srv.BaseURL(id), APIKey: fakeKey, Region: "r", Timeout: stallTimeout}
			if kind != probe.KindReach {
				c.Model = "m"
			}
			checks = append(checks, c)
		}
		if f != providertest.Healthy {
			srv.Inject(id, providertest.Fault{Kind: f})
		}
	}
	var done atomic.Int64
	outcomes := map[probe.Outcome]int{}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	rec := recorderFunc(func(c probe.Check, r probe.Result) {
		mu.Lock()
		outcomes[r.Outcome]++
		mu.Unlock()
		if done.Add(1) >= total {
			cancel()
		}
	})
	prober := &probe.Prober{}
	s := &worker.Scheduler{Checks: checks, Interval: time.Millisecond, Concurrency: 16, Probe: prober.Probe, Recorder: rec}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if done.Load() < total {
		t.Fatalf("ran %d probes, want %d", done.Load(), total)
	}
	if outcomes[probe.OutcomeSuccess] == 0 || outcomes[probe.OutcomeEdgeError] == 0 || outcomes[probe.OutcomeOriginError] == 0 {
		t.Fatalf("outcomes %v: the mix must include successes, edge and origin errors", outcomes)
	}
	deadline := time.Now().Add(roomy) // only catches a leak; no timing asserted
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after %d probes, %d before:\n%s", n, done.Load(), base, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("%d probes, outcomes %v, goroutines %d before and after", done.Load(), outcomes, base)
}

type recorderFunc func(probe.Check, probe.Result)

func (f recorderFunc) Record(c probe.Check, r probe.Result) { f(c, r) }
func (recorderFunc) Skip(probe.Check, string)               {}
func (recorderFunc) Late(probe.Check, time.Duration)        {}
