package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Failure is how an exchange broke before a complete response was read, as
// the prober saw it. The classifier turns it into an outcome.
type Failure string

const (
	FailureNone               Failure = ""
	FailureDNS                Failure = "dns"
	FailureConnectRefused     Failure = "connect_refused"
	FailureConnectTimeout     Failure = "connect_timeout"
	FailureNoRoute            Failure = "no_route"
	FailureTLSHandshake       Failure = "tls_handshake"
	FailureTLSCertificate     Failure = "tls_certificate"
	FailureResetBeforeHeaders Failure = "reset_before_headers" // reset or closed after connect, before headers
	FailureTTFBTimeout        Failure = "ttfb_timeout"         // request sent, no headers in time
	FailureBodyTimeout        Failure = "body_timeout"         // headers arrived, the body did not finish in time
	FailureBodyCut            Failure = "body_cut"             // the body ended early
	FailureNoAPIKey           Failure = "no_api_key"
	FailureBudget             Failure = "budget_exhausted"
	FailureCredentials        Failure = "credentials" // the signer could not get or use the credentials
	FailureInternal           Failure = "internal"
)

// Observation is everything the prober saw of one exchange, and all the
// classifier may read. It holds no key.
type Observation struct {
	Provider    string
	API         API
	Kind        Kind
	Keyed       bool   // an API key was sent
	ReachPublic bool   // the reach path answers 200 without a key
	UsualEdge   string // the catalog's CDN, when the check talks to the real API root; else ""
	OutputLimit int    // the output token limit the request asked for (chat, stream)

	Failure Failure
	Detail  string // what went wrong in transport, for the message

	StatusCode int
	Header     http.Header
	Body       []byte // capped; for SSE 2xx responses, nil (see Stream)
	TTFB       time.Duration
	Stream     *StreamObservation // a 2xx text/event-stream response
}

// StreamObservation is what an SSE response showed.
type StreamObservation struct {
	Events   int
	Content  string
	Usage    Usage
	Complete bool      // ended with the API's terminal event
	Stalled  bool      // the probe timed out while the stream was open
	Err      *APIError // an error event after the 200
	Finish   string    // the stop reason, lower-cased (stop, length, safety, ...)
	Refused  bool      // a refusal or a prompt block
}

// Verdict is the classifier's answer: who failed and why, and what the
// response said about the path it took.
type Verdict struct {
	Outcome    Outcome
	Reason     Reason
	AuthoredBy string // edge, origin or none
	Edge       string // cloudflare, google, ..., none
	EdgePOP    string
	EdgeRay    string
	RequestID  string
	Message    string // short, human, scrubbed of keys
	Content    string // generated content, for the canary
	Usage      Usage
}

// Authors of a response.
const (
	AuthorEdge   = "edge"
	AuthorOrigin = "origin"
	AuthorNone   = "none"
)

// edgeTimeoutEvidence is how long a CDN waits on an origin before it gives
// up (Cloudflare's 522 comes after ~19 s): an unmarked 5xx from the CDN that
// took longer than this says the edge was waiting on the origin.
const edgeTimeoutEvidence = 15 * time.Second

