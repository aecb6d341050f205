package worker

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// The worker against hostile endpoints (providertest.HostileServer): a
// check whose endpoint never ends its answer keeps no concurrency slot
// past its timeout, readiness comes, control targets go on, and no secret
// reaches the log, the metrics, /api/status, the page or a span.

// hostileKey is a gateway's key: nothing but scrubbing by the key finds it.
const hostileKey = "GwK7c1a9e3b5d7f9a2c4e6b8d0f1a3c5e7b9"

// hostileTimeout bounds the hostile probes: they end by it. Healthy probes
// get a minute, which they never need.
const hostileTimeout = 3 * time.Second

func gatewayCheck(id, base string, kind probe.Kind, timeout time.Duration) probe.Check {
	return probe.Check{Provider: probe.CustomProvider(id, base, "m-1"), Kind: kind, Model: "m-1", BaseURL: base, APIKey: hostileKey, Region: "test", Timeout: timeout}
}

// storeRecorder records into a status store, as the worker's Fanout does.
type storeRecorder struct{ *StatusStore }

func (r storeRecorder) Late(probe.Check, time.Duration) {}

func TestAHostileCheckHoldsNoSlotPastItsTimeout(t *testing.T) {
	for _, h := range []providertest.Hostile{providertest.SwitchProtocols, providertest.SlowHeader, providertest.EndlessBody, providertest.EndlessStream} {
		t.Run(string(h), func(t *testing.T) {
			hostile := providertest.NewHostileServer(h)
			defer hostile.Close()
			healthy := providertest.NewServer(providertest.Options{APIKey: hostileKey})
			defer healthy.Close()
			kind := probe.KindChat
			if h == providertest.EndlessStream {
				kind = probe.KindStream
			}
			checks := []probe.Check{gatewayCheck("trap", hostile.URL(), kind, hostileTimeout), gatewayCheck("ok", healthy.BaseURL("ok"), probe.KindChat, time.Minute)}
			clock := newFakeClock()
			status := NewStatusStore("test", checks, 10, clock, nil)
			// One slot: the healthy check runs only once the hostile probe
			// gave its slot back.
			startScheduler(t, &Scheduler{Checks: checks, Interval: time.Hour, Concurrency: 1, Probe: (&probe.Prober{}).Probe,
				Recorder: storeRecorder{status}, Clock: clock, Offset: constOffset(0)})
			testkit.Eventually(t, "both checks' first results", status.Ready)
			rep := status.Report()
			if trap := rep.Checks[0].Last; trap == nil || trap.Outcome != probe.OutcomeOriginError {
				t.Errorf("the hostile check's result %+v, want an origin error", trap)
			}
			if ok := rep.Checks[1].Last; ok == nil || !ok.Success() {
				t.Errorf("the healthy check's result %+v, want a success", ok)
			}
		})
	}
}

