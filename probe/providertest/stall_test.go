package providertest_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

// settledGoroutines waits (bounded) until the goroutine count drops to at
// most limit and returns the last count seen. Goroutines of closed
// connections take a moment to unwind; nothing here asserts wall-clock.
func settledGoroutines(limit int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(roomy); n > limit && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// waitRequests polls until the server has seen n requests.
func waitRequests(t *testing.T, s *pt.Server, n int) {
	t.Helper()
	testkit.Eventually(t, "the server's requests", func() bool { return s.Requests("") >= n })
}

// TestStallsEndWhenTheServerClosesAndLeakNothing runs without t.Parallel so
// that the goroutine count is this test's alone.
func TestStallsEndWhenTheServerClosesAndLeakNothing(t *testing.T) {
	for _, kind := range []pt.FaultKind{pt.StallBeforeHeaders, pt.StallMidStream} {
		for _, sc := range schemes {
			for _, stream := range []bool{false, true} {
				name := kind.String() + " " + sc.name
				if stream {
					name += " streaming"
				}
				t.Run(name, func(t *testing.T) {
					before := runtime.NumGoroutine()
					var s *pt.Server
					if sc.tls {
						s = pt.NewTLSServer(pt.Options{})
					} else {
						s = pt.NewServer(pt.Options{})
					}
					s.Inject("anthropic", pt.Fault{Kind: kind})
					done := make(chan error, 1)
					go func() {
						// No deadline: only Close can end this request.
						resp, err := s.Client().Do(chatRequest(t, s, "anthropic", "test-key", stream))
						if err == nil {
							_, err = io.ReadAll(resp.Body)
							resp.Body.Close()
						}
						done <- err
					}()
					waitRequests(t, s, 1)
					s.Close()
					select {
					case err := <-done:
						if err == nil {
							t.Error("the stalled request completed; want it broken by Close")
						}
					case <-time.After(roomy):
						t.Fatal("the stalled request did not return after Close")
					}
					if after := settledGoroutines(before); after > before {
						buf := make([]byte, 1<<16)
						t.Errorf("goroutines %d before, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
					}
				})
			}
		}
	}
}

func TestStallBeforeHeadersEndsWhenTheClientGoesAway(t *testing.T) {
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) {
			s := newServer(t, sc.tls, pt.Options{})
			s.Inject("", pt.Fault{Kind: pt.StallBeforeHeaders})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := s.Client().Do(chatRequest(t, s, "openai", "test-key", false).WithContext(ctx))
				done <- err
			}()
			waitRequests(t, s, 1)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			// The handler noticed too: Close returns at once and a new
			// request is served.
			s.Clear()
			if got := do(t, s, reachRequest(t, s, "openai", "test-key"), roomy); got.err != nil {
				t.Errorf("after the stall: %v", got.err)
			}
		})
	}
}

func TestDelayEndsWhenTheServerCloses(t *testing.T) {
	s := pt.NewServer(pt.Options{})
	s.Inject("", pt.Fault{Kind: pt.CF524, Delay: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, err := s.Client().Do(chatRequest(t, s, "openai", "test-key", false))
		done <- err
	}()
	waitRequests(t, s, 1)
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the delayed request was answered after Close")
		}
	case <-time.After(roomy):
		t.Fatal("Close did not end the hour-long delay")
	}
}
