package probe

// Outcome says which layer a failed probe blames (contract: DESIGN.md,
// Classification). Every probe ends in exactly one outcome.
type Outcome string

const (
	OutcomeSuccess      Outcome = "success"
	OutcomeEdgeError    Outcome = "edge_error"
	OutcomeOriginError  Outcome = "origin_error"
	OutcomeNetworkError Outcome = "network_error"
	OutcomeProbeError   Outcome = "probe_error"
)

// Outcomes lists every outcome in a stable order.
var Outcomes = []Outcome{OutcomeSuccess, OutcomeEdgeError, OutcomeOriginError, OutcomeNetworkError, OutcomeProbeError}

// Known reports whether o is one of the contract outcomes.
func (o Outcome) Known() bool {
	for _, v := range Outcomes {
		if o == v {
			return true
		}
	}
	return false
}

// CountsForSLI reports whether a probe with outcome o is a valid event of
// the availability SLIs: every outcome but probe_error, which is the probe
// owner's to fix and says nothing about the provider. This is the one
// definition the recording rules, the dashboards and the status API use.
func (o Outcome) CountsForSLI() bool { return o.Known() && o != OutcomeProbeError }

// SLIOutcomes lists the outcomes that count for the SLIs, in Outcomes order.
func SLIOutcomes() []Outcome {
	var out []Outcome
	for _, o := range Outcomes {
		if o.CountsForSLI() {
			out = append(out, o)
		}
	}
	return out
}

// Style is how an outcome looks wherever people read it: the status page,
// the demo's live lines and the dashboards. The colours are the Okabe–Ito
// palette, which colour-blind readers tell apart too, and a symbol and a
// label go with every colour, so colour is never the only cue.
type Style struct {
	Symbol    string // one character: ✓ E O N P
	Label     string // a short phrase: "Edge error"
	Color     string // on a light background, #rrggbb
	ColorDark string // on a dark background, #rrggbb
}

// styles is the one table of outcome symbols and colours.
var styles = map[Outcome]Style{
	OutcomeSuccess:      {"✓", "OK", "#009e73", "#009e73"},
	OutcomeEdgeError:    {"E", "Edge error", "#d55e00", "#d55e00"},
	OutcomeOriginError:  {"O", "Origin error", "#cc79a7", "#cc79a7"},
	OutcomeNetworkError: {"N", "Network error", "#0072b2", "#56b4e9"},
	OutcomeProbeError:   {"P", "Probe error", "#f0e442", "#f0e442"},
}

// PendingStyle is a check with no result yet.
var PendingStyle = Style{"…", "Pending", "#aab3bc", "#59636e"}

// Style returns o's style, PendingStyle for no outcome.
func (o Outcome) Style() Style {
	if s, ok := styles[o]; ok {
		return s
	}
	return PendingStyle
}

// Layer is the short layer name used by alerts (`layer` label): edge, origin,
// network, probe, or "" for success.
func (o Outcome) Layer() string {
	switch o {
	case OutcomeEdgeError:
		return "edge"
	case OutcomeOriginError:
		return "origin"
	case OutcomeNetworkError:
		return "network"
	case OutcomeProbeError:
		return "probe"
	}
	return ""
}

// Reason refines an outcome with one snake_case word. The list below is the
// only place reasons are defined; the README table is generated from it
// (`llmprobe providers --reasons`) and a test keeps the two in step.
type Reason string

const (
	ReasonOK Reason = "ok"

	// edge_error
	ReasonTLSHandshake    Reason = "tls_handshake"
	ReasonTLSCertificate  Reason = "tls_certificate"
	ReasonConnectionReset Reason = "connection_reset"
	ReasonEdge5xx         Reason = "edge_5xx"
	ReasonEdgeRateLimited Reason = "edge_rate_limited"
	ReasonEdgeBlocked     Reason = "edge_blocked"
	ReasonEdgeHTML        Reason = "edge_html"

	// origin_error
	ReasonOrigin5xx         Reason = "origin_5xx"
	ReasonOverloaded        Reason = "overloaded"
	ReasonRateLimited       Reason = "rate_limited"
	ReasonOriginDown        Reason = "origin_down"
	ReasonOriginTimeout     Reason = "origin_timeout"
	ReasonOriginTLS         Reason = "origin_tls"
	ReasonOriginBadResponse Reason = "origin_bad_response"
	ReasonTTFBTimeout       Reason = "ttfb_timeout"
	ReasonBodyTimeout       Reason = "body_timeout"
	ReasonInvalidResponse   Reason = "invalid_response"
	ReasonRefused           Reason = "refused"
	ReasonStreamError       Reason = "stream_error"

	// network_error
	ReasonDNS            Reason = "dns"
	ReasonConnectRefused Reason = "connect_refused"
	ReasonConnectTimeout Reason = "connect_timeout"
	ReasonNoRoute        Reason = "no_route"

	// probe_error
	ReasonAuth            Reason = "auth"
	ReasonQuota           Reason = "quota"
	ReasonBadRequest      Reason = "bad_request"
	ReasonModelNotFound   Reason = "model_not_found"
	ReasonOutputLimit     Reason = "output_limit"
	ReasonNoAPIKey        Reason = "no_api_key"
	ReasonBlockedLocation Reason = "blocked_location"
	ReasonBudgetExhausted Reason = "budget_exhausted"
	ReasonProbeInternal   Reason = "probe_internal"
)

// ReasonInfo documents one reason: the outcome it belongs to and what it means.
type ReasonInfo struct {
	Reason  Reason
	Outcome Outcome
	Meaning string
}

