package providertest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// wait sleeps d unless the client goes away or the server closes first;
// it reports whether the full d passed.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

// block waits until the client goes away or the server closes: a stall.
func (s *Server) block(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

// hangUp takes the connection from net/http after the request was read
// and ends it without a response: with reset, SO_LINGER 0 makes the close
// send a TCP RST (the client reads ECONNRESET); without, a clean close
// (the client reads EOF). On TLS the raw TCP connection is closed, so no
// close_notify alert softens the reset.
func (s *Server) hangUp(x *exchange, reset bool) {
	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if !reset {
		conn.Close()
		return
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	raw.Close()
}

// writeStream sends the 200 stream headers and the first n events, each
// flushed on its own. It reports false when the client went away or the
// server is closing.
func (s *Server) writeStream(x *exchange, rep reply, n int) bool {
	s.stampEdge(rep.header, x.ray)
	h := x.w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	if x.closeConn {
		h.Set("Connection", "close")
	}
	x.w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(x.w)
	if err := rc.Flush(); err != nil {
		return false
	}
	for i := 0; i < n && i < len(rep.events); i++ {
		select {
		case <-x.r.Context().Done():
			return false
		case <-s.closing:
			return false
		default:
		}
		if _, err := io.WriteString(x.w, rep.events[i]); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
	}
	return true
}

// streamFault serves the stream faults. The origin is asked for the answer
// a good key would get (the fault models an origin that began a 200), then:
//   - stall_mid_stream: headers and the first event, then silence;
//   - cut_mid_stream: headers and the first rep.head events, then the
//     connection closes without the chunked terminator (unexpected EOF);
//   - error_event_mid_stream: the same events, then the provider's error
//     event, then a clean end of the stream.
//
// For a request that does not stream, stall and cut send the headers with
// the full Content-Length and half the body, then stall or cut; the error
// event becomes the provider's overloaded error response (Anthropic 529,
// OpenAI and Gemini 503), the error a non-streaming call gets instead.
func (s *Server) streamFault(x *exchange, o origin, k FaultKind) {
	if o == nil {
		s.write(x, s.notFoundPlain(x))
		return
	}
	x.skipAuth = true
	rep := o.answer(x)
	if rep.events != nil {
		switch k {
		case StallMidStream:
			if s.writeStream(x, rep, 1) {
				s.block(x.r)
			}
		case CutMidStream:
			s.writeStream(x, rep, rep.head)
		case ErrorEventMidStream:
			if s.writeStream(x, rep, rep.head) {
				_, _ = io.WriteString(x.w, o.errorEvent(x))
				_ = http.NewResponseController(x.w).Flush()
			}
			return
		}
		// Abort: net/http closes the connection without ending the chunked
		// body, so the client sees the stream break, not finish.
		panic(http.ErrAbortHandler)
	}
	if k == ErrorEventMidStream {
		s.carry(x, o.fail(x, Overloaded529))
		return
	}
	resp := rep.response
	s.stampEdge(resp.header, x.ray)
	h := x.w.Header()
	for key, v := range resp.header {
		h[key] = v
	}
	h.Set("Content-Length", fmt.Sprint(len(resp.body)))
	x.w.WriteHeader(resp.status)
	_, _ = x.w.Write(resp.body[:len(resp.body)/2])
	if http.NewResponseController(x.w).Flush() == nil && k == StallMidStream {
		s.block(x.r)
	}
	panic(http.ErrAbortHandler)
}