// Classify blames the layer that failed, not whoever wrote the error page.
// Evidence is read in the order of DESIGN.md: the transport phase where the
// exchange broke, the status code, who authored the response, then latency.
// It is pure: no I/O, no clock, no key.
func Classify(o Observation) Verdict {
	v := Verdict{AuthoredBy: AuthorNone, Edge: EdgeNone}
	if o.StatusCode == 0 {
		v.Outcome, v.Reason = transportVerdict(o.Failure)
		if o.UsualEdge != "" && v.Outcome != OutcomeProbeError {
			v.Edge = o.UsualEdge // nothing came back to show the edge: name the one that normally fronts it
		}
		v.Message = transportMessage(o)
		return v
	}
	if e := seenEdge(o.Header); e != "" {
		v.Edge = e
	}
	v.EdgePOP = edgePOP(o.Header)
	v.EdgeRay = safeToken(o.Header.Get("Cf-Ray"), 32)
	v.RequestID = requestID(o.Header)
	v.AuthoredBy = AuthorOrigin

	if page, ok := readEdgePage(o.StatusCode, o.Header, o.Body); ok {
		v.AuthoredBy = AuthorEdge
		if v.Edge == EdgeNone {
			v.Edge = page.cdn
		}
		if v.EdgeRay == "" {
			v.EdgeRay = page.ray
		}
		v.Outcome, v.Reason = page.verdict()
		v.Message = fmt.Sprintf("HTTP %d: %s page: %s", o.StatusCode, page.cdn, clip(firstNonEmpty(page.title, page.form), 120))
		return v
	}
	if o.StatusCode >= 200 && o.StatusCode < 300 {
		classifySuccess(o, &v)
		return v
	}
	if e, ok := parseAPIErrorFrom(o.Header, o.Body); ok {
		if v.RequestID == "" {
			v.RequestID = safeToken(e.RequestID, 128)
		}
		v.Outcome, v.Reason = apiErrorVerdict(o, e)
		v.Message = fmt.Sprintf("HTTP %d: %s", o.StatusCode, clip(firstNonEmpty(e.Message, e.Type, e.Status, e.Code), 160))
		return v
	}
	classifyUnknownBody(o, &v)
	return v
}

// transportVerdict blames a layer for an exchange that got no response.
func transportVerdict(f Failure) (Outcome, Reason) {
	switch f {
	case FailureDNS:
		return OutcomeNetworkError, ReasonDNS
	case FailureConnectRefused:
		return OutcomeNetworkError, ReasonConnectRefused
	case FailureConnectTimeout:
		return OutcomeNetworkError, ReasonConnectTimeout
	case FailureNoRoute:
		return OutcomeNetworkError, ReasonNoRoute
	case FailureTLSHandshake:
		return OutcomeEdgeError, ReasonTLSHandshake
	case FailureTLSCertificate:
		return OutcomeEdgeError, ReasonTLSCertificate
	case FailureResetBeforeHeaders:
		return OutcomeEdgeError, ReasonConnectionReset
	case FailureTTFBTimeout:
		// TCP and TLS to the edge worked and the request went out: the edge
		// is waiting on the origin (it would give up with a 524 at 100-120 s).
		return OutcomeOriginError, ReasonTTFBTimeout
	case FailureBodyTimeout:
		return OutcomeOriginError, ReasonBodyTimeout
	case FailureBodyCut:
		return OutcomeOriginError, ReasonInvalidResponse
	case FailureNoAPIKey:
		return OutcomeProbeError, ReasonNoAPIKey
	case FailureBudget:
		return OutcomeProbeError, ReasonBudgetExhausted
	case FailureCredentials:
		return OutcomeProbeError, ReasonAuth
	}
	return OutcomeProbeError, ReasonProbeInternal
}

func transportMessage(o Observation) string {
	what := map[Failure]string{
		FailureDNS: "DNS lookup failed", FailureConnectRefused: "connection refused", FailureConnectTimeout: "connect timed out",
		FailureNoRoute: "no route to host", FailureTLSHandshake: "TLS handshake failed", FailureTLSCertificate: "untrusted TLS certificate",
		FailureResetBeforeHeaders: "connection reset before response headers", FailureTTFBTimeout: "no response headers before the timeout",
		FailureNoAPIKey: "no API key", FailureBudget: "daily probe budget spent", FailureCredentials: "credentials",
	}[o.Failure]
	if what == "" {
		what = "probe failed"
	}
	if o.Detail != "" {
		return what + ": " + clip(o.Detail, 160)
	}
	return what
}

