package probe

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxResponseHeaderBytes caps a response's headers, 1xx responses included.
const maxResponseHeaderBytes = 256 << 10

// roundTrip sends req over a connection of its own and returns the
// response; closing its body closes the connection. An HTTP/1.1 exchange
// runs on the calling goroutine: it dials, shakes hands, writes and reads
// with net/http's own request writer and response reader, and bounds every
// step with a deadline on the connection. net/http's Transport would hand
// the same exchange to three goroutines of its own (a dialer, a reader, a
// writer). At a worker's rate, a few dozen probes a second with the
// process idle in between, waking them cost about a sixth of the worker's
// CPU per probe (bench/README.md, fourth pass).
//
// When TLS negotiates HTTP/2, the connection goes to net/http's HTTP/2
// client (Transport.NewClientConn). When the environment names a proxy
// for the URL, the whole exchange is the Transport's, proxy and all.
func (p *Prober) roundTrip(ctx context.Context, req *http.Request, tr *phaseTrace) (*http.Response, error) {
	proxy := p.proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	if u, err := proxy(req); err != nil || u != nil {
		client := &http.Client{Transport: p.httpTransport(proxy), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		return client.Do(req)
	}
	host := req.URL.Hostname()
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	addr := net.JoinHostPort(host, port)
	// The dialer reports DNS and connect to req's httptrace hooks.
	raw, err := (&net.Dialer{Resolver: p.Resolver}).DialContext(req.Context(), "tcp", addr)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	// The deadline, or the caller's cancel, ends whatever the connection
	// is doing, read or write, handshake included.
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	conn := raw
	fail := func(err error) (*http.Response, error) {
		stop()
		raw.Close()
		return nil, ctxErr(ctx, err)
	}
	if req.URL.Scheme == "https" {
		cfg := p.tlsConfig().Clone()
		cfg.ServerName = host
		tc := tls.Client(raw, cfg)
		tr.mark(func(s *phaseSnapshot, n time.Time) { s.tlsStart = n })
		if err := tc.Handshake(); err != nil {
			return fail(err)
		}
		tr.mark(func(s *phaseSnapshot, n time.Time) { s.tlsDone = n })
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			stop()
			return p.roundTripH2(ctx, req, tc, addr)
		}
		conn = tc
	}
	resp, err := roundTripHTTP1(req, conn, tr)
	if err != nil {
		return fail(err)
	}
	resp.Body = &connBody{ctx: ctx, body: resp.Body, conn: conn, stop: stop}
	return resp, nil
}

// roundTripHTTP1 writes req to conn and reads the response, as net/http's
// Transport does without keep-alive: "Connection: close", gzip asked for
// and undone, 1xx responses skipped (their headers count toward the cap),
// and 101 returned as a final response.
func roundTripHTTP1(req *http.Request, conn net.Conn, tr *phaseTrace) (*http.Response, error) {
	req.Close = true
	addedGzip := req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && req.Method != http.MethodHead
	if addedGzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	bw := requestWriters.Get().(*bufio.Writer)
	bw.Reset(conn)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	requestWriters.Put(bw)
	if err != nil {
		return nil, err
	}
	tr.mark(func(s *phaseSnapshot, n time.Time) { s.wroteRequest = n })
	lr := &headerLimit{r: conn, left: maxResponseHeaderBytes}
	br := bufio.NewReaderSize(lr, 4096)
	if _, err := br.Peek(1); err == nil {
		tr.mark(func(s *phaseSnapshot, n time.Time) { s.firstByte = n })
	}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			if lr.left <= 0 {
				return nil, fmt.Errorf("server response headers exceeded %d bytes; aborted", maxResponseHeaderBytes)
			}
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	lr.left = -1 // the body is capped by whoever reads it
	if addedGzip && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
		resp.Body = &gzipBody{body: resp.Body}
	}
	return resp, nil
}

// requestWriters hold the request writers' buffers from one probe to the
// next: a request is written whole before its response is read, so its
// writer is free again before anything else can end the exchange.
var requestWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 2048) }}

