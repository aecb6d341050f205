package probe

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const testKey = "sk-test-0123456789abcdef-SECRET"

// roomy is the timeout of a probe that must not time out: it only catches a
// hang, so a loaded machine (CI runs -race on two shared cores, where even
// loading the system's certificate pool takes a while) never trips it.
const roomy = time.Minute

// stallTimeout is the timeout of a probe that must end by its timeout after
// the exchange began: long enough that connect and TLS always finish first.
const stallTimeout = 3 * time.Second

func openAIChat(base string) Check {
	p, _ := LookupProvider("openai")
	return Check{Provider: p, Kind: KindChat, Model: "gpt-4o-mini", BaseURL: base, APIKey: testKey, Region: "test", Timeout: roomy}
}

func writeOpenAIReply(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_abc123")
	w.Header().Set("Openai-Processing-Ms", "120")
	w.Header().Set("X-Ratelimit-Remaining-Requests", "99")
	w.Header().Set("X-Ratelimit-Remaining-Tokens", "19990")
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1}}`)
}

// wait blocks until the client goes away or the test ends.
func wait(r *http.Request, done <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-done:
	}
}

func TestProbeMeasuresPhasesOverTLS(t *testing.T) {
	const delay = 300 * time.Millisecond
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		writeOpenAIReply(w)
	}))
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	p := &Prober{RootCAs: pool}
	res := p.Probe(context.Background(), openAIChat(srv.URL+"/v1"))

	if res.Outcome != OutcomeSuccess || res.Reason != ReasonOK {
		t.Fatalf("got %s/%s: %s", res.Outcome, res.Reason, res.Error)
	}
	tm := res.Timings
	if tm.Connect <= 0 || tm.TLS <= 0 {
		t.Errorf("connect %v and tls %v must be measured on a fresh TLS connection", tm.Connect, tm.TLS)
	}
	// TTFB starts when the client's hook saw the request written, which a
	// loaded machine may run late: half the delay of room.
	if tm.TTFB < delay/2 {
		t.Errorf("ttfb %v is not even half the server's %v delay", tm.TTFB, delay)
	}
	if tm.Total < tm.Connect+tm.TLS+tm.TTFB {
		t.Errorf("total %v is less than its phases %+v", tm.Total, tm)
	}
	t.Logf("ttfb %v for an injected %v delay (error %v)", tm.TTFB, delay, tm.TTFB-delay)
	if res.Tokens != (Usage{12, 1}) || res.Answer != "pong" || res.CanaryOK == nil || !*res.CanaryOK {
		t.Errorf("tokens %+v answer %q canary %v", res.Tokens, res.Answer, res.CanaryOK)
	}
	if res.RequestID != "req_abc123" || res.OriginProcessing != 120*time.Millisecond {
		t.Errorf("request id %q processing %v", res.RequestID, res.OriginProcessing)
	}
	if res.EdgeOverhead != tm.TTFB-120*time.Millisecond {
		t.Errorf("edge overhead %v, want ttfb-120ms", res.EdgeOverhead)
	}
	if res.RateLimit.Requests == nil || *res.RateLimit.Requests != 99 || res.RateLimit.Tokens == nil || *res.RateLimit.Tokens != 19990 {
		t.Errorf("rate limit %+v", res.RateLimit)
	}
}

func TestProbeOpensAFreshConnectionEachTime(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		writeOpenAIReply(w)
	}))
	defer srv.Close()
	p := &Prober{}
	for i := 0; i < 3; i++ {
		if res := p.Probe(context.Background(), openAIChat(srv.URL+"/v1")); res.Outcome != OutcomeSuccess || res.Timings.Connect <= 0 {
			t.Fatalf("probe %d: %s/%s connect %v", i, res.Outcome, res.Reason, res.Timings.Connect)
		}
	}
	if len(conns) != 3 {
		t.Fatalf("3 probes used %d connections, want 3", len(conns))
	}
}

// One transport serves every probe of a Prober, and it must keep nothing
// between them: over TLS with HTTP/2, probes in parallel each get a
// connection of their own and a full handshake (no resumed session), with
// TLS measured every time.
func TestProbeOverHTTP2SharesNoConnectionAndResumesNoSession(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	resumed, h1 := 0, 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // as a provider does before it answers
		mu.Lock()
		conns[r.RemoteAddr] = true
		if r.TLS.DidResume {
			resumed++
		}
		if r.ProtoMajor != 2 {
			h1++
		}
		mu.Unlock()
		writeOpenAIReply(w)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	p := &Prober{RootCAs: roots}
	const n = 12
	results := make([]Result, n)
	// One first, so that a session ticket, if kept, would be there to
	// resume; then the rest in parallel.
	results[0] = p.Probe(context.Background(), openAIChat(srv.URL+"/v1"))
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Go(func() { results[i] = p.Probe(context.Background(), openAIChat(srv.URL+"/v1")) })
	}
	wg.Wait()
	for i, res := range results {
		if res.Outcome != OutcomeSuccess || res.Timings.Connect <= 0 || res.Timings.TLS <= 0 || res.Timings.TTFB <= 0 {
			t.Fatalf("probe %d: %s/%s connect %v tls %v ttfb %v", i, res.Outcome, res.Reason, res.Timings.Connect, res.Timings.TLS, res.Timings.TTFB)
		}
	}
	if len(conns) != n || resumed != 0 || h1 != 0 {
		t.Fatalf("%d probes over HTTP/2: %d connections, %d resumed sessions, %d HTTP/1 requests; want %d, 0, 0", n, len(conns), resumed, h1, n)
	}
}

// fakeDNS answers every query on a loopback UDP socket with NXDOMAIN.
func fakeDNS(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp := append([]byte(nil), buf[:n]...)
			resp[2], resp[3] = 0x81, 0x83 // QR, RD, RA, RCODE=3 (NXDOMAIN)
			resp[6], resp[7], resp[8], resp[9], resp[10], resp[11] = 0, 0, 0, 0, 0, 0
			pc.WriteTo(resp, addr)
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

func TestProbeTransportFailures(t *testing.T) {
	refused := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/v1"
	}
	tlsAlert := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Read(make([]byte, 4096))                           // the ClientHello
				c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 2, 40}) // fatal handshake_failure alert
				c.Close()
			}
		}()
		return "https://" + l.Addr().String() + "/v1"
	}
	untrusted := func(t *testing.T) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeOpenAIReply(w) }))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL + "/v1"
	}
	hijack := func(linger bool) func(t *testing.T) string {
		return func(t *testing.T) string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				if linger {
					c.(*net.TCPConn).SetLinger(0) // close with RST
				}
				c.Close()
			}))
			t.Cleanup(srv.Close)
			return srv.URL + "/v1"
		}
	}
	stall := func(t *testing.T) string {
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wait(r, done) }))
		t.Cleanup(func() { close(done); srv.Close() })
		return srv.URL + "/v1"
	}
	tests := []struct {
		name     string
		base     func(t *testing.T) string
		resolver bool
		outcome  Outcome
		reason   Reason
		timeout  time.Duration // roomy when zero: only the stall waits for it
	}{
		{"a name that does not resolve is the network's DNS", func(*testing.T) string { return "https://api.nxdomain.test/v1" }, true, OutcomeNetworkError, ReasonDNS, 0},
		{"a refused connection is the network", refused, false, OutcomeNetworkError, ReasonConnectRefused, 0},
		{"a TLS alert after connect is the edge", tlsAlert, false, OutcomeEdgeError, ReasonTLSHandshake, 0},
		{"a certificate this probe does not trust is the edge's TLS", untrusted, false, OutcomeEdgeError, ReasonTLSCertificate, 0},
		{"a reset after connect before headers is the edge", hijack(true), false, OutcomeEdgeError, ReasonConnectionReset, 0},
		{"a clean close after connect before headers is the edge", hijack(false), false, OutcomeEdgeError, ReasonConnectionReset, 0},
		{"no headers before the timeout is the origin", stall, false, OutcomeOriginError, ReasonTTFBTimeout, stallTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Prober{}
			if tt.resolver {
				p.Resolver = fakeDNS(t)
			}
			c := openAIChat(tt.base(t))
			if tt.timeout != 0 {
				c.Timeout = tt.timeout
			}
			res := p.Probe(context.Background(), c)
			if res.Outcome != tt.outcome || res.Reason != tt.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", res.Outcome, res.Reason, res.Error, tt.outcome, tt.reason)
			}
			if res.StatusCode != 0 || res.AuthoredBy != AuthorNone || res.Error == "" {
				t.Errorf("status %d authored_by %q error %q", res.StatusCode, res.AuthoredBy, res.Error)
			}
		})
	}
}

// fullBacklog returns the address of a listener whose accept queue is full,
// so the kernel drops new SYNs and a connect hangs until its deadline.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("raw socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the queue until a connect hangs: only then is it full. A connect
	// the queue still takes completes in the kernel at once, so the roomy
	// bound of each try only matters for the one that hangs.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i == 16 {
			t.Skip("the kernel queues connections without bound here")
		}
	}
	return addr
}

func TestProbeConnectTimeoutIsTheNetwork(t *testing.T) {
	c := openAIChat("http://" + fullBacklog(t) + "/v1")
	c.Timeout = 300 * time.Millisecond
	res := (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeNetworkError || res.Reason != ReasonConnectTimeout {
		t.Fatalf("got %s/%s (%s), want network_error/connect_timeout", res.Outcome, res.Reason, res.Error)
	}
}

func sseHandler(done <-chan struct{}, gap time.Duration, events []string, stallAfter int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Request-Id", "req_stream")
		w.WriteHeader(http.StatusOK)
		for i, ev := range events {
			if i == stallAfter {
				wait(r, done)
				return
			}
			if i > 0 {
				time.Sleep(gap)
			}
			io.WriteString(w, ev+"\n\n")
			w.(http.Flusher).Flush()
		}
	}
}

var openAIStream = []string{
	`data: {"choices":[{"delta":{"role":"assistant","content":""}}]}`,
	`data: {"choices":[{"delta":{"content":"pong"}}]}`,
	`data: {"choices":[{"delta":{},"finish_reason":"stop"}]}`,
	`data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":1}}`,
	`data: [DONE]`,
}

