package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultMaxBody caps how much of a response body a probe reads.
const DefaultMaxBody = 1 << 20

// errProbeTimeout is the cause of a probe's own deadline, told apart from
// the caller cancelling (shutdown).
var errProbeTimeout = errors.New("probe timeout")

// Prober sends probes. The zero value is ready to use: system roots, 1 MiB
// body cap. A Prober is safe for concurrent use; each probe opens a fresh
// connection, so DNS, connect and TLS are measured every time. Its fields
// must not change once it has sent a probe.
type Prober struct {
	RootCAs   *x509.CertPool // trusted roots; nil means the system's
	Resolver  *net.Resolver  // name resolver; nil means the system's
	MaxBody   int64          // body cap in bytes; 0 means DefaultMaxBody
	UserAgent string         // default "llmprobe"
	Clock     Clock          // StartedAt and phase times; default RealClock

	proxy     proxyFunc                      // nil means http.ProxyFromEnvironment; tests set it
	tls       atomic.Pointer[tls.Config]     // built on first use
	h2        atomic.Pointer[http.Transport] // built on first use
	transport atomic.Pointer[http.Transport] // built on first use
}

// httpTransport is the transport of the probes that go through a proxy.
// It keeps no connection: keep-alives are off (for HTTP/2 too: each
// connection carries one request), so every probe dials, and its TLS
// config has no session cache, so every handshake is a full one.
func (p *Prober) httpTransport(proxy proxyFunc) *http.Transport {
	return lazy(&p.transport, func() *http.Transport {
		return &http.Transport{
			Proxy:                  proxy,
			DialContext:            (&net.Dialer{Resolver: p.Resolver}).DialContext,
			TLSClientConfig:        p.tlsConfig(),
			DisableKeepAlives:      true, // a fresh connection per probe: every phase measured every time
			ForceAttemptHTTP2:      true,
			MaxResponseHeaderBytes: maxResponseHeaderBytes,
		}
	})
}

// Probe runs one check and says what happened and why. It never returns an
// error: every failure is a Result with an outcome. The caller's ctx ends the
// probe early (Result.Canceled); the check's Timeout bounds it otherwise.
func (p *Prober) Probe(ctx context.Context, c Check) Result {
	now := time.Now
	if p.Clock != nil {
		now = p.Clock.Now
	}
	start := now()
	res := Result{Provider: c.Provider.ID, Check: c.Kind, Model: c.Model, Region: c.Region, StartedAt: start.UTC()}
	obs := Observation{Provider: c.Provider.ID, API: WireAPI(c.Provider.API, c.Model), Kind: c.Kind, Keyed: c.Keyed(),
		ReachPublic: c.Provider.ReachPublic, OutputLimit: c.OutputLimit()}
	if c.usesDefaultBaseURL() {
		obs.UsualEdge = c.Provider.Edge
	}
	var tr phaseTrace
	tr.now, tr.start = now, start
	var secrets []Secret // what the signer used, scrubbed from everything reported
	switch {
	case c.Kind != KindReach && !c.Keyed():
		obs.Failure = FailureNoAPIKey
		obs.Detail = noCredentialsHint(c.Provider)
	default:
		if err := c.Validate(); err != nil {
			obs.Failure, obs.Detail = FailureInternal, err.Error()
			break
		}
		secrets = p.exchange(ctx, c, &obs, &res, &tr)
	}
	end := now()
	// Everything the network sent loses the secrets before the classifier
	// parses, cuts or joins any of it; what it keeps loses them again,
	// with anything key-shaped (a key echoed in an escaped form).
	sc := newScrubber(append(secrets, c.APIKey))
	sc.observation(&obs)
	v := Classify(obs)
	res.Outcome, res.Reason = v.Outcome, v.Reason
	res.StatusCode = obs.StatusCode
	res.Edge, res.AuthoredBy = v.Edge, v.AuthoredBy
	res.EdgePOP, res.EdgeRay, res.RequestID = sc.id(v.EdgePOP), sc.id(v.EdgeRay), sc.id(v.RequestID)
	res.Error = sc.text(v.Message)
	res.Tokens = v.Usage
	if c.Kind != KindReach && v.Outcome == OutcomeSuccess {
		res.Answer = sc.text(v.Content)
		ok := strings.Contains(strings.ToLower(v.Content), Canary)
		res.CanaryOK = &ok
	}
	res.Timings = tr.timings(start, end)
	res.Phases = tr.spans()
	if res.OriginProcessing > 0 && res.Timings.TTFB > res.OriginProcessing {
		res.EdgeOverhead = res.Timings.TTFB - res.OriginProcessing
	}
	return res
}