// headerLimit lets left bytes through, then fails; left < 0 is no limit.
type headerLimit struct {
	r    io.Reader
	left int64
}

var errHeaderLimit = errors.New("response headers over the limit")

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return l.r.Read(p)
	}
	if l.left == 0 {
		return 0, errHeaderLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// gzipBody decompresses a body on its first read, as the Transport does.
type gzipBody struct {
	body io.ReadCloser
	zr   *gzip.Reader
	err  error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		if g.zr, g.err = gzip.NewReader(g.body); g.err != nil {
			return 0, g.err
		}
	}
	return g.zr.Read(p)
}

func (g *gzipBody) Close() error { return g.body.Close() }

// connBody is an HTTP/1.1 response body whose Close closes the connection
// (over TLS, with a close_notify first, as the Transport closes it). Close
// may come from the reader and from the probe's deadline at once.
type connBody struct {
	ctx  context.Context
	body io.ReadCloser
	conn net.Conn
	stop func() bool
	once sync.Once
}

func (b *connBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		err = ctxErr(b.ctx, err)
	}
	return n, err
}

// ctxErr is err, or the cause of ctx's end when ctx has ended: what ended
// the exchange then is the deadline or the caller, whatever the
// interrupted read or write made of it (a malformed header cut short).
// net/http's Transport reports the same.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

func (b *connBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
	})
	return nil
}

// roundTripH2 runs req over tc, a TLS connection that negotiated HTTP/2,
// with net/http's HTTP/2 client.
func (p *Prober) roundTripH2(ctx context.Context, req *http.Request, tc *tls.Conn, addr string) (*http.Response, error) {
	// The handshake is done and timed: the connection is handed over
	// without req's trace hooks, which would time it again.
	cc, err := p.h2Transport().NewClientConn(context.WithValue(context.WithoutCancel(ctx), tlsConnKey{}, tc), "https", addr)
	if err != nil {
		tc.Close()
		return nil, err
	}
	resp, err := cc.RoundTrip(req)
	if err != nil {
		cc.Close()
		return nil, err
	}
	resp.Body = &h2Body{ReadCloser: resp.Body, cc: cc}
	return resp, nil
}

type h2Body struct {
	io.ReadCloser
	cc   *http.ClientConn
	once sync.Once
}

func (b *h2Body) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.cc.Close() })
	return err
}

// tlsConnKey carries the connection roundTripH2 hands to h2Transport.
type tlsConnKey struct{}

// h2Transport turns a connection that negotiated HTTP/2 into a ClientConn.
// It dials nothing itself.
func (p *Prober) h2Transport() *http.Transport {
	return lazy(&p.h2, func() *http.Transport {
		return &http.Transport{
			DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				if tc, ok := ctx.Value(tlsConnKey{}).(*tls.Conn); ok {
					return tc, nil
				}
				return nil, errors.New("probe: no connection to hand to HTTP/2")
			},
			DisableKeepAlives:      true,
			ForceAttemptHTTP2:      true,
			MaxResponseHeaderBytes: maxResponseHeaderBytes,
		}
	})
}

// tlsConfig is the TLS configuration of every probe: ALPN offers HTTP/2
// and HTTP/1.1, as Go's clients do; no session cache, so every handshake
// is a full one. Nothing writes to it once built: a probe clones it.
func (p *Prober) tlsConfig() *tls.Config {
	return lazy(&p.tls, func() *tls.Config {
		return &tls.Config{RootCAs: p.RootCAs, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	})
}

// lazy returns what ptr holds, first storing build's result when it holds
// nothing. Concurrent first calls may each build; one result is kept and
// all of them return it.
func lazy[T any](ptr *atomic.Pointer[T], build func() *T) *T {
	if v := ptr.Load(); v != nil {
		return v
	}
	if v := build(); ptr.CompareAndSwap(nil, v) {
		return v
	}
	return ptr.Load()
}

// proxyFunc says which proxy, if any, a request goes through.
type proxyFunc func(*http.Request) (*url.URL, error)
