package providertest

import (
	"fmt"
	"strings"
	"time"
)

// FaultKind names one way the fake edge or origin can misbehave. The string
// values are snake_case and stable: the demo command, the compose stack and
// test tables refer to them by name.
type FaultKind string

// Healthy is the zero FaultKind: the request is answered normally (after
// Fault.Delay, if any).
const Healthy FaultKind = ""

// Cloudflare-generated pages. They carry Cloudflare's headers (server,
// cf-ray, expires 1970, no-store) and no origin header, whatever Options.Edge
// says: Cloudflare wrote them.
const (
	CF500          FaultKind = "cf_500"           // 500, Cloudflare's own failure (Cloudflare box in Error)
	CF502Branded   FaultKind = "cf_502_branded"   // 502, branded page, Host box in Error
	CF503Branded   FaultKind = "cf_503_branded"   // 503, branded page, Host box in Error; always HTML
	CF504Branded   FaultKind = "cf_504_branded"   // 504, branded page, Host box in Error
	CF502Unbranded FaultKind = "cf_502_unbranded" // 502, nginx-style page ending in "cloudflare"; always HTML
	CF504Unbranded FaultKind = "cf_504_unbranded" // 504, nginx-style page ending in "cloudflare"; always HTML
	CF520          FaultKind = "cf_520"           // 520, origin returned an unknown/empty response
	CF521          FaultKind = "cf_521"           // 521, origin refused the connection
	CF522          FaultKind = "cf_522"           // 522, origin connect timed out (pair with Delay)
	CF523          FaultKind = "cf_523"           // 523, origin unreachable
	CF524          FaultKind = "cf_524"           // 524, origin read timeout (pair with Delay)
	CF525          FaultKind = "cf_525"           // 525, TLS handshake to origin failed
	CF526          FaultKind = "cf_526"           // 526, origin certificate invalid
	CF527          FaultKind = "cf_527"           // 527, Railgun error; always HTML
	CF530          FaultKind = "cf_530"           // 530 carrying 1016 Origin DNS error
	CF1015         FaultKind = "cf_1015"          // 429, rate limited by a Cloudflare rule
	CF1020         FaultKind = "cf_1020"          // 403, blocked by a firewall rule
	CFChallenge    FaultKind = "cf_challenge"     // 403, cf-mitigated: challenge, "Just a moment..."; always HTML

	// OpenAI's own Cloudflare custom error rules: OpenAI's JSON envelope
	// with a cf_* type and an integer code, and no origin header.
	OpenAICFBadGateway     FaultKind = "openai_cf_bad_gateway"     // 502 {"type":"cf_bad_gateway"}
	OpenAICFGatewayTimeout FaultKind = "openai_cf_gateway_timeout" // 524 {"type":"cf_gateway_timeout"}
)

// Google Front End pages: the generic "That’s an error." HTML, no
// "scaffolding on HTTPServer2" server header.
const (
	GFE500 FaultKind = "gfe_500"
	GFE502 FaultKind = "gfe_502"
	GFE503 FaultKind = "gfe_503"
	GFE504 FaultKind = "gfe_504"
)

// HTML200 is a 200 text/html page where the API answers JSON: a captive
// portal or login page on the path.
const HTML200 FaultKind = "html_200"

// Origin errors: written by the addressed provider in its own schema, with
// its origin headers (request ids, rate-limit headers).
const (
	Origin500        FaultKind = "origin_500"
	Origin503        FaultKind = "origin_503"
	Overloaded529    FaultKind = "overloaded_529"
	Envoy503         FaultKind = "envoy_503" // the provider's service mesh: text/plain, no origin header
	RateLimit429     FaultKind = "rate_limit_429"
	Quota429         FaultKind = "quota_429"
	Auth401          FaultKind = "auth_401"
	BadRequest400    FaultKind = "bad_request_400"
	ModelNotFound404 FaultKind = "model_not_found_404"
	Region403        FaultKind = "region_403"
	Invalid200       FaultKind = "invalid_200"
)

