package testkit

import (
	"context"
	"io"
	"net"
	"sync"
	"time"
)

// SlowClients are connections that hold a server's port the way a careless
// or hostile client does: half of them send a request that promises a body
// and never send it, half trickle header lines in, one a second. A
// connection the server closes is opened again at once. The worker's
// slow-client test and bench/slowclients use them.
type SlowClients struct {
	mu     sync.Mutex
	dials  int
	open   int
	served int // connections the server closed (it gave up on them, or answered and hung up)
	done   sync.WaitGroup
}

// HoldSlowClients keeps n slow connections to addr until ctx is done; Wait
// then waits until every one is closed.
func HoldSlowClients(ctx context.Context, addr string, n int) *SlowClients {
	s := &SlowClients{}
	for i := range n {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			for ctx.Err() == nil {
				c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
					continue
				}
				s.count(func() { s.dials++; s.open++ })
				stop := context.AfterFunc(ctx, func() { c.Close() })
				if i%2 == 0 {
					io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: worker\r\nContent-Length: 100000\r\n\r\n")
					io.Copy(io.Discard, c) // until the server gives up on the body
				} else {
					io.WriteString(c, "GET /api/status HTTP/1.1\r\n")
					for ctx.Err() == nil {
						if _, err := io.WriteString(c, "X: y\r\n"); err != nil {
							break
						}
						select {
						case <-ctx.Done():
						case <-time.After(time.Second):
						}
					}
				}
				stop()
				c.Close()
				s.count(func() {
					s.open--
					if ctx.Err() == nil {
						s.served++
					}
				})
			}
		}()
	}
	return s
}

func (s *SlowClients) count(f func()) {
	s.mu.Lock()
	f()
	s.mu.Unlock()
}

// Stats are how many connections were dialled in all, are open now, and
// were ended by the server.
func (s *SlowClients) Stats() (dials, open, endedByServer int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials, s.open, s.served
}

// Wait waits until every connection is closed (after ctx is done).
func (s *SlowClients) Wait() { s.done.Wait() }
