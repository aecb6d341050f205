package probe

import (
	"context"
	"time"
)

// Clock is the one way time is injected, in the prober and in every part of
// the worker (scheduler, sinks, loops, status store). Tests pass a fake
// that they advance by hand, so no test sleeps through an interval.
type Clock interface {
	Now() time.Time
	// Sleep blocks for d, or until ctx is done (returning ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
