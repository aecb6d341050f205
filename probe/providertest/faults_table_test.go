package providertest_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"syscall"
	"testing"

	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

// outcome of one faulted non-streaming chat request, as a prober sees it.
type want struct {
	noResponse bool           // no HTTP response (transport fault)
	bodyBreaks bool           // headers arrive, the body does not complete
	status     int            // expected status when the provider is not in statusBy
	statusBy   map[string]int // per-provider statuses
	ctype      string         // Content-Type prefix
	origin     bool           // origin markers present (else absent)
	contains   string         // body substring
}

func (w want) statusFor(provider string) int {
	if s, ok := w.statusBy[provider]; ok {
		return s
	}
	return w.status
}

// wants says what every fault kind looks like with no Accept header (so
// Cloudflare pages are HTML) on a Cloudflare edge.
var wants = map[pt.FaultKind]want{
	pt.CF500:                  {status: 500, ctype: "text/html", contains: "500: Internal server error"},
	pt.CF502Branded:           {status: 502, ctype: "text/html", contains: "502: Bad gateway"},
	pt.CF503Branded:           {status: 503, ctype: "text/html", contains: "503: Service unavailable"},
	pt.CF504Branded:           {status: 504, ctype: "text/html", contains: "504: Gateway time-out"},
	pt.CF502Unbranded:         {status: 502, ctype: "text/html", contains: "<hr><center>cloudflare</center>"},
	pt.CF504Unbranded:         {status: 504, ctype: "text/html", contains: "<hr><center>cloudflare</center>"},
	pt.CF520:                  {status: 520, ctype: "text/html", contains: "Error code 520"},
	pt.CF521:                  {status: 521, ctype: "text/html", contains: "Error code 521"},
	pt.CF522:                  {status: 522, ctype: "text/html", contains: "Error code 522"},
	pt.CF523:                  {status: 523, ctype: "text/html", contains: "Error code 523"},
	pt.CF524:                  {status: 524, ctype: "text/html", contains: "Error code 524"},
	pt.CF525:                  {status: 525, ctype: "text/html", contains: "525: SSL handshake failed"},
	pt.CF526:                  {status: 526, ctype: "text/html", contains: "526: Invalid SSL certificate"},
	pt.CF527:                  {status: 527, ctype: "text/html", contains: "Error code 527"},
	pt.CF530:                  {status: 530, ctype: "text/html", contains: `<span class="cf-error-code">1016</span>`},
	pt.CF1015:                 {status: 429, ctype: "text/html", contains: "You are being rate limited"},
	pt.CF1020:                 {status: 403, ctype: "text/html", contains: `<span class="cf-error-code">1020</span>`},
	pt.CFChallenge:            {status: 403, ctype: "text/html", contains: "/cdn-cgi/challenge-platform/"},
	pt.OpenAICFBadGateway:     {status: 502, ctype: "application/json", contains: `"type":"cf_bad_gateway"`},
	pt.OpenAICFGatewayTimeout: {status: 524, ctype: "application/json", contains: `"code":524`},
	pt.GFE500:                 {status: 500, ctype: "text/html", contains: "<b>500.</b> <ins>That’s an error.</ins>"},
	pt.GFE502:                 {status: 502, ctype: "text/html", contains: "Error 502 (Server Error)!!1"},
	pt.GFE503:                 {status: 503, ctype: "text/html", contains: "<b>503.</b>"},
	pt.GFE504:                 {status: 504, ctype: "text/html", contains: "<b>504.</b>"},
	pt.HTML200:                {status: 200, ctype: "text/html", contains: "<title>Sign in"},
	pt.Origin500:              {status: 500, origin: true, ctype: "application/json"},
	pt.Origin503:              {status: 503, origin: true, ctype: "application/json"},
	pt.Overloaded529: {status: 503, statusBy: map[string]int{"anthropic": 529}, origin: true, ctype: "application/json",
		contains: "overloaded"},
	pt.Envoy503:         {status: 503, ctype: "text/plain", contains: "upstream connect error or disconnect/reset before headers"},
	pt.RateLimit429:     {status: 429, origin: true, ctype: "application/json"},
	pt.Quota429:         {status: 429, statusBy: map[string]int{"anthropic": 400}, origin: true, ctype: "application/json"},
	pt.Auth401:          {status: 401, statusBy: map[string]int{"gemini": 400}, origin: true, ctype: "application/json"},
	pt.BadRequest400:    {status: 400, origin: true, ctype: "application/json"},
	pt.ModelNotFound404: {status: 404, origin: true, ctype: "application/json"},
	pt.Region403:        {status: 403, statusBy: map[string]int{"gemini": 400}, origin: true, ctype: "application/json"},
	pt.Invalid200:       {status: 200, origin: true, ctype: "application/json"},
	// Over plain HTTP there is no handshake to fail: the answer is healthy.
	pt.TLSHandshakeFailure: {noResponse: true},
	pt.ResetBeforeHeaders:  {noResponse: true},
	pt.CloseBeforeHeaders:  {noResponse: true},
	pt.StallBeforeHeaders:  {noResponse: true},
	pt.StallMidStream:      {status: 200, origin: true, ctype: "application/json", bodyBreaks: true},
	pt.ErrorEventMidStream: {status: 503, statusBy: map[string]int{"anthropic": 529}, origin: true, ctype: "application/json"},
	pt.CutMidStream:        {status: 200, origin: true, ctype: "application/json", bodyBreaks: true},
}

