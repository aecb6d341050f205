package worker

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
}

type sleeper struct {
	until time.Time
	done  chan struct{}
}

func newFakeClock() *fakeClock {
	return newFakeClockAt(time.Date(2026, 4, 20, 15, 0, 0, 0, time.UTC))
}

// newFakeClockAt is a fake clock that reads now until advanced.
func newFakeClockAt(now time.Time) *fakeClock { return &fakeClock{now: now} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	f.mu.Lock()
	s := &sleeper{until: f.now.Add(d), done: make(chan struct{})}
	f.sleepers = append(f.sleepers, s)
	f.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for i, x := range f.sleepers {
			if x == s {
				f.sleepers = append(f.sleepers[:i], f.sleepers[i+1:]...)
				break
			}
		}
		f.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock by d and wakes every sleeper whose time came.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	var keep []*sleeper
	for _, s := range f.sleepers {
		if !s.until.After(f.now) {
			close(s.done)
		} else {
			keep = append(keep, s)
		}
	}
	f.sleepers = keep
	f.mu.Unlock()
}

// waitSleepers waits until n goroutines sleep on the clock: everything the
// last Advance woke has run and gone back to sleep.
func (f *fakeClock) waitSleepers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for {
		f.mu.Lock()
		got := len(f.sleepers)
		f.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines sleep on the clock, want %d", got, n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}
