package worker

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// recorder collects what the scheduler reports.
type recorder struct {
	mu      sync.Mutex
	results map[string][]time.Time // check name -> probe times (clock)
	skips   map[string][]string
	clock   probe.Clock
}

func newRecorder(c probe.Clock) *recorder {
	return &recorder{results: map[string][]time.Time{}, skips: map[string][]string{}, clock: c}
}

func (r *recorder) Record(c probe.Check, _ probe.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results[c.Name()] = append(r.results[c.Name()], r.clock.Now())
}

func (r *recorder) Skip(c probe.Check, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.skips[c.Name()] = append(r.skips[c.Name()], reason)
}

func (r *recorder) Late(probe.Check, time.Duration) {}

func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.results[name])
}

func (r *recorder) skipped(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.skips[name]...)
}

func testChecks(ids ...string) []probe.Check {
	var out []probe.Check
	for _, id := range ids {
		out = append(out, probe.Check{Provider: probe.CustomProvider(id, "http://127.0.0.1:1/v1", "m"), Kind: probe.KindReach, Region: "test"})
	}
	return out
}

func okResult(_ context.Context, c probe.Check) probe.Result {
	return probe.Result{Provider: c.Provider.ID, Check: c.Kind, Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK}
}

// startScheduler runs s in the background; the returned stop cancels it and
// waits for Run to return.
func startScheduler(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("Run did not return after its context was cancelled")
		}
	}
	t.Cleanup(stop)
	return stop
}

func constOffset(d time.Duration) func(int, time.Duration) time.Duration {
	return func(int, time.Duration) time.Duration { return d }
}

func fixedOffsets(step time.Duration) func(int, time.Duration) time.Duration {
	return func(i int, _ time.Duration) time.Duration { return time.Duration(i) * step }
}

func TestSchedulerRunsEveryCheckOncePerIntervalAtItsOffset(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder(clock)
	t0 := clock.Now()
	s := &Scheduler{Checks: testChecks("a", "b", "c"), Interval: 10 * time.Second, Probe: okResult, Recorder: rec, Clock: clock, Offset: fixedOffsets(time.Second)}
	startScheduler(t, s)
	clock.waitSleepers(t, 3)
	for i := 0; i < 35; i++ { // 35 s in 1 s steps
		clock.Advance(time.Second)
		clock.waitSleepers(t, 3)
	}
	for i, name := range []string{"a/reach", "b/reach", "c/reach"} {
		rec.mu.Lock()
		got := rec.results[name]
		rec.mu.Unlock()
		if len(got) != 4 {
			t.Fatalf("%s ran %d times in 35 s at a 10 s interval, want 4: %v", name, len(got), got)
		}
		for k, at := range got {
			if want := t0.Add(time.Duration(i)*time.Second + time.Duration(k)*10*time.Second); !at.Equal(want) {
				t.Errorf("%s run %d at %v, want %v", name, k, at.Sub(t0), want.Sub(t0))
			}
		}
	}
}

