package providertest_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

// statuses sends n chat requests to provider and returns their statuses.
func statuses(t *testing.T, s *pt.Server, provider string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		got := do(t, s, chatRequest(t, s, provider, "test-key", false), roomy)
		if got.err != nil {
			t.Fatalf("request %d: %v", i, got.err)
		}
		out[i] = got.resp.StatusCode
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInjectNServesTheNextNRequestsOfThatProviderOnly(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	s.InjectN("openai", pt.Fault{Kind: pt.Origin500}, 2)
	if got := statuses(t, s, "anthropic", 1); !equal(got, []int{200}) {
		t.Errorf("anthropic %v, want untouched", got)
	}
	if got := statuses(t, s, "openai", 3); !equal(got, []int{500, 500, 200}) {
		t.Errorf("openai %v, want 500 500 200", got)
	}
}

func TestInjectNOfZeroDoesNothing(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	s.InjectN("openai", pt.Fault{Kind: pt.Origin500}, 0)
	if got := statuses(t, s, "openai", 1); !equal(got, []int{200}) {
		t.Errorf("%v", got)
	}
}

func TestNewestMatchingRuleWins(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	s.Inject("", pt.Fault{Kind: pt.CF500})
	s.InjectN("openai", pt.Fault{Kind: pt.Origin503}, 1)
	if got := statuses(t, s, "openai", 2); !equal(got, []int{503, 500}) {
		t.Errorf("openai %v, want its own rule first, then the edge-wide one", got)
	}
	if got := statuses(t, s, "gemini", 1); !equal(got, []int{500}) {
		t.Errorf("gemini %v, want the edge-wide rule", got)
	}
	s.Clear()
	if got := statuses(t, s, "openai", 1); !equal(got, []int{200}) {
		t.Errorf("after Clear %v", got)
	}
}

// clock is a fake Options.Now that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestInjectForFollowsTheInjectedClock(t *testing.T) {
	clk := &clock{now: time.Date(2026, 4, 20, 15, 44, 0, 0, time.UTC)}
	s := newServer(t, false, pt.Options{Now: clk.Now})
	s.InjectFor("anthropic", pt.Fault{Kind: pt.Overloaded529}, 90*time.Minute)
	if got := statuses(t, s, "anthropic", 2); !equal(got, []int{529, 529}) {
		t.Errorf("inside the window %v", got)
	}
	clk.Advance(89 * time.Minute)
	if got := statuses(t, s, "anthropic", 1); !equal(got, []int{529}) {
		t.Errorf("a minute before the end %v", got)
	}
	clk.Advance(time.Minute)
	if got := statuses(t, s, "anthropic", 1); !equal(got, []int{200}) {
		t.Errorf("at the end of the window %v, want healthy (the window is half-open)", got)
	}
	// The fake clock also shows in Cloudflare's problem JSON timestamp.
	s.Inject("", pt.Fault{Kind: pt.CF522, Format: pt.FormatJSON})
	got := do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
	if got.err != nil || !strings.Contains(got.body, `"timestamp":"2026-04-20T17:14:00Z"`) {
		t.Errorf("problem JSON %q %v", got.body, got.err)
	}
}

func TestDelayIsHonouredAndHealthyButSlowIsPossible(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	const delay = 100 * time.Millisecond
	s.InjectN("openai", pt.Fault{Delay: delay}, 1)
	s.InjectN("anthropic", pt.Fault{Kind: pt.CF522, Delay: delay}, 1)
	for provider, status := range map[string]int{"openai": 200, "anthropic": 522} {
		start := time.Now()
		got := do(t, s, chatRequest(t, s, provider, "test-key", false), roomy)
		if got.err != nil || got.resp.StatusCode != status {
			t.Fatalf("%s: %v %v", provider, got.resp, got.err)
		}
		// A lower bound only: the wait must have happened.
		if took := time.Since(start); took < delay {
			t.Errorf("%s answered after %v, want at least %v", provider, took, delay)
		}
	}
	// openai-processing-ms includes the origin's slowness.
	s.InjectN("openai", pt.Fault{Delay: delay}, 1)
	got := do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
	if ms := got.resp.Header.Get("Openai-Processing-Ms"); len(ms) < 3 {
		t.Errorf("openai-processing-ms %q, want >= 100", ms)
	}
}