// Reasons is the fixed, documented reason list in README order.
var Reasons = []ReasonInfo{
	{ReasonOK, OutcomeSuccess, "the check did what a user needs (a keyless reach check: the provider's own 401/403 JSON)"},

	{ReasonTLSHandshake, OutcomeEdgeError, "TCP connected but the TLS handshake with the edge failed"},
	{ReasonTLSCertificate, OutcomeEdgeError, "the edge presented a certificate this probe does not trust (interception or a wrong LLMPROBE_CA_FILE)"},
	{ReasonConnectionReset, OutcomeEdgeError, "the connection was reset or closed after connect, before response headers"},
	{ReasonEdge5xx, OutcomeEdgeError, "the CDN's own failure page: Cloudflare 500, unbranded 502/504, error_category cloudflare, Google Front End error page, CloudFront's 503 for its own functions, a Fastly or Akamai error that names no origin failure"},
	{ReasonEdgeRateLimited, OutcomeEdgeError, "a CDN rate-limit policy page (Cloudflare 1015), not the provider's 429"},
	{ReasonEdgeBlocked, OutcomeEdgeError, "a CDN policy block or challenge (Cloudflare 1020, 1xxx bans, cf-mitigated: challenge, CloudFront \"Request blocked\", Akamai \"Access Denied\")"},
	{ReasonEdgeHTML, OutcomeEdgeError, "an HTML page where the API answers JSON"},

	{ReasonOrigin5xx, OutcomeOriginError, "the provider answered a 5xx in its own schema, or the CDN relayed a body the origin wrote (Envoy 503, branded 502)"},
	{ReasonOverloaded, OutcomeOriginError, "the provider is out of capacity, whatever the status: Anthropic 529, model overloaded 503, Groq 498, Bedrock ServiceUnavailableException, Vertex shared-capacity 429; also inside a stream"},
	{ReasonRateLimited, OutcomeOriginError, "the provider's own rate limit that clears within minutes (a 429, or a throttling error inside a stream), not quota"},
	{ReasonOriginDown, OutcomeOriginError, "the CDN could not reach the origin: Cloudflare 521, 523, 530/1016, CloudFront's failed origin connection"},
	{ReasonOriginTimeout, OutcomeOriginError, "the CDN or the provider timed out waiting for the origin: Cloudflare 522, 524, branded 504, cf_gateway_timeout, Fastly first byte timeout and backend read error, Azure Front Door 503/504, Bedrock ModelTimeoutException"},
	{ReasonOriginTLS, OutcomeOriginError, "the CDN-to-origin TLS leg failed: Cloudflare 525, 526, error_category ssl"},
	{ReasonOriginBadResponse, OutcomeOriginError, "the origin sent the CDN an empty or malformed response: Cloudflare 520"},
	{ReasonTTFBTimeout, OutcomeOriginError, "the request was sent but no response headers came within the timeout"},
	{ReasonBodyTimeout, OutcomeOriginError, "headers arrived but the body did not finish within the timeout"},
	{ReasonInvalidResponse, OutcomeOriginError, "a 2xx whose body is not the provider's schema, or holds no generated content and says no reason why"},
	{ReasonRefused, OutcomeOriginError, "a 2xx (or a content-filter error) where the model or the provider's safety filter refused the fixed probe prompt: OpenAI refusal, Gemini SAFETY or blockReason, Azure content_filter, Bedrock guardrail"},
	{ReasonStreamError, OutcomeOriginError, "a stream broke after a 200: a stall, a cut before the final event, or an error event without a sharper meaning (capacity, rate limit and quota errors keep theirs)"},

	{ReasonDNS, OutcomeNetworkError, "the provider's host name did not resolve"},
	{ReasonConnectRefused, OutcomeNetworkError, "the TCP connection was refused"},
	{ReasonConnectTimeout, OutcomeNetworkError, "the TCP connection did not complete in time"},
	{ReasonNoRoute, OutcomeNetworkError, "no route to the host or network unreachable"},

	{ReasonAuth, OutcomeProbeError, "the probe's credentials were rejected or lack a permission (401/403 on a keyed check, Gemini API_KEY_INVALID, AWS signature errors, Vertex IAM), or could not be obtained"},
	{ReasonQuota, OutcomeProbeError, "the probe account's quota, credit, billing, or a spend or usage limit its owner set is exhausted (daily limits and retry-after of an hour or more included)"},
	{ReasonBadRequest, OutcomeProbeError, "the provider rejected the probe's request (400 and other 4xx): fix the check's model or parameters"},
	{ReasonModelNotFound, OutcomeProbeError, "the configured model or endpoint does not exist, is retired, or the account may not use it (404, or a 403/400 about the model)"},
	{ReasonOutputLimit, OutcomeProbeError, "the output limit ran out before any text (a reasoning model spent it thinking): raise LLMPROBE_<ID>_MAX_TOKENS"},
	{ReasonNoAPIKey, OutcomeProbeError, "a chat or stream check has no API key"},
	{ReasonBlockedLocation, OutcomeProbeError, "the provider does not serve the probe's country or region"},
	{ReasonBudgetExhausted, OutcomeProbeError, "the probe's own daily request or token budget for the provider is spent"},
	{ReasonProbeInternal, OutcomeProbeError, "the probe could not build its request (a bug or bad configuration)"},
}

// OutcomeOf returns the outcome a reason belongs to, and false for an unknown reason.
func OutcomeOf(r Reason) (Outcome, bool) {
	for _, info := range Reasons {
		if info.Reason == r {
			return info.Outcome, true
		}
	}
	return "", false
}
