package worker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// ProbeFunc runs one check; (*Prober).Probe is the real one.
type ProbeFunc func(context.Context, probe.Check) probe.Result

// Recorder receives what the scheduler does. Worker is the real one.
type Recorder interface {
	Record(c probe.Check, r probe.Result)       // a finished probe
	Skip(c probe.Check, reason string)          // a scheduled probe not sent (backoff, budget, overrun)
	Late(c probe.Check, lateness time.Duration) // how late a probe started
}

// Scheduler runs every check once per interval, each from its own goroutine
// with a random start offset, so checks spread over the interval. A check
// never overlaps itself (its next run waits for its probe to end, and a run
// that overran the next slot skips it) and is never delayed by another check
// beyond waiting for a free slot of the concurrency bound.
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

// Run runs the checks until ctx is done. It returns when every check
// goroutine has returned: in-flight probes are cancelled with ctx.
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
	sem := semaphore.NewWeighted(limit)
	offset := s.Offset
	if offset == nil {
		offset = func(_ int, iv time.Duration) time.Duration { return rand.N(iv) }
	}
	g, ctx := errgroup.WithContext(ctx)
	// The probes run on limit pool goroutines, not on the checks' own: a
	// probe's exchange, classification and recording grow a goroutine's
	// stack to tens of KiB, and 1,000 checks' goroutines each keeping such
	// a stack cost more memory than everything else the worker keeps. A
	// check's goroutine only sleeps, waits for a slot and hands its probe
	// over, so its stack stays small.
	jobs := make(chan func())
	for range limit {
		g.Go(func() error {
			for {
				select {
				case job := <-jobs:
					job()
				case <-ctx.Done():
					return nil
				}
			}
		})
	}
	for i, c := range s.Checks {
		start := clock.Now().Add(offset(i, s.Interval))
		g.Go(func() error {
			s.loop(ctx, clock, sem, jobs, c, start)
			return nil
		})
	}
	return g.Wait()
}

func (s *Scheduler) loop(ctx context.Context, clock probe.Clock, sem *semaphore.Weighted, jobs chan<- func(), c probe.Check, next time.Time) {
	for {
		if err := clock.Sleep(ctx, next.Sub(clock.Now())); err != nil {
			return
		}
		if ok, why := s.Politeness.Allow(c, clock.Now()); !ok {
			s.Recorder.Skip(c, why)
			next = next.Add(s.Interval)
			continue
		}
		if err := sem.Acquire(ctx, 1); err != nil {
			return
		}
		s.Recorder.Late(c, clock.Now().Sub(next))
		// A pool goroutine is free: at most limit probes hold the
		// semaphore, and there are limit pool goroutines.
		done := make(chan bool, 1)
		job := func() {
			r := s.Probe(ctx, c)
			if r.Canceled || ctx.Err() != nil {
				done <- false // shutting down: this result says nothing about the provider
				return
			}
			s.Politeness.Observe(c, r, clock.Now())
			s.Recorder.Record(c, r)
			done <- true
		}
		select {
		case jobs <- job:
		case <-ctx.Done():
			sem.Release(1)
			return
		}
		ok := <-done
		sem.Release(1)
		if !ok {
			return
		}
		next = next.Add(s.Interval)
		for now := clock.Now(); !next.After(now); next = next.Add(s.Interval) {
			s.Recorder.Skip(c, probe.SkipReasonOverrun)
		}
	}
}
