package demo

import (
	"context"
	"sort"
	"sync"
	"time"
)

// incidentClock is the demo's time: incident time, which moves only when the
// player advances it. The workers' schedulers, sinks and control loops run
// on it (probe.Clock), so a probe every 30s of incident time is a probe every
// 30s of incident time however fast the machine is, and the player advances
// only once every woken goroutine is asleep again: what the rules see does
// not depend on the machine's speed. Probes themselves are real exchanges
// on loopback, timed on the wall clock.
type incidentClock struct {
	mu       sync.Mutex
	now      time.Time
	advanced time.Time // the wall time of the last advance
	sleepers []*sleeper
	changed  chan struct{} // closed and replaced whenever sleepers change
}

type sleeper struct {
	until time.Time
	done  chan struct{}
}

func newIncidentClock(start time.Time) *incidentClock {
	return &incidentClock{now: start, advanced: time.Now(), changed: make(chan struct{})}
}

// probeClock is the probes' clock (probe.Prober.Clock): incident time plus
// the wall time since the last advance. A probe starts at incident time and
// its phases last as long as they took on loopback, so a fake's scripted
// 150 ms is 150 ms in the phase histograms, however fast incident time runs.
// It never sleeps: the prober only reads it.
type probeClock struct{ c *incidentClock }

func (p probeClock) Now() time.Time {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	return p.c.now.Add(time.Since(p.c.advanced))
}

func (p probeClock) Sleep(ctx context.Context, d time.Duration) error {
	return p.c.Sleep(ctx, d)
}

func (c *incidentClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until incident time reaches now+d or ctx is done.
func (c *incidentClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	s := &sleeper{until: c.now.Add(d), done: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.notifyLocked()
	c.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		for i, x := range c.sleepers {
			if x == s {
				c.sleepers = append(c.sleepers[:i], c.sleepers[i+1:]...)
				break
			}
		}
		c.notifyLocked()
		c.mu.Unlock()
		return ctx.Err()
	}
}

func (c *incidentClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// nextWake is the earliest time a sleeper waits for, and false when none
// sleeps.
func (c *incidentClock) nextWake() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sleepers) == 0 {
		return time.Time{}, false
	}
	sort.Slice(c.sleepers, func(i, j int) bool { return c.sleepers[i].until.Before(c.sleepers[j].until) })
	return c.sleepers[0].until, true
}

// advanceTo moves incident time forward to t (never back) and wakes every
// sleeper due by then.
func (c *incidentClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	c.advanced = time.Now()
	var keep []*sleeper
	for _, s := range c.sleepers {
		if s.until.After(c.now) {
			keep = append(keep, s)
		} else {
			close(s.done)
		}
	}
	c.sleepers = keep
	c.notifyLocked()
}

// waitIdle blocks until n goroutines sleep on the clock: everything the
// last advance woke has run (its probe finished and was recorded) and gone
// back to sleep. It returns ctx's error if ctx ends first.
func (c *incidentClock) waitIdle(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		got, changed := len(c.sleepers), c.changed
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