// Transport and stream faults.
const (
	TLSHandshakeFailure FaultKind = "tls_handshake_failure" // TLS servers only; applies to the whole edge
	ResetBeforeHeaders  FaultKind = "reset_before_headers"
	CloseBeforeHeaders  FaultKind = "close_before_headers"
	StallBeforeHeaders  FaultKind = "stall_before_headers"
	StallMidStream      FaultKind = "stall_mid_stream"
	ErrorEventMidStream FaultKind = "error_event_mid_stream"
	CutMidStream        FaultKind = "cut_mid_stream"
)

// faultInfo describes one kind for FaultKinds, String and Description.
type faultInfo struct {
	kind FaultKind
	desc string
}

// faultTable is the one list of kinds, in the order FaultKinds returns.
var faultTable = []faultInfo{
	{CF500, "500 Cloudflare internal error page (Cloudflare box Error; problem JSON error_category cloudflare)"},
	{CF502Branded, "502 Cloudflare branded page, Host box Error: the origin answered 502"},
	{CF503Branded, "503 Cloudflare branded page, Host box Error; always HTML"},
	{CF504Branded, "504 Cloudflare branded page, Host box Error: the origin answered 504"},
	{CF502Unbranded, "502 nginx-style page ending in <center>cloudflare</center>: Cloudflare's own failure; always HTML"},
	{CF504Unbranded, "504 nginx-style page ending in <center>cloudflare</center>: Cloudflare's own failure; always HTML"},
	{CF520, "520 web server is returning an unknown error (category origin)"},
	{CF521, "521 web server is down (category origin)"},
	{CF522, "522 connection timed out (category origin; add Delay for the ~19 s real timing)"},
	{CF523, "523 origin is unreachable (category origin)"},
	{CF524, "524 a timeout occurred (category origin; add Delay for the 100-120 s real timing)"},
	{CF525, "525 SSL handshake failed (category ssl, not retryable)"},
	{CF526, "526 invalid SSL certificate (category ssl, not retryable)"},
	{CF527, "527 Railgun error; always HTML"},
	{CF530, "530 with error 1016 Origin DNS error (problem JSON error_code 1016, category origin)"},
	{CF1015, "429 Cloudflare 1015 rate limited, Retry-After 30 (category rate_limit)"},
	{CF1020, "403 Cloudflare 1020 access denied (category access_denied)"},
	{CFChallenge, "403 cf-mitigated: challenge, \"Just a moment...\"; always HTML"},
	{OpenAICFBadGateway, "502 OpenAI edge JSON type cf_bad_gateway, integer code, no origin header"},
	{OpenAICFGatewayTimeout, "524 OpenAI edge JSON type cf_gateway_timeout, integer code, no origin header"},
	{GFE500, "500 Google Front End \"That’s an error.\" HTML"},
	{GFE502, "502 Google Front End \"That’s an error.\" HTML"},
	{GFE503, "503 Google Front End \"That’s an error.\" HTML"},
	{GFE504, "504 Google Front End \"That’s an error.\" HTML"},
	{HTML200, "200 text/html login page where the API answers JSON"},
	{Origin500, "500 provider JSON internal error (OpenAI server_error, Anthropic api_error, Gemini INTERNAL)"},
	{Origin503, "503 provider JSON unavailable/overloaded"},
	{Overloaded529, "529 Anthropic overloaded_error (x-should-retry: true); 503 overloaded for the others"},
	{Envoy503, "503 text/plain Envoy \"upstream connect error ... reset reason: overflow\", no origin header"},
	{RateLimit429, "429 provider rate limit with retry-after and zero remaining headroom"},
	{Quota429, "429 quota or billing exhausted (Anthropic: 400 credit balance too low)"},
	{Auth401, "401 as if the key were wrong (Gemini: 400 API_KEY_INVALID)"},
	{BadRequest400, "400 provider invalid request error"},
	{ModelNotFound404, "404 model not found in the provider's schema"},
	{Region403, "403 location not supported (Gemini: 400 FAILED_PRECONDITION)"},
	{Invalid200, "200 JSON that is not the provider's schema (no generated content)"},
	{TLSHandshakeFailure, "TLS servers: read the ClientHello, answer a fatal handshake_failure alert, close; the whole edge"},
	{ResetBeforeHeaders, "read the request, then reset the connection (RST): ECONNRESET"},
	{CloseBeforeHeaders, "read the request, then close the connection cleanly: EOF before headers"},
	{StallBeforeHeaders, "read the request, send nothing until the client goes away or Close"},
	{StallMidStream, "200 headers and the first event (or part of the body), then nothing"},
	{ErrorEventMidStream, "200 stream, first events, then the provider's error event"},
	{CutMidStream, "200 stream, first events, then the connection is cut without the final event"},
}

