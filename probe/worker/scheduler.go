package worker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// ProbeFunc runs one check; (*Prober).Probe is the real one.
type ProbeFunc func(context.Context, probe.Check) probe.Result

// Recorder receives what the scheduler does. Worker is the real one.
type Recorder interface {
	Record(c probe.Check, r probe.Result)       // a finished probe
	Skip(c probe.Check, reason string)          // a scheduled probe not sent (backoff, budget, overrun)
	Late(c probe.Check, lateness time.Duration) // how late a probe started
}

// Scheduler runs every check once per interval, with a random start offset
// per check, so checks spread over the interval. A check never overlaps
// itself (its next run is armed when its probe ends, and a run that overran
// the next slot skips it) and is never delayed by another check beyond
// waiting for a free slot of the concurrency bound.
//
// A waiting check is a timer, not a goroutine: with the wall clock, a
// time.AfterFunc that hands the check to one of Concurrency pool
// goroutines when it fires. 1,000 checks each parked in a goroutine of its
// own kept about 8 MiB of stacks, and every probe cost two more goroutine
// wake-ups than it does now.
type Scheduler struct {
	Checks      []probe.Check
	Interval    time.Duration
	Concurrency int64 // probes in flight at once; default 64
	Probe       ProbeFunc
	Recorder    Recorder
	Politeness  *Politeness // nil: no back-off, no budgets
	Clock       probe.Clock // default RealClock
	// Offset returns a check's start offset in [0, Interval); default random.
	Offset func(i int, interval time.Duration) time.Duration
}

// checkRun is one check's schedule. Its next slot is read and written only
// by whoever holds the check: its timer's callback, then the pool
// goroutine it was handed to, which arms the timer again.
type checkRun struct {
	check probe.Check
	next  time.Time
	timer checkTimer
}

// Run runs the checks until ctx is done. It returns when no probe is in
// flight and no timer is armed: in-flight probes are cancelled with ctx.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Interval <= 0 {
		return fmt.Errorf("scheduler: interval must be positive, got %s", s.Interval)
	}
	if s.Probe == nil || s.Recorder == nil {
		return fmt.Errorf("scheduler: Probe and Recorder are required")
	}
	clock := s.Clock
	if clock == nil {
		clock = probe.RealClock{}
	}
	limit := s.Concurrency
	if limit <= 0 {
		limit = 64
	}
	offset := s.Offset
	if offset == nil {
		offset = func(_ int, iv time.Duration) time.Duration { return rand.N(iv) }
	}
	r := &schedRun{Scheduler: s, ctx: ctx, clock: clock, jobs: make(chan *checkRun)}
	// The probes run on limit pool goroutines: a probe's exchange,
	// classification and recording grow a goroutine's stack to tens of
	// KiB, which the pool keeps from one probe to the next. The unbuffered
	// channel is the concurrency bound: a due check waits until a pool
	// goroutine is free to take it, and due checks are taken in the order
	// they came due.
	var pool sync.WaitGroup
	for range limit {
		pool.Go(func() {
			for {
				select {
				case c := <-r.jobs:
					r.probe(c)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	runs := make([]*checkRun, len(s.Checks))
	now := clock.Now()
	for i, c := range s.Checks {
		runs[i] = &checkRun{check: c, next: now.Add(offset(i, s.Interval))}
		runs[i].timer = newCheckTimer(clock, func() { r.due(runs[i]) })
		r.arm(runs[i])
	}
	<-ctx.Done()
	r.mu.Lock()
	r.stopped = true
	for _, c := range runs {
		if c.timer.stop() {
			r.pending.Done() // disarmed before it fired
		}
	}
	r.mu.Unlock()
	r.pending.Wait()
	pool.Wait()
	return nil
}

// schedRun is one Run's state.
type schedRun struct {
	*Scheduler
	ctx   context.Context
	clock probe.Clock
	jobs  chan *checkRun

	mu      sync.Mutex
	stopped bool           // set when ctx is done: no timer is armed after
	pending sync.WaitGroup // armed timers and their running callbacks
}

// arm sets c's timer for its next slot, unless the run is stopping.
func (r *schedRun) arm(c *checkRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.pending.Add(1)
	c.timer.arm(c.next.Sub(r.clock.Now()))
}

// due runs on c's timer when its slot comes: it skips the slot if the
// politeness rules say so, or hands c to a pool goroutine.
func (r *schedRun) due(c *checkRun) {
	defer r.pending.Done()
	if ok, why := r.Politeness.Allow(c.check, r.clock.Now()); !ok {
		r.Recorder.Skip(c.check, why)
		c.next = c.next.Add(r.Interval)
		r.arm(c)
		return
	}
	select {
	case r.jobs <- c:
	case <-r.ctx.Done():
	}
}

// probe runs c's probe on a pool goroutine, records it and arms c's timer
// for its next free slot.
func (r *schedRun) probe(c *checkRun) {
	r.Recorder.Late(c.check, r.clock.Now().Sub(c.next))
	res := r.Probe(r.ctx, c.check)
	if res.Canceled || r.ctx.Err() != nil {
		return // shutting down: this result says nothing about the provider
	}
	r.Politeness.Observe(c.check, res, r.clock.Now())
	r.Recorder.Record(c.check, res)
	c.next = c.next.Add(r.Interval)
	for now := r.clock.Now(); !c.next.After(now); c.next = c.next.Add(r.Interval) {
		r.Recorder.Skip(c.check, probe.SkipReasonOverrun)
	}
	r.arm(c)
}

// checkTimer runs its function once each time it is armed, after the
// given duration, in a goroutine of its own. stop disarms it and reports
// whether that kept the function from running.
type checkTimer interface {
	arm(d time.Duration)
	stop() bool
}

func newCheckTimer(clock probe.Clock, f func()) checkTimer {
	if _, ok := clock.(probe.RealClock); ok {
		return &wallTimer{f: f}
	}
	return &sleepTimer{clock: clock, f: f}
}

// wallTimer is the wall clock's: one time.AfterFunc, reset for each slot.
type wallTimer struct {
	t *time.Timer
	f func()
}

func (w *wallTimer) arm(d time.Duration) {
	if w.t == nil {
		w.t = time.AfterFunc(d, w.f)
		return
	}
	w.t.Reset(d)
}

func (w *wallTimer) stop() bool { return w.t != nil && w.t.Stop() }

// sleepTimer serves any other clock (the tests' fake, the demo's
// incident time) with a goroutine sleeping on it.
type sleepTimer struct {
	clock  probe.Clock
	f      func()
	state  *atomic.Int32 // of the last arm: 0 armed, 1 fired, 2 stopped
	cancel context.CancelFunc
}

func (t *sleepTimer) arm(d time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	state := new(atomic.Int32)
	t.state, t.cancel = state, cancel
	go func() {
		defer cancel()
		if t.clock.Sleep(ctx, d) == nil && state.CompareAndSwap(0, 1) {
			t.f()
		}
	}()
}

func (t *sleepTimer) stop() bool {
	if t.state == nil || !t.state.CompareAndSwap(0, 2) {
		return false
	}
	t.cancel()
	return true
}