// noCredentialsHint names what to set for a chat or stream check without
// credentials.
func noCredentialsHint(p Provider) string {
	switch p.Credentials {
	case CredentialsAWS:
		return "no AWS credentials in the default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the shared files)"
	case CredentialsGoogle:
		return "no Google Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud auth application-default login)"
	}
	return "set " + p.KeyEnv
}

// exchange performs the HTTP exchange and fills obs with what it saw. It
// returns the secrets the signer put on the request.
func (p *Prober) exchange(parent context.Context, c Check, obs *Observation, res *Result, tr *phaseTrace) (secrets []Secret) {
	out, err := buildRequest(c)
	if err != nil {
		obs.Failure, obs.Detail = FailureInternal, err.Error()
		return nil
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(parent, timeout, errProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, tr.clientTrace()), out.method, out.url, bytes.NewReader(out.body))
	if err != nil {
		obs.Failure, obs.Detail = FailureInternal, "build request: "+ErrorText(err)
		return nil
	}
	req.Header = out.header
	ua := p.UserAgent
	if ua == "" {
		ua = "llmprobe"
	}
	req.Header.Set("User-Agent", ua)
	if c.Signer != nil && c.Kind != KindReach {
		// Signing may fetch or refresh credentials (STS, a token endpoint):
		// it runs inside the probe's deadline, before the clock of the
		// exchange phases starts.
		secrets, err = sign(ctx, c.Signer, req, out.body)
		if err != nil {
			res.Canceled = parent.Err() != nil
			obs.Failure, obs.Detail = FailureCredentials, Scrub(ErrorText(err), secrets...)
			return secrets
		}
	}
	resp, err := p.roundTrip(ctx, req, tr)
	if err != nil {
		if parent.Err() != nil {
			res.Canceled = true
		}
		obs.Failure = transportFailure(err, context.Cause(ctx) == errProbeTimeout, tr.snapshot())
		obs.Detail = transportDetail(err)
		return secrets
	}
	defer resp.Body.Close()
	// No response outlives the probe: when the deadline passes, the body is
	// closed under whatever reads it. The transport does that for ordinary
	// bodies; a 101's body is the bare connection, which nothing else ends.
	defer context.AfterFunc(ctx, func() { resp.Body.Close() })()
	obs.StatusCode = resp.StatusCode
	obs.Header = resp.Header
	if resp.StatusCode < 200 {
		// Only 101 Switching Protocols reaches here (the transport reads
		// past other 1xx): the probe asked for no protocol switch.
		obs.Failure = FailureBadResponse
		obs.Detail = "a 101 Switching Protocols the probe did not ask for"
		return secrets
	}
	readHeaderFacts(resp.Header, res, tr.start)
	max := p.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	ct := strings.ToLower(resp.Header.Get("Content-Type"))
	stream := c.Kind == KindStream && resp.StatusCode/100 == 2 && (strings.Contains(ct, "text/event-stream") || strings.Contains(ct, awsEventStream))
	if stream {
		obs.Stream = readStream(resp.Body, obs.API, int(max), tr)
		obs.Stream.Stalled = obs.Stream.Stalled && context.Cause(ctx) == errProbeTimeout
	} else {
		body, err := io.ReadAll(io.LimitReader(resp.Body, max))
		obs.Body = body
		if err != nil {
			if context.Cause(ctx) == errProbeTimeout {
				obs.Failure = FailureBodyTimeout
			} else {
				obs.Failure = FailureBodyCut
			}
			obs.Detail = ErrorText(err)
		}
		tr.bodyDone()
	}
	obs.TTFB = tr.snapshot().ttfb()
	if parent.Err() != nil {
		res.Canceled = true
	}
	return secrets
}

// awsEventStream is the content type of Bedrock's ConverseStream.
const awsEventStream = "application/vnd.amazon.eventstream"