func TestConcurrentInjectionAndRequestsAreSafe(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 10 {
				s.InjectN("openai", pt.Fault{Kind: pt.FaultKinds[i%25]}, 1)
				s.Requests("openai")
			}
			s.Clear()
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				req := reachRequest(t, s, "openai", "test-key")
				resp, err := s.Client().Do(req)
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	if s.Requests("") != 80 {
		t.Errorf("Requests = %d, want 80", s.Requests(""))
	}
}

func TestTLSHandshakeFailureAppliesToTheWholeEdgeAndCountsHandshakes(t *testing.T) {
	s := newServer(t, true, pt.Options{})
	// Warm a keep-alive connection first: injecting must not leave it usable.
	if got := do(t, s, reachRequest(t, s, "gemini", "test-key"), roomy); got.err != nil {
		t.Fatal(got.err)
	}
	s.InjectN("openai", pt.Fault{Kind: pt.TLSHandshakeFailure}, 2)
	failed := 0
	for range 4 {
		// A request to another provider fails too: the path is unknown
		// before the handshake.
		got := do(t, s, chatRequest(t, s, "gemini", "test-key", false), roomy)
		if got.err != nil {
			if !strings.Contains(got.err.Error(), "handshake failure") {
				t.Fatalf("error %v, want a handshake failure", got.err)
			}
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d handshakes failed, want exactly the 2 injected", failed)
	}
	if got := do(t, s, reachRequest(t, s, "gemini", "test-key"), roomy); got.err != nil {
		t.Errorf("after the injected handshakes: %v", got.err)
	}
}

func TestHandshakeFailureCanArriveLate(t *testing.T) {
	s := newServer(t, true, pt.Options{})
	const delay = 80 * time.Millisecond
	s.InjectN("", pt.Fault{Kind: pt.TLSHandshakeFailure, Delay: delay}, 1)
	start := time.Now()
	got := do(t, s, reachRequest(t, s, "openai", ""), roomy)
	if got.err == nil || time.Since(start) < delay {
		t.Errorf("err %v after %v", got.err, time.Since(start))
	}
}

func TestCloudflareHeadersAreOnReachAnswersToo(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL("anthropic")+"/v1/models", nil)
	got := do(t, s, req, roomy)
	if got.err != nil || got.resp.StatusCode != 401 || got.resp.Header.Get("Server") != "cloudflare" ||
		got.resp.Header.Get("Request-Id") == "" || got.resp.Header.Get("X-Should-Retry") != "false" {
		t.Errorf("%v %v", got.resp, got.err)
	}
}

func TestOtherClientsKeptAliveConnectionGetsOneLastAnswer(t *testing.T) {
	s := newServer(t, true, pt.Options{})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CACertPEM())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	other := &http.Client{Transport: tr}
	get := func() (*http.Response, error) {
		resp, err := other.Do(chatRequest(t, s, "openai", "test-key", false))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	if _, err := get(); err != nil {
		t.Fatal(err)
	}
	s.Inject("", pt.Fault{Kind: pt.TLSHandshakeFailure})
	resp, err := get()
	if err != nil || !resp.Close {
		t.Fatalf("on the kept-alive connection: %v %v, want a last answer with Connection: close", resp, err)
	}
	if _, err := get(); err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Errorf("on a new connection: %v, want a handshake failure", err)
	}
}

func TestAShareOfRequestsGetsTheFaultSpreadEvenly(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	s.Inject("openai", pt.Fault{Kind: pt.Origin500, Share: 0.3})
	var pattern []int
	for range 10 {
		got := do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
		if got.err != nil {
			t.Fatal(got.err)
		}
		pattern = append(pattern, got.resp.StatusCode)
	}
	want := []int{200, 200, 200, 500, 200, 200, 500, 200, 200, 500}
	for i := range want {
		if pattern[i] != want[i] {
			t.Fatalf("statuses %v, want %v: 30%% spread evenly", pattern, want)
		}
	}
}