// FaultKinds lists every fault kind (Healthy excluded) in a stable order,
// for table tests and the demo. Callers must not modify it.
var FaultKinds = func() []FaultKind {
	out := make([]FaultKind, len(faultTable))
	for i, fi := range faultTable {
		out[i] = fi.kind
	}
	return out
}()

// String returns the kind's snake_case name, "healthy" for Healthy.
func (f FaultKind) String() string {
	if f == Healthy {
		return "healthy"
	}
	return string(f)
}

// Description says in one line what the kind serves; "" for unknown kinds.
func (f FaultKind) Description() string {
	if f == Healthy {
		return "the normal answer, after Fault.Delay if any"
	}
	for _, fi := range faultTable {
		if fi.kind == f {
			return fi.desc
		}
	}
	return ""
}

// Valid reports whether f is Healthy or one of FaultKinds.
func (f FaultKind) Valid() bool {
	return f == Healthy || f.Description() != ""
}

// ParseFault turns a name (as String returns it, case-insensitive) into a
// FaultKind. "", "healthy" and "none" mean Healthy.
func ParseFault(s string) (FaultKind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "healthy", "none":
		return Healthy, nil
	}
	if k := FaultKind(s); k.Valid() {
		return k, nil
	}
	return Healthy, fmt.Errorf("providertest: unknown fault kind %q", s)
}

// Format chooses the body of a Cloudflare-generated page.
type Format string

const (
	// FormatAuto (the zero value too) does what Cloudflare does: RFC 9457
	// problem JSON when the request's Accept names application/json or
	// application/problem+json and the code is one Cloudflare serves
	// structured (500, 502, 504, 520-526, 1xxx), else HTML.
	FormatAuto Format = "auto"
	FormatHTML Format = "html" // always the HTML page
	FormatJSON Format = "json" // problem JSON for every code that has one; HTML-only kinds stay HTML
)

// ParseFormat turns "", "auto", "html" or "json" into a Format.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatHTML, FormatJSON:
		return f, nil
	}
	return FormatAuto, fmt.Errorf("providertest: unknown format %q", s)
}

// Fault is what Inject applies to matching requests.
type Fault struct {
	Kind FaultKind
	// Delay is an extra wait before the response headers: a slow TTFB, a
	// 522 that arrives late. With Kind Healthy it makes a healthy but slow
	// answer. The wait ends early when the client goes away or the server
	// closes.
	Delay time.Duration
	// Format applies to Cloudflare-generated pages only; see Format.
	Format Format
	// Scope narrows the fault to inference or to model listing; the zero
	// value applies it to every request.
	Scope Scope
	// Share, between 0 and 1, is the fraction of the matching requests that
	// get the fault, spread evenly (the k-th gets it when share*k passes a
	// whole number): an intermittent failure. 0 means every request.
	Share float64
}

// String renders the fault for logs, e.g. "cf_522+200ms".
func (f Fault) String() string {
	s := f.Kind.String()
	if f.Delay > 0 {
		s += "+" + f.Delay.String()
	}
	if f.Format != "" && f.Format != FormatAuto {
		s += "/" + string(f.Format)
	}
	if f.Scope != ScopeAll {
		s += " on " + string(f.Scope)
	}
	if f.Share > 0 && f.Share < 1 {
		s += fmt.Sprintf(" x%g", f.Share)
	}
	return s
}