func TestRunTurnsReadyAndKeepsControlTargetsGoingBesideHostileEndpoints(t *testing.T) {
	trap := providertest.NewHostileServer(providertest.SwitchProtocols)
	defer trap.Close()
	healthy := providertest.NewServer(providertest.Options{APIKey: hostileKey})
	defer healthy.Close()
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer control.Close()
	// The control targets' URLs carry credentials, as they sometimes do.
	targets, err := ParseControlTargets("trap=" + trap.URL() + "/?token=s3cr3t-query-value,ok=http://user:hunter2-password@" + strings.TrimPrefix(control.URL, "http://") + "/")
	if err != nil {
		t.Fatal(err)
	}
	s := Settings{Region: "test", Interval: time.Hour, Timeout: hostileTimeout, Concurrency: 1, History: 10, ShutdownTimeout: 5 * time.Second, ControlTargets: targets}
	checks := []probe.Check{gatewayCheck("trap", trap.URL(), probe.KindChat, hostileTimeout), gatewayCheck("ok", healthy.BaseURL("ok"), probe.KindChat, time.Minute)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, s, Options{Checks: checks, Listener: ln, Clock: clock}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	// The first round of control targets starts at once and ends by the
	// timeout, however the trap answers: then the control loop sleeps on
	// the clock beside the two checks waiting for their first slot.
	testkit.Eventually(t, "the trap's first control request", func() bool { return trap.Requests() >= 1 })
	clock.waitSleepers(t, 3)
	clock.Advance(s.Interval)
	// The trap's check gives its one slot back by its timeout, so the
	// healthy check runs and the worker turns ready.
	testkit.Eventually(t, "/readyz", func() bool { code, _ := testkit.Get(t, base+"/readyz"); return code == http.StatusOK })
	testkit.Eventually(t, "the trap's check and second control request", func() bool { return trap.Requests() >= 3 })
	clock.waitSleepers(t, 3)
	clock.Advance(s.Interval)
	testkit.Eventually(t, "a third round", func() bool { return trap.Requests() >= 5 })

	_, status := testkit.Get(t, base+"/api/status")
	_, page := testkit.Get(t, base+"/")
	for what, text := range map[string]string{"/api/status": status, "the page": page} {
		for _, secret := range []string{"s3cr3t-query-value", "hunter2-password", hostileKey} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q", what, secret)
			}
		}
	}
	var rep StatusReport
	if err := json.Unmarshal([]byte(status), &rep); err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, c := range rep.Controls {
		urls[c.Target] = c.URL
	}
	if !strings.HasSuffix(urls["trap"], "/?token=redacted") || !strings.HasPrefix(urls["ok"], "http://redacted@127.0.0.1:") {
		t.Errorf("control target URLs %v, want them shown redacted", urls)
	}
}

// TestHostileEchoesReachNoSink: servers that echo the key wherever a
// response can carry text, probed by the worker's own scheduler and
// fan-out; the key is in no log line, series, status, page or span.
func TestHostileEchoesReachNoSink(t *testing.T) {
	var checks []probe.Check
	for _, h := range []providertest.Hostile{providertest.EchoError, providertest.EchoReply, providertest.EchoStream, providertest.EchoPage} {
		srv := providertest.NewHostileServer(h)
		defer srv.Close()
		kind := probe.KindChat
		if h == providertest.EchoStream {
			kind = probe.KindStream
		}
		checks = append(checks, gatewayCheck(strings.ReplaceAll(string(h), "_", ""), srv.URL(), kind, time.Minute))
	}
	reg := NewRegistry()
	m := NewMetrics(reg)
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	var logs testkit.SyncBuffer
	status := NewStatusStore("test", checks, 10, nil, nil)
	fan := &Fanout{Metrics: m, Status: status, Tracer: tp.Tracer(TracerName), Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, c := range checks {
		m.InitCheck(c)
	}
	startScheduler(t, &Scheduler{Checks: checks, Interval: time.Hour, Concurrency: 4, Probe: (&probe.Prober{}).Probe, Recorder: fan, Offset: constOffset(0)})
	testkit.Eventually(t, "every check's first result", status.Ready)

	mux := Mux(reg, status)
	serve := func(path string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Body.String()
	}
	var spans strings.Builder
	for _, s := range exporter.GetSpans() {
		spans.WriteString(s.Name + " " + s.Status.Description)
		for _, a := range s.Attributes {
			spans.WriteString(" " + string(a.Key) + "=" + a.Value.Emit())
		}
		spans.WriteString("\n")
	}
	if spans.Len() == 0 {
		t.Fatal("no spans recorded")
	}
	for what, text := range map[string]string{"the log": logs.String(), "/metrics": serve("/metrics"), "/api/status": serve("/api/status"),
		"the page": serve("/"), "the spans": spans.String()} {
		for i := 0; i+probe.ScrubRun <= len(hostileKey); i++ {
			if run := hostileKey[i : i+probe.ScrubRun]; strings.Contains(text, run) {
				t.Errorf("%s holds %q of the key", what, run)
				break
			}
		}
		if strings.Contains(text, providertest.ClientAddressText) {
			t.Errorf("%s holds the client's address from a page", what)
		}
	}
}