var rayRE = regexp.MustCompile(`^[0-9a-f]{16}-FRA$`)

func TestEveryFaultKindOverHTTPAndHTTPSForEveryProvider(t *testing.T) {
	if len(wants) != len(pt.FaultKinds) {
		t.Fatalf("the table covers %d kinds, FaultKinds has %d", len(wants), len(pt.FaultKinds))
	}
	for _, kind := range pt.FaultKinds {
		w, ok := wants[kind]
		if !ok {
			t.Fatalf("no expectation for %s", kind)
		}
		for _, sc := range schemes {
			for _, provider := range providers {
				t.Run(kind.String()+" "+sc.name+" to "+provider, func(t *testing.T) {
					t.Parallel()
					checkFault(t, kind, w, sc.tls, provider)
				})
			}
		}
	}
}

func checkFault(t *testing.T, kind pt.FaultKind, w want, useTLS bool, provider string) {
	s := newServer(t, useTLS, pt.Options{})
	s.Inject(provider, pt.Fault{Kind: kind})
	timeout := roomy
	if kind == pt.StallBeforeHeaders || kind == pt.StallMidStream {
		timeout = stallTimeout
	}
	if kind == pt.TLSHandshakeFailure {
		// The rule must name "" or any provider: the listener cannot see paths.
		if !useTLS {
			w = want{status: 200, origin: true, ctype: "application/json", contains: "pong"}
		}
	}
	got := do(t, s, chatRequest(t, s, provider, "test-key", false), timeout)

	if w.noResponse {
		if got.err == nil {
			t.Fatalf("got status %d, want no response", got.resp.StatusCode)
		}
		checkTransportError(t, kind, got.err)
		return
	}
	if got.resp == nil {
		t.Fatalf("no response: %v", got.err)
	}
	if st := w.statusFor(provider); got.resp.StatusCode != st {
		t.Errorf("status %d, want %d; body %.200s", got.resp.StatusCode, st, got.body)
	}
	if ct := got.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, w.ctype) {
		t.Errorf("content-type %q, want prefix %q", ct, w.ctype)
	}
	if w.bodyBreaks {
		if got.err == nil {
			t.Errorf("body completed (%d bytes), want it to break", len(got.body))
		}
		if kind == pt.CutMidStream && !errors.Is(got.err, io.ErrUnexpectedEOF) {
			t.Errorf("body error %v, want unexpected EOF", got.err)
		}
		if kind == pt.StallMidStream && !errors.Is(got.err, context.DeadlineExceeded) {
			t.Errorf("body error %v, want the client's deadline", got.err)
		}
	} else if got.err != nil {
		t.Errorf("read body: %v", got.err)
	}
	if !strings.Contains(got.body, w.contains) {
		t.Errorf("body does not contain %q: %.300s", w.contains, got.body)
	}
	// Cloudflare carries every response, whoever wrote it.
	if got.resp.Header.Get("Server") != "cloudflare" || !rayRE.MatchString(got.resp.Header.Get("Cf-Ray")) {
		t.Errorf("server %q cf-ray %q, want cloudflare and <16 hex>-FRA", got.resp.Header.Get("Server"), got.resp.Header.Get("Cf-Ray"))
	}
	if has := got.resp.Header.Get(originMarker(provider)) != ""; has != w.origin {
		t.Errorf("origin marker %s present=%v, want %v", originMarker(provider), has, w.origin)
	}
	if !w.origin && (got.resp.Header.Get("X-Request-Id") != "" || got.resp.Header.Get("Request-Id") != "") {
		t.Errorf("an edge-written response carries a request id: %v", got.resp.Header)
	}
}

func checkTransportError(t *testing.T, kind pt.FaultKind, err error) {
	t.Helper()
	switch kind {
	case pt.TLSHandshakeFailure:
		if !strings.Contains(err.Error(), "handshake failure") {
			t.Errorf("error %v, want a TLS handshake failure alert", err)
		}
	case pt.ResetBeforeHeaders:
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("error %v, want ECONNRESET", err)
		}
	case pt.CloseBeforeHeaders:
		if !errors.Is(err, io.EOF) {
			t.Errorf("error %v, want EOF", err)
		}
	case pt.StallBeforeHeaders:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the client's deadline", err)
		}
	}
}