// readStream reads SSE events until the API's terminal event, an error
// event, the end of the body or the deadline, noting the first content token.
func readStream(body io.Reader, api API, max int, tr *phaseTrace) *StreamObservation {
	var sr eventSource = newSSEReader(io.LimitReader(body, int64(max)), max)
	if api == APIBedrock {
		sr = newAWSEventReader(io.LimitReader(body, int64(max)))
	}
	var st streamState
	so := &StreamObservation{}
	cleanEOF := false
	for {
		ev, err := sr.next()
		if err != nil {
			cleanEOF = errors.Is(err, io.EOF)
			so.Stalled = !cleanEOF // the caller tells a deadline from a cut
			break
		}
		had := st.content.Len() > 0
		st.feed(api, ev)
		if !had && st.content.Len() > 0 {
			tr.firstToken()
		}
		if st.done || st.err != nil {
			break
		}
	}
	tr.bodyDone()
	so.Events, so.Content, so.Usage, so.Err = st.events, st.content.String(), st.usage, st.err
	so.Finish, so.Refused = st.finish, st.refused
	so.Complete = st.complete(api, cleanEOF)
	return so
}

// readHeaderFacts copies what the response headers tell beyond the verdict:
// origin processing time, retry-after and rate-limit headroom.
func readHeaderFacts(h http.Header, res *Result, start time.Time) {
	if v, err := strconv.ParseFloat(h.Get("Openai-Processing-Ms"), 64); err == nil && v >= 0 && v < 1e7 {
		res.OriginProcessing = time.Duration(v * float64(time.Millisecond))
	}
	if ra := h.Get("Retry-After"); ra != "" {
		if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 && secs < 86400 {
			res.RetryAfter = time.Duration(secs * float64(time.Second))
		} else if t, err := http.ParseTime(ra); err == nil && t.After(start) {
			res.RetryAfter = t.Sub(start)
		}
	}
	res.RateLimit.Requests = firstNumber(h, "X-Ratelimit-Remaining-Requests", "Anthropic-Ratelimit-Requests-Remaining", "X-Ratelimit-Remaining-Req-Minute")
	res.RateLimit.Tokens = firstNumber(h, "X-Ratelimit-Remaining-Tokens", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Remaining", "X-Ratelimit-Remaining-Tokens-Minute")
}

func firstNumber(h http.Header, keys ...string) *float64 {
	for _, k := range keys {
		if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get(k)), 64); err == nil && v >= 0 {
			return &v
		}
	}
	return nil
}

// transportFailure names the phase where an exchange without a response
// broke. timedOut is true when the probe's own deadline fired.
func transportFailure(err error, timedOut bool, s phaseSnapshot) Failure {
	if f := localOrBadResponse(err); f != FailureNone {
		return f
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	inTLS := !s.tlsStart.IsZero() && s.tlsDone.IsZero()
	switch {
	case errors.As(err, &dnsErr) || (!s.dnsStart.IsZero() && s.dnsDone.IsZero() && timedOut):
		return FailureDNS
	case errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidCert):
		return FailureTLSCertificate
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailureConnectRefused
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return FailureNoRoute
	case s.connectDone.IsZero():
		if timedOut || isTimeout(err) {
			return FailureConnectTimeout
		}
		return FailureConnectRefused
	case errors.As(err, &alert) || errors.As(err, &recordErr) || inTLS:
		return FailureTLSHandshake
	case timedOut || isTimeout(err):
		return FailureTTFBTimeout
	}
	return FailureResetBeforeHeaders
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// ErrorText is an exchange error as the probe reports it: the cause without
// the "Get \"URL\": " wrapper of a url.Error (URLs never carry keys here,
// but they are long and add nothing).
func ErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// phaseTrace records httptrace hook times. Hooks may run on other
// goroutines (the transport dials in the background), so a mutex guards it.
type phaseTrace struct {
	now func() time.Time
	mu  sync.Mutex
	phaseSnapshot
}

type phaseSnapshot struct {
	start                      time.Time
	dnsStart, dnsDone          time.Time
	connectStart, connectDone  time.Time
	tlsStart, tlsDone          time.Time
	wroteHeaders               time.Time
	wroteRequest, firstByte    time.Time
	firstTokenAt, bodyFinished time.Time
}

func (t *phaseTrace) mark(f func(*phaseSnapshot, time.Time)) {
	n := t.now()
	t.mu.Lock()
	f(&t.phaseSnapshot, n)
	t.mu.Unlock()
}

func (t *phaseTrace) snapshot() phaseSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.phaseSnapshot
}

