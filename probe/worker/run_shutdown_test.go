package worker

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

const shutdownKey = "sk-shutdown-test-77a1-NEVER-SHOWN"

// startRun runs a worker with one openai chat check against base on a fake
// clock and advances the clock past the check's first slot. It returns the
// worker's cancel and the channel Run's error arrives on.
func startRun(t *testing.T, base string, s Settings, o Options) (stop context.CancelFunc, done <-chan error) {
	t.Helper()
	p, _ := probe.LookupProvider("openai")
	o.Checks = []probe.Check{{Provider: p, Kind: probe.KindChat, Model: p.DefaultModel, BaseURL: base, APIKey: shutdownKey, Region: s.Region, Timeout: s.Timeout}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	o.Listener, o.Clock = ln, clock
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- Run(ctx, s, o) }()
	clock.waitSleepers(t, 1) // the check waits for its first slot
	clock.Advance(s.Interval)
	return cancel, ch
}

// waitRun waits for Run to return; the bound only catches a hang.
func waitRun(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Run did not return")
		return nil
	}
}

func shutdownSettings(bound time.Duration) Settings {
	return Settings{Region: "test", Interval: 10 * time.Minute, Timeout: 9 * time.Minute, Concurrency: 4, History: 10, ShutdownTimeout: bound}
}

// TestRunCancelsAStalledProbeOnShutdown stops a worker while its probe is
// stalled in a fake that never answers, under a probe timeout of nine
// minutes: only cancelling the probe lets Run return in time. Had shutdown
// waited for the probe, Run would report that its bound passed.
func TestRunCancelsAStalledProbeOnShutdown(t *testing.T) {
	cf := providertest.NewServer(providertest.Options{APIKey: shutdownKey})
	defer cf.Close()
	cf.Inject("openai", providertest.Fault{Kind: providertest.StallBeforeHeaders})
	// A bound with room: cancelling takes milliseconds even on a loaded machine.
	stop, done := startRun(t, cf.BaseURL("openai"), shutdownSettings(5*time.Second), Options{})
	testkit.Eventually(t, "the stalled request", func() bool { return cf.Requests("openai") >= 1 })
	stop()
	if err := waitRun(t, done); err != nil {
		t.Fatalf("shutdown with a stalled probe in flight: %v", err)
	}
}

// TestRunShutdownIsBoundedWhenAProbeIgnoresCancellation holds a probe that
// never looks at its context: shutdown cannot finish, and Run must give up
// after LLMPROBE_SHUTDOWN_TIMEOUT and say so rather than hang.
func TestRunShutdownIsBoundedWhenAProbeIgnoresCancellation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	stubborn := func(context.Context, probe.Check) probe.Result {
		entered <- struct{}{}
		<-release
		return probe.Result{}
	}
	stop, done := startRun(t, "http://127.0.0.1:1/v1", shutdownSettings(time.Second), Options{Probe: stubborn})
	select {
	case <-entered:
	case <-time.After(time.Minute):
		t.Fatal("the probe never started")
	}
	stop()
	err := waitRun(t, done)
	if err == nil || !strings.Contains(err.Error(), "shutdown did not finish within LLMPROBE_SHUTDOWN_TIMEOUT 1s") {
		t.Fatalf("got %v, want the shutdown bound's error", err)
	}
}
