package probe

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// TestProbeOverHTTP1RunsOnTheProbesGoroutine holds the server's answer
// while the probe waits for it, and looks at every goroutine's stack then:
// there may be no more goroutines of net/http's client (a Transport's
// dialer, reader or writer) than before the probe began (an earlier
// test's idle connections may still hold some), over plain HTTP and over
// TLS that negotiated HTTP/1.1. The exchange is the probe goroutine's own.
func TestProbeOverHTTP1RunsOnTheProbesGoroutine(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			inHandler, release := make(chan string, 1), make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inHandler <- r.Proto
				<-release
				writeOpenAIReply(w)
			}))
			p := &Prober{}
			if scheme == "https" {
				srv.StartTLS() // no EnableHTTP2: ALPN settles on HTTP/1.1
				p.RootCAs = x509.NewCertPool()
				p.RootCAs.AddCert(srv.Certificate())
			} else {
				srv.Start()
			}
			defer srv.Close()
			before := clientGoroutines(allStacks())
			done := make(chan Result, 1)
			go func() { done <- p.Probe(context.Background(), openAIChat(srv.URL+"/v1")) }()
			if proto := <-inHandler; proto != "HTTP/1.1" {
				t.Errorf("request came as %s, want HTTP/1.1", proto)
			}
			stacks := allStacks()
			close(release)
			res := <-done
			if res.Outcome != OutcomeSuccess || res.Timings.TTFB <= 0 || res.Timings.Connect <= 0 {
				t.Fatalf("got %s/%s ttfb %v connect %v, want success with both timed", res.Outcome, res.Reason, res.Timings.TTFB, res.Timings.Connect)
			}
			if scheme == "https" && res.Timings.TLS <= 0 {
				t.Fatalf("TLS not timed: %v", res.Timings.TLS)
			}
			if during := clientGoroutines(stacks); len(during) > len(before) {
				t.Fatalf("%d goroutines of net/http's client during the exchange, %d before it:\n%s", len(during), len(before), strings.Join(during, "\n\n"))
			}
			if !strings.Contains(stacks, "probe.roundTripHTTP1") {
				t.Fatalf("no goroutine in roundTripHTTP1 while the server held its answer:\n%s", stacks)
			}
		})
	}
}

// TestProbeAsksForGzipAndReadsIt: the probe asks for gzip, as net/http's
// Transport does, and classifies the decompressed answer.
func TestProbeAsksForGzipAndReadsIt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "no gzip asked for", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		writeOpenAIReply(rec)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		zw := gzip.NewWriter(w)
		io.Copy(zw, rec.Body)
		zw.Close()
	}))
	defer srv.Close()
	res := (&Prober{}).Probe(context.Background(), openAIChat(srv.URL+"/v1"))
	if res.Outcome != OutcomeSuccess || res.CanaryOK == nil || !*res.CanaryOK || res.StatusCode != 200 {
		t.Fatalf("got %s/%s HTTP %d answer %q, want success with the canary", res.Outcome, res.Reason, res.StatusCode, res.Answer)
	}
}

// TestProbeSkipsInformationalResponses: a 103 Early Hints and a 100 before
// the answer are read past, as net/http's Transport reads past them.
func TestProbeSkipsInformationalResponses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		body := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"+
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
	}()
	res := (&Prober{}).Probe(context.Background(), openAIChat("http://"+ln.Addr().String()+"/v1"))
	if res.Outcome != OutcomeSuccess || res.StatusCode != 200 {
		t.Fatalf("got %s/%s HTTP %d (%s), want success HTTP 200", res.Outcome, res.Reason, res.StatusCode, res.Error)
	}
}

// TestProbeGoesThroughTheProxyTheEnvironmentNames: with a proxy named for
// the URL, the request reaches the provider through it.
func TestProbeGoesThroughTheProxyTheEnvironmentNames(t *testing.T) {
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeOpenAIReply(w) }))
	defer provider.Close()
	var proxied atomic.Int32
	forward := &http.Client{Transport: &http.Transport{Proxy: nil}}
	defer forward.CloseIdleConnections()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		proxied.Add(1)
		out, _ := http.NewRequest(r.Method, r.URL.String(), r.Body)
		out.Header = r.Header.Clone()
		resp, err := forward.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	p := &Prober{proxy: http.ProxyURL(proxyURL)}
	res := p.Probe(context.Background(), openAIChat(provider.URL+"/v1"))
	if res.Outcome != OutcomeSuccess || proxied.Load() != 1 {
		t.Fatalf("got %s/%s with %d proxied requests, want success through the proxy", res.Outcome, res.Reason, proxied.Load())
	}
}

// allStacks is every goroutine's stack, as runtime.Stack writes them.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// clientGoroutines are the goroutines of net/http's client in stacks: a
// Transport's dialer, or a connection's read or write loop.
func clientGoroutines(stacks string) []string {
	var out []string
	for _, g := range strings.Split(stacks, "\n\n") {
		for _, frame := range []string{"net/http.(*persistConn)", "net/http.(*Transport).dialConnFor"} {
			if strings.Contains(g, frame) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}