func TestSchedulerStalledCheckDelaysNoOther(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder(clock)
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int32
	probeFn := func(ctx context.Context, c probe.Check) probe.Result {
		if c.Provider.ID == "stalled" {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			if n > maxInFlight.Load() {
				maxInFlight.Store(n)
			}
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return okResult(ctx, c)
	}
	s := &Scheduler{Checks: testChecks("stalled", "b", "c"), Interval: 10 * time.Second, Probe: probeFn, Recorder: rec, Clock: clock, Offset: constOffset(time.Second), Concurrency: 2}
	startScheduler(t, s)
	clock.waitSleepers(t, 3)
	clock.Advance(time.Second) // all three due at once
	clock.waitSleepers(t, 2)
	for i := 0; i < 5; i++ { // 50 s with "stalled" stuck in its probe
		clock.Advance(10 * time.Second)
		clock.waitSleepers(t, 2)
	}
	if b, c := rec.count("b/reach"), rec.count("c/reach"); b != 6 || c != 6 {
		t.Fatalf("while one check stalled, b ran %d and c %d times in 50 s, want 6 each (on time)", b, c)
	}
	close(release)
	clock.waitSleepers(t, 3)
	if got := rec.count("stalled/reach"); got != 1 {
		t.Fatalf("stalled check recorded %d probes, want 1", got)
	}
	if skips := rec.skipped("stalled/reach"); len(skips) != 5 || skips[0] != probe.SkipReasonOverrun {
		t.Fatalf("the stalled check's missed slots: %v, want 5 overrun skips", skips)
	}
	if maxInFlight.Load() != 1 {
		t.Fatalf("the stalled check overlapped itself: %d probes in flight", maxInFlight.Load())
	}
}

func TestSchedulerBacksOffAfter429AndRecovers(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder(clock)
	var calls atomic.Int32
	probeFn := func(ctx context.Context, c probe.Check) probe.Result {
		n := calls.Add(1)
		if n <= 2 {
			return probe.Result{Provider: c.Provider.ID, Check: c.Kind, Outcome: probe.OutcomeOriginError, Reason: probe.ReasonRateLimited, StatusCode: 429, RetryAfter: 25 * time.Second}
		}
		return okResult(ctx, c)
	}
	pol := &Politeness{Interval: 10 * time.Second, Jitter: func() float64 { return 0 }}
	s := &Scheduler{Checks: testChecks("a"), Interval: 10 * time.Second, Probe: probeFn, Recorder: rec, Clock: clock, Offset: constOffset(time.Second), Politeness: pol}
	startScheduler(t, s)
	clock.waitSleepers(t, 1)
	clock.Advance(time.Second)
	clock.waitSleepers(t, 1)
	for i := 0; i < 12; i++ {
		clock.Advance(10 * time.Second)
		clock.waitSleepers(t, 1)
	}
	// Slots at 0, 10, ..., 120 s. At 0 a 429: back off max(2 intervals jittered
	// down to 10 s, retry-after 25 s) = 25 s, so 10 and 20 are skipped; at 30 a
	// 429 again: max(4 intervals jittered down to 20 s, 25 s) = 25 s, so 40 and
	// 50 are skipped; from 60 on every probe succeeds.
	skips := rec.skipped("a/reach")
	if len(skips) != 4 {
		t.Fatalf("skips %v, want 4 back-off skips", skips)
	}
	for _, s := range skips {
		if s != probe.SkipReasonBackoff {
			t.Fatalf("skip reason %q, want backoff", s)
		}
	}
	if got := rec.count("a/reach"); got != 9 {
		t.Fatalf("probes %d in 120 s, want 9 (13 slots less 4 skipped)", got)
	}
	if pol.Backoff(s.Checks[0], clock.Now()).Active {
		t.Fatal("back-off still active after a success")
	}
}

func TestSchedulerStopsInFlightProbesOnCancel(t *testing.T) {
	clock := newFakeClock()
	rec := newRecorder(clock)
	started := make(chan struct{})
	probeFn := func(ctx context.Context, c probe.Check) probe.Result {
		close(started)
		<-ctx.Done()
		return probe.Result{Canceled: true}
	}
	s := &Scheduler{Checks: testChecks("a"), Interval: time.Second, Probe: probeFn, Recorder: rec, Clock: clock, Offset: constOffset(time.Second)}
	stop := startScheduler(t, s)
	clock.waitSleepers(t, 1)
	clock.Advance(time.Second)
	<-started
	stop()
	if rec.count("a/reach") != 0 {
		t.Fatal("a probe cancelled by shutdown must not be recorded")
	}
}

func TestPolitenessBudgetStopsInferenceNotReach(t *testing.T) {
	now := time.Date(2026, 4, 20, 23, 59, 0, 0, time.UTC)
	pol := &Politeness{Interval: time.Second, DailyRequests: 2, DailyTokens: 1000}
	p := probe.CustomProvider("x", "http://127.0.0.1:1/v1", "m")
	chat := probe.Check{Provider: p, Kind: probe.KindChat, Model: "m", Region: "r"}
	stream := probe.Check{Provider: p, Kind: probe.KindStream, Model: "m", Region: "r"}
	reach := probe.Check{Provider: p, Kind: probe.KindReach, Region: "r"}
	for i, c := range []probe.Check{chat, stream} {
		if ok, why := pol.Allow(c, now); !ok {
			t.Fatalf("request %d refused (%s) within a budget of 2", i, why)
		}
	}
	if ok, why := pol.Allow(chat, now); ok || why != probe.SkipReasonBudget {
		t.Fatalf("third request: allowed %v (%s), want refused for budget", ok, why)
	}
	if ok, _ := pol.Allow(reach, now); !ok {
		t.Fatal("reach must go on when the inference budget is spent")
	}
	b := pol.Budget("x", now)
	if !b.Spent || b.Requests != 2 {
		t.Fatalf("budget %+v", b)
	}
	if req, tok := b.Remaining(); req != 0 || tok != 1000 {
		t.Fatalf("remaining %v requests, %v tokens", req, tok)
	}
	if ok, _ := pol.Allow(chat, now.Add(2*time.Minute)); !ok {
		t.Fatal("the budget must renew at midnight UTC")
	}
	pol.Observe(chat, probe.Result{Tokens: probe.Usage{Input: 600, Output: 400}}, now.Add(2*time.Minute))
	if ok, why := pol.Allow(stream, now.Add(3*time.Minute)); ok || why != probe.SkipReasonBudget {
		t.Fatalf("after 1000 tokens: allowed %v (%s), want refused for the token budget", ok, why)
	}
}

func TestPolitenessBackoffGrowsHonoursRetryAfterAndIsCapped(t *testing.T) {
	pol := &Politeness{Interval: 10 * time.Second, Jitter: func() float64 { return 0.999999 }}
	tests := []struct {
		strikes    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, 20 * time.Second},
		{2, 0, 40 * time.Second},
		{3, 0, 50 * time.Second}, // capped at 5 intervals
		{9, 0, 50 * time.Second},
		{1, 30 * time.Second, 30 * time.Second},
		{1, time.Hour, 50 * time.Second}, // a huge retry-after is capped too
	}
	for _, tt := range tests {
		got := pol.backoffFor(tt.strikes, tt.retryAfter).Round(time.Second)
		if got != tt.want {
			t.Errorf("strikes %d retry-after %v: %v, want %v", tt.strikes, tt.retryAfter, got, tt.want)
		}
	}
	pol.Jitter = func() float64 { return 0 }
	if got := pol.backoffFor(1, 0); got != 10*time.Second {
		t.Errorf("full jitter down: %v, want half of 20 s", got)
	}
}