// The first token is the first event with content, not the first event
// (the role). The server writes the content a gap after the role; the
// probe's times start when it wrote the request, which the server's gap
// follows, so TTFT is at least the gap less however late the client's
// hook ran: half a gap of room, since a buggy probe would report the few
// milliseconds of TTFB instead.
func TestProbeStreamMeasuresTimeToFirstToken(t *testing.T) {
	const gap = 500 * time.Millisecond
	done := make(chan struct{})
	srv := httptest.NewServer(sseHandler(done, gap, openAIStream, -1))
	defer func() { close(done); srv.Close() }()
	c := openAIChat(srv.URL + "/v1")
	c.Kind = KindStream
	res := (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeSuccess {
		t.Fatalf("got %s/%s: %s", res.Outcome, res.Reason, res.Error)
	}
	tm := res.Timings
	if tm.TTFT < gap/2 || tm.TTFT < tm.TTFB {
		t.Errorf("ttft %v (ttfb %v), want at least half the %v gap before the first content: it timed an event without content", tm.TTFT, tm.TTFB, gap)
	}
	// The stream's last event comes four gaps after the role; the transfer
	// lasts from the first byte to it.
	if tm.TTFB+tm.Transfer < 3*gap {
		t.Errorf("ttfb %v + transfer %v, want at least 3 of the 4 gaps to the last event", tm.TTFB, tm.Transfer)
	}
	if res.Tokens != (Usage{12, 1}) || res.Answer != "pong" {
		t.Errorf("tokens %+v answer %q", res.Tokens, res.Answer)
	}
}

func TestProbeStreamStallIsAnOriginStreamError(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(sseHandler(done, 0, openAIStream, 2))
	defer func() { close(done); srv.Close() }()
	c := openAIChat(srv.URL + "/v1")
	c.Kind, c.Timeout = KindStream, stallTimeout
	res := (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeOriginError || res.Reason != ReasonStreamError || !strings.Contains(res.Error, "stalled") {
		t.Fatalf("got %s/%s (%s), want origin_error/stream_error, stalled", res.Outcome, res.Reason, res.Error)
	}
	if res.Timings.TTFT <= 0 {
		t.Errorf("the first token arrived before the stall; ttft is %v", res.Timings.TTFT)
	}
}

func TestProbeCanceledByCallerIsMarked(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wait(r, done) }))
	defer func() { close(done); srv.Close() }()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	res := (&Prober{}).Probe(ctx, openAIChat(srv.URL+"/v1"))
	if !res.Canceled {
		t.Fatalf("a probe ended by its caller must be marked canceled: %+v", res)
	}
}

func TestProbeNeverShowsTheKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// a hostile or buggy server echoing the credentials back
		w.Header().Set("X-Request-Id", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+`","type":"invalid_request_error","code":"invalid_api_key"}}`)
	}))
	defer srv.Close()
	res := (&Prober{}).Probe(context.Background(), openAIChat(srv.URL+"/v1"))
	if res.Reason != ReasonAuth {
		t.Fatalf("got %s/%s", res.Outcome, res.Reason)
	}
	out, _ := json.Marshal(res)
	if strings.Contains(string(out), testKey) || strings.Contains(string(out), "0123456789abcdef") {
		t.Fatalf("result shows the key: %s", out)
	}
	if !strings.Contains(res.Error, redacted) {
		t.Errorf("error %q should show where the key was scrubbed", res.Error)
	}
}

func TestProbeReadsAtMostMaxBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"content":"`+strings.Repeat("x", 1<<20)+`"}}]}`)
	}))
	defer srv.Close()
	res := (&Prober{MaxBody: 4096}).Probe(context.Background(), openAIChat(srv.URL+"/v1"))
	if res.Outcome != OutcomeOriginError || res.Reason != ReasonInvalidResponse {
		t.Fatalf("a reply cut at the cap is not a valid reply: got %s/%s", res.Outcome, res.Reason)
	}
}

func TestProbeWithoutKeySendsNothing(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	c := openAIChat(srv.URL + "/v1")
	c.APIKey = ""
	res := (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeProbeError || res.Reason != ReasonNoAPIKey || hits != 0 {
		t.Fatalf("got %s/%s with %d requests; want probe_error/no_api_key and none sent", res.Outcome, res.Reason, hits)
	}
	if !strings.Contains(res.Error, "OPENAI_API_KEY") {
		t.Errorf("error %q should name the variable to set", res.Error)
	}
}

// TestTTFBRunsFromTheHeadersWhenTheFirstByteBeatsTheRequest: over HTTP/2
// the client reports the request written from one goroutine and the first
// byte from another, so the first can come second. TTFB and TTFT then run
// from the headers written, not from a later mark (which would make them
// 0); in order, and when no headers were timed (HTTP/1.1 on the probe's
// goroutine), they run from the request written.
func TestTTFBRunsFromTheHeadersWhenTheFirstByteBeatsTheRequest(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 15, 44, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		name                                  string
		headers, request, firstByte, firstTok int // ms; -1: not timed
		wantTTFB, wantTTFT                    time.Duration
	}{
		{"in order", 1, 2, 10, 12, 8 * time.Millisecond, 10 * time.Millisecond},
		{"first byte reported before the request", 1, 6, 5, 7, 4 * time.Millisecond, 6 * time.Millisecond},
		{"no headers timed", -1, 6, 5, 7, 0, time.Millisecond},
		{"first byte before the headers too", 6, 7, 5, 8, 0, time.Millisecond},
	} {
		tr := &phaseTrace{now: func() time.Time { return t0 }}
		mark := func(ms int) time.Time {
			if ms < 0 {
				return time.Time{}
			}
			return at(ms)
		}
		tr.wroteHeaders, tr.wroteRequest, tr.firstByte, tr.firstTokenAt = mark(tc.headers), mark(tc.request), mark(tc.firstByte), mark(tc.firstTok)
		tm := tr.timings(t0, at(20))
		if tm.TTFB != tc.wantTTFB || tm.TTFT != tc.wantTTFT {
			t.Errorf("%s: TTFB %v, TTFT %v; want %v, %v", tc.name, tm.TTFB, tm.TTFT, tc.wantTTFB, tc.wantTTFT)
		}
		for _, sp := range tr.spans() {
			if sp.Name == PhaseTTFB && sp.End.Sub(sp.Start) != tc.wantTTFB {
				t.Errorf("%s: TTFB span %v, want %v", tc.name, sp.End.Sub(sp.Start), tc.wantTTFB)
			}
		}
	}
}
