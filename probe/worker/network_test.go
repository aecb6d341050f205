package worker

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
)

// TestProbesWhileTheRegionsNetworkIsDownAreUnmeasured runs the control loop
// against targets that all refuse, then records a probe: it is counted in
// llmprobe_probes_unmeasured_total beside llmprobe_probes_total and left out
// of the status API's availability. When a target answers again, probes
// count as before.
func TestProbesWhileTheRegionsNetworkIsDownAreUnmeasured(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()
	answering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer answering.Close()

	c := check(t, "openai", probe.KindReach)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.InitCheck(c)
	status := NewStatusStore("eu-west", []probe.Check{c}, 60, nil, nil)
	network := &NetworkState{}
	fan := &Fanout{Metrics: m, Status: status, Logger: slog.New(slog.DiscardHandler), Network: network}

	round := func(targets string) {
		t.Helper()
		ts, err := ParseControlTargets(targets)
		if err != nil {
			t.Fatal(err)
		}
		clock := newFakeClock()
		loop := &ControlLoop{Targets: ts, Interval: time.Minute, Timeout: time.Minute, Region: "eu-west", Metrics: m, Status: status,
			Network: network, Logger: slog.New(slog.DiscardHandler), Clock: clock}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- loop.Run(ctx) }()
		clock.waitSleepers(t, 1) // one round done, sleeping until the next
		cancel()
		<-done
	}
	failed := func(at time.Time) probe.Result {
		r := result(c, at, probe.OutcomeNetworkError, probe.ReasonConnectRefused, 0, "", "none", "connection refused")
		return r
	}

	round("a=" + refused + ",b=" + refused)
	if !network.Down() {
		t.Fatal("every control target refused, but the network is not down")
	}
	fan.Record(c, failed(time.Now()))
	unmeasured := counterValue(t, reg, probe.MetricProbesUnmeasured, "outcome", string(probe.OutcomeNetworkError))
	total := counterValue(t, reg, probe.MetricProbesTotal, "outcome", string(probe.OutcomeNetworkError), "reason", string(probe.ReasonConnectRefused))
	if unmeasured != 1 || total != 1 {
		t.Errorf("unmeasured %v, probes_total %v: want the probe counted in both", unmeasured, total)
	}
	if a := status.Report().Checks[0].Availability["1h"]; a.Total != 0 {
		t.Errorf("availability %+v counts a probe of a region whose network was down", a)
	}

	round("a=" + refused + ",b=" + answering.URL)
	if network.Down() {
		t.Fatal("a control target answers, but the network is still down")
	}
	fan.Record(c, failed(time.Now()))
	if got := counterValue(t, reg, probe.MetricProbesUnmeasured, "outcome", string(probe.OutcomeNetworkError)); got != 1 {
		t.Errorf("unmeasured %v after the network came back, want still 1", got)
	}
	if a := status.Report().Checks[0].Availability["1h"]; a.Total != 1 {
		t.Errorf("availability %+v should count the probe made with the network up", a)
	}
}

// counterValue is the value of the one counter of name whose labels
// include the name, value pairs in kv, or -1 when there is none.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, kv ...string) float64 {
	t.Helper()
	want := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		want[kv[i]] = kv[i+1]
	}
	m := testkit.FindSample(t, reg, name, want)
	if m == nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