func (t *phaseTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { t.mark(func(s *phaseSnapshot, n time.Time) { s.dnsStart = n }) },
		DNSDone:  func(httptrace.DNSDoneInfo) { t.mark(func(s *phaseSnapshot, n time.Time) { s.dnsDone = n }) },
		ConnectStart: func(string, string) {
			t.mark(func(s *phaseSnapshot, n time.Time) {
				if s.connectDone.IsZero() {
					s.connectStart = n
				}
			})
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.mark(func(s *phaseSnapshot, n time.Time) {
					if s.connectDone.IsZero() {
						s.connectDone = n
					}
				})
			}
		},
		TLSHandshakeStart: func() { t.mark(func(s *phaseSnapshot, n time.Time) { s.tlsStart = n }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err == nil {
				t.mark(func(s *phaseSnapshot, n time.Time) { s.tlsDone = n })
			}
		},
		WroteHeaders:         func() { t.mark(func(s *phaseSnapshot, n time.Time) { s.wroteHeaders = n }) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { t.mark(func(s *phaseSnapshot, n time.Time) { s.wroteRequest = n }) },
		GotFirstResponseByte: func() { t.mark(func(s *phaseSnapshot, n time.Time) { s.firstByte = n }) },
	}
}

func (t *phaseTrace) firstToken() { t.mark(func(s *phaseSnapshot, n time.Time) { s.firstTokenAt = n }) }
func (t *phaseTrace) bodyDone()   { t.mark(func(s *phaseSnapshot, n time.Time) { s.bodyFinished = n }) }

func (s phaseSnapshot) ttfb() time.Duration { return between(s.sent(), s.firstByte) }

// sent is when the request was written, which TTFB and TTFT run from: the
// end of its body, as WroteRequest reports it. Over HTTP/2, net/http's
// client writes on one goroutine and reads on another, and which of the
// two reports first is a race when the server answers as the request's
// last byte leaves (or before it, not waiting for the body): a first byte
// timed before the request would make TTFB 0. The headers, written and
// reported before the body is sent, are the start then.
func (s phaseSnapshot) sent() time.Time {
	if !s.firstByte.IsZero() && s.firstByte.Before(s.wroteRequest) && !s.wroteHeaders.IsZero() && !s.firstByte.Before(s.wroteHeaders) {
		return s.wroteHeaders
	}
	return s.wroteRequest
}

// timings turns the hook times into phase durations; a phase that did not
// complete is 0.
func (t *phaseTrace) timings(start, end time.Time) Timings {
	s := t.snapshot()
	return Timings{
		DNS:      between(s.dnsStart, s.dnsDone),
		Connect:  between(s.connectStart, s.connectDone),
		TLS:      between(s.tlsStart, s.tlsDone),
		TTFB:     s.ttfb(),
		TTFT:     between(s.sent(), s.firstTokenAt),
		Transfer: between(s.firstByte, s.bodyFinished),
		Total:    end.Sub(start),
	}
}

func between(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// PhaseSpan is one phase with its wall-clock bounds, for traces.
type PhaseSpan struct {
	Name       string
	Start, End time.Time
}

// spans lists the phases that completed, in exchange order.
func (t *phaseTrace) spans() []PhaseSpan {
	s := t.snapshot()
	var out []PhaseSpan
	add := func(name string, a, b time.Time) {
		if !a.IsZero() && !b.IsZero() && !b.Before(a) {
			out = append(out, PhaseSpan{name, a, b})
		}
	}
	add(PhaseDNS, s.dnsStart, s.dnsDone)
	add(PhaseConnect, s.connectStart, s.connectDone)
	add(PhaseTLS, s.tlsStart, s.tlsDone)
	add(PhaseTTFB, s.sent(), s.firstByte)
	add(PhaseTTFT, s.sent(), s.firstTokenAt)
	add(PhaseTransfer, s.firstByte, s.bodyFinished)
	return out
}