// classifySuccess judges a 2xx: it is a success only with a body in the
// provider's schema (with generated content for chat and stream).
func classifySuccess(o Observation, v *Verdict) {
	if o.Failure == FailureBodyTimeout || o.Failure == FailureBodyCut {
		v.Outcome, v.Reason = transportVerdict(o.Failure)
		v.Message = fmt.Sprintf("HTTP %d: %s", o.StatusCode, transportMessageBody(o))
		return
	}
	if o.Stream != nil {
		classifyStream(o, v)
		return
	}
	if looksHTML(o.Header, o.Body) {
		v.AuthoredBy = AuthorEdge
		v.Outcome, v.Reason = OutcomeEdgeError, ReasonEdgeHTML
		v.Message = fmt.Sprintf("HTTP %d: an HTML page where the API answers JSON", o.StatusCode)
		return
	}
	if o.Kind == KindReach {
		if json.Valid(bytes.TrimSpace(o.Body)) && len(bytes.TrimSpace(o.Body)) > 0 {
			v.Outcome, v.Reason = OutcomeSuccess, ReasonOK
			return
		}
		v.Outcome, v.Reason = OutcomeOriginError, ReasonInvalidResponse
		v.Message = fmt.Sprintf("HTTP %d: body is not JSON", o.StatusCode)
		return
	}
	r, ok := parseReply(o.API, o.Body)
	if !ok {
		v.Outcome, v.Reason = OutcomeOriginError, ReasonInvalidResponse
		v.Message = fmt.Sprintf("HTTP %d: not a completion in the %s schema", o.StatusCode, o.API)
		return
	}
	v.Content, v.Usage = clip(r.content, 64), r.usage
	judgeContent(o, v, r, fmt.Sprintf("HTTP %d", o.StatusCode))
}

// judgeContent applies the contract to a complete 2xx reply or stream:
// success needs generated text. Without text, a refusal or safety block is
// the origin's (it answered and declined the fixed prompt); an output limit
// spent before any text is the probe's configuration (the limit is too low
// for a model that reasons first); anything else is an invalid response.
func judgeContent(o Observation, v *Verdict, r reply, what string) {
	switch r.judge() {
	case replyOK:
		v.Outcome, v.Reason, v.Message = OutcomeSuccess, ReasonOK, ""
	case replyRefused:
		v.Outcome, v.Reason = OutcomeOriginError, ReasonRefused
		v.Message = fmt.Sprintf("%s: no content: the model or its safety filter refused the probe's prompt%s", what, finishNote(r.finish))
	case replyOutputLimit:
		v.Outcome, v.Reason = OutcomeProbeError, ReasonOutputLimit
		setting := "LLMPROBE_<ID>_MAX_TOKENS"
		if o.Provider != "" {
			setting = EnvName(o.Provider, SettingMaxTokens)
		}
		limit := "the output limit"
		if o.OutputLimit > 0 {
			limit = fmt.Sprintf("the output limit of %d tokens", o.OutputLimit)
		}
		v.Message = fmt.Sprintf("%s: %s ran out before any text (the model spent it reasoning): raise %s", what, limit, setting)
	default:
		v.Outcome, v.Reason = OutcomeOriginError, ReasonInvalidResponse
		v.Message = fmt.Sprintf("%s: no generated content%s", what, finishNote(r.finish))
	}
}

func finishNote(finish string) string {
	if f := safeToken(finish, 32); f != "" {
		return " (stop reason " + f + ")"
	}
	return ""
}

func transportMessageBody(o Observation) string {
	if o.Failure == FailureBodyTimeout {
		return "body did not finish before the timeout"
	}
	return "body cut short: " + clip(o.Detail, 120)
}

func classifyStream(o Observation, v *Verdict) {
	s := o.Stream
	v.Content, v.Usage = clip(s.Content, 64), s.Usage
	switch {
	case s.Err != nil:
		sv := streamErrorVerdict(o, *s.Err)
		v.Outcome, v.Reason = sv.outcome, sv.reason
		v.Message = fmt.Sprintf("error event after %d events: %s", s.Events, clip(firstNonEmpty(s.Err.Message, s.Err.AWSType, s.Err.Type, s.Err.Code), 160))
	case s.Stalled:
		v.Outcome, v.Reason = OutcomeOriginError, ReasonStreamError
		v.Message = fmt.Sprintf("stream stalled after %d events", s.Events)
	case !s.Complete:
		v.Outcome, v.Reason = OutcomeOriginError, ReasonStreamError
		v.Message = fmt.Sprintf("stream ended after %d events without its final event", s.Events)
	default:
		judgeContent(o, v, reply{content: s.Content, finish: s.Finish, refused: s.Refused}, fmt.Sprintf("stream of %d events", s.Events))
	}
}