// A check waiting for its slot is a timer, not a goroutine: 1,000 checks on
// the wall clock run on the pool's goroutines alone, and none is left once
// Run has returned.
func TestSchedulerParksChecksInTimersNotGoroutines(t *testing.T) {
	var names []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf("p%d", i))
	}
	rec := newRecorder(probe.RealClock{})
	s := &Scheduler{Checks: testChecks(names...), Interval: time.Hour, Concurrency: 4, Probe: okResult, Recorder: rec, Offset: constOffset(30 * time.Minute)}
	stop := startScheduler(t, s)
	// Run (startScheduler's goroutine) and its four pool goroutines: 5.
	// A goroutine per check would be 1,005. Only the scheduler's own
	// goroutines are counted, so goroutines of earlier tests still ending
	// do not count.
	deadline := time.Now().Add(time.Minute)
	for schedulerGoroutines() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the scheduler, want the pool's 4 and Run's", schedulerGoroutines())
		}
		time.Sleep(time.Millisecond)
	}
	for range 20 {
		if n := schedulerGoroutines(); n > 8 {
			t.Fatalf("%d goroutines of the scheduler for 1,000 waiting checks and a pool of 4, want at most 8", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	for schedulerGoroutines() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of the scheduler left after Run returned", schedulerGoroutines())
		}
		time.Sleep(time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if n := len(rec.results); n != 0 {
		t.Fatalf("%d checks probed before their slot", n)
	}
}

// schedulerGoroutines counts the goroutines running Scheduler.Run, started
// by it, or running a check's timer callback.
func schedulerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "probe/worker.(*Scheduler).Run") || strings.Contains(g, "probe/worker.(*schedRun)") {
			count++
		}
	}
	return count
}