// streamErrorVerdict names an error event after a 200. A capacity, rate
// limit, refusal or probe-side meaning in the provider's table (overloaded,
// rate_limited, refused, quota, auth, ...) is kept, as a status would keep
// it: a capacity error is the same failure inside a stream as outside.
// Anything else is stream_error.
func streamErrorVerdict(o Observation, e APIError) verdict {
	status := 0
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n < 600 {
		status = n // OpenRouter and Gemini put the HTTP status in the event
	}
	if v, ok := lookup(errorTableFor(o.Provider, o.API), errCtx{e: e, status: status}); ok {
		switch {
		case v.reason == ReasonOverloaded || v.reason == ReasonRateLimited || v.reason == ReasonRefused || v.outcome == OutcomeProbeError:
			return v
		}
		return verdict{OutcomeOriginError, ReasonStreamError}
	}
	switch t := e.text(); {
	case status == 529 || strings.Contains(t, "overload"):
		return vOverloaded
	case status == 429:
		return vRateLimited
	}
	return verdict{OutcomeOriginError, ReasonStreamError}
}

// apiErrorVerdict blames a layer for an error in the provider's own schema:
// the origin answered, so only the origin or the probe can be at fault.
// The provider's table (errors.go) reads the structured fields first; the
// status family decides where the table has no rule.
func apiErrorVerdict(o Observation, e APIError) (Outcome, Reason) {
	s := o.StatusCode
	keylessReach := o.Kind == KindReach && !o.Keyed
	if isLocationBlock(e.text()) {
		return OutcomeProbeError, ReasonBlockedLocation
	}
	if keylessReach && (s == 401 || s == 403) {
		return OutcomeSuccess, ReasonOK // the provider's own 401/403: DNS, edge and origin all answer
	}
	c := errCtx{e: e, status: s, retryAfter: retryAfter(o.Header)}
	v, ok := lookup(errorTableFor(o.Provider, o.API), c)
	if !ok {
		v = statusVerdict(s, e)
	}
	if v == vRateLimited && c.retryAfter >= quotaRetryAfter {
		v = vQuota // a limit that lifts in hours is the account's, not a passing throttle
	}
	if keylessReach && s >= 400 && s < 500 && (v == vAuth || v == vBadRequest) {
		return OutcomeSuccess, ReasonOK // some providers answer a missing key with 400
	}
	return v.outcome, v.reason
}

// statusVerdict is the status family's meaning, for errors no table rule
// covers (custom endpoints, codes a provider added later). Capacity and
// overload codes are the origin's whatever their number.
func statusVerdict(s int, e APIError) verdict {
	t := e.text()
	capacity := strings.Contains(t, "overload") || strings.Contains(t, "capacity")
	switch {
	case s == 529 || s >= 500 && capacity:
		return vOverloaded
	case s == 504 || s == 408 || strings.Contains(t, "deadline_exceeded"):
		return vOriginTimeout
	case s >= 500:
		return vOrigin5xx
	case s == 402:
		return vQuota
	case s == 429:
		if isQuota(t) {
			return vQuota
		}
		return vRateLimited
	case strings.Contains(strings.ToLower(e.Code+" "+e.Type), "capacity") || strings.Contains(strings.ToLower(e.Code+" "+e.Type), "overloaded"):
		return vOverloaded
	case s == 401 || s == 403:
		if isQuota(t) {
			return vQuota
		}
		return vAuth
	case s == 404:
		return vModel
	case isBadKey(e):
		return vAuth
	case isQuota(t):
		return vQuota
	}
	return vBadRequest
}

func isLocationBlock(t string) bool {
	return strings.Contains(t, "unsupported_country") || strings.Contains(t, "location is not supported") ||
		strings.Contains(t, "country, region, or territory not supported") ||
		strings.Contains(t, "request not allowed") || // Anthropic's 403 to unsupported regions
		strings.Contains(t, "unsupported countries, regions, or territories") // Bedrock's AccessDeniedException for Anthropic models
}

// isQuota is the last resort of statusVerdict, for providers without a
// table: words of an exhausted balance or quota.
func isQuota(t string) bool {
	for _, w := range []string{"insufficient_quota", "exceeded your current quota", "credit balance", "insufficient balance", "insufficient_balance", "payment required", "spending limit", "usage limit"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

func isBadKey(e APIError) bool {
	t := e.text()
	return e.Reason == "API_KEY_INVALID" || strings.Contains(t, "api key not valid") || strings.Contains(t, "incorrect api key") ||
		strings.Contains(t, "invalid_api_key") || strings.Contains(t, "api key not found") || strings.Contains(t, "invalid x-api-key")
}

// classifyUnknownBody judges an error response that is neither a CDN page
// nor the provider's JSON: Envoy text, an empty body, a stray HTML page.
// Behind a CDN that did not write it, the body was relayed from the origin.
func classifyUnknownBody(o Observation, v *Verdict) {
	s := o.StatusCode
	html := looksHTML(o.Header, o.Body)
	marked := hasOriginHeaders(o.Header)
	behindCDN := v.Edge != EdgeNone
	text := strings.ToLower(string(o.Body))
	v.Message = fmt.Sprintf("HTTP %d: %s", s, clip(bodySummary(o.Body), 120))
	switch {
	case s >= 500:
		switch {
		case html && !behindCDN && !marked:
			v.AuthoredBy = AuthorEdge
			v.Outcome, v.Reason = OutcomeEdgeError, ReasonEdgeHTML
		case s == 529 || strings.Contains(text, "overload"):
			v.Outcome, v.Reason = OutcomeOriginError, ReasonOverloaded
		case behindCDN && !marked && o.TTFB >= edgeTimeoutEvidence:
			v.Outcome, v.Reason = OutcomeOriginError, ReasonOriginTimeout
		case s == 504:
			v.Outcome, v.Reason = OutcomeOriginError, ReasonOriginTimeout
		default:
			v.Outcome, v.Reason = OutcomeOriginError, ReasonOrigin5xx
		}
	case s == 429:
		if marked {
			v.Outcome, v.Reason = OutcomeOriginError, ReasonRateLimited
			return
		}
		v.AuthoredBy = AuthorEdge
		v.Outcome, v.Reason = OutcomeEdgeError, ReasonEdgeRateLimited
	case s == 401 || s == 403:
		switch {
		case html || (s == 403 && !marked):
			v.AuthoredBy = AuthorEdge
			v.Outcome, v.Reason = OutcomeEdgeError, ReasonEdgeBlocked
		case o.Kind == KindReach && !o.Keyed:
			v.Outcome, v.Reason = OutcomeSuccess, ReasonOK
		default:
			v.Outcome, v.Reason = OutcomeProbeError, ReasonAuth
		}
	case html && !marked:
		v.AuthoredBy = AuthorEdge
		v.Outcome, v.Reason = OutcomeEdgeError, ReasonEdgeHTML
	case s == 404:
		v.Outcome, v.Reason = OutcomeProbeError, ReasonModelNotFound
	default:
		v.Outcome, v.Reason = OutcomeProbeError, ReasonBadRequest
	}
	if v.Outcome == OutcomeSuccess {
		v.Message = ""
	}
}

// looksHTML reports an HTML body (by content type or by its first bytes).
func looksHTML(h http.Header, body []byte) bool {
	if strings.Contains(strings.ToLower(h.Get("Content-Type")), "text/html") {
		return true
	}
	b := bytes.ToLower(bytes.TrimSpace(body))
	return bytes.HasPrefix(b, []byte("<!doctype html")) || bytes.HasPrefix(b, []byte("<html"))
}

// bodySummary is a printable one-line hint of a body that is not JSON, never
// a whole page (edge HTML carries the client's IP).
func bodySummary(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return "empty body"
	}
	if m := reTitle.FindSubmatch(b); m != nil {
		return "page titled " + strings.TrimSpace(string(m[1]))
	}
	if b[0] == '<' {
		return "HTML body"
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// clip shortens s to at most n bytes on a rune boundary, one line, printable.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
