package probe

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// CDN names, the values of the `edge` field and label.
const (
	EdgeCloudflare = "cloudflare"
	EdgeGoogle     = "google"
	EdgeCloudFront = "cloudfront"
	EdgeFastly     = "fastly"
	EdgeAkamai     = "akamai"
	EdgeAzure      = "azure"
	EdgeEdgeOne    = "edgeone" // Tencent EdgeOne: eo-log-uuid, eo-cache-status (in front of DeepSeek since 2026)
	EdgeNone       = "none"
)

// seenEdge names the CDN whose headers a response carries. These headers sit
// on every response the CDN carried, origin ones too: they say which edge
// carried it, never who failed.
func seenEdge(h http.Header) string {
	server := strings.ToLower(h.Get("Server"))
	via := strings.ToLower(strings.Join(h.Values("Via"), ","))
	switch {
	case h.Get("Cf-Ray") != "" || strings.Contains(server, "cloudflare"):
		return EdgeCloudflare
	case h.Get("X-Amz-Cf-Id") != "" || strings.Contains(via, "cloudfront"):
		return EdgeCloudFront
	case h.Get("X-Fastly-Request-Id") != "" || strings.HasPrefix(h.Get("X-Served-By"), "cache-") || strings.Contains(via, "varnish"):
		return EdgeFastly
	case strings.Contains(server, "akamai") || h.Get("Akamai-Grn") != "":
		return EdgeAkamai
	case strings.Contains(server, "scaffolding on httpserver2") || server == "esf" || strings.Contains(server, "google frontend") ||
		server == "gse" || strings.Contains(via, "google"):
		return EdgeGoogle
	case h.Get("X-Azure-Ref") != "" || h.Get("Apim-Request-Id") != "":
		return EdgeAzure
	case h.Get("Eo-Log-Uuid") != "" || h.Get("Eo-Cache-Status") != "" || strings.Contains(server, "edgeone"):
		return EdgeEdgeOne
	}
	return ""
}

// edgePOP returns the CDN location: the suffix of Cloudflare's cf-ray
// (8f1a2b3c4d5e6f70-FRA) or CloudFront's x-amz-cf-pop.
func edgePOP(h http.Header) string {
	if ray := h.Get("Cf-Ray"); ray != "" {
		if i := strings.LastIndexByte(ray, '-'); i >= 0 && i+1 < len(ray) && len(ray)-i <= 6 {
			return safeToken(ray[i+1:], 8)
		}
	}
	return safeToken(h.Get("X-Amz-Cf-Pop"), 16)
}

// originHeaders are set only by the providers' own applications, never by the
// CDN in front (../shared/corpus/providers-and-edges.md, section 0).
var originHeaders = []string{
	"X-Request-Id", "Openai-Processing-Ms", "Openai-Version", "Openai-Organization", "Openai-Project",
	"Request-Id", "Anthropic-Organization-Id", "X-Should-Retry", "X-Cloud-Trace-Context",
	"Anthropic-Ratelimit-Requests-Remaining", "Apim-Request-Id", "X-Ratelimit-Remaining-Requests",
	"X-Ratelimit-Remaining-Req-Minute", "X-Generation-Id",
	"X-Ds-Trace-Id",    // DeepSeek, behind EdgeOne
	"X-Amzn-Requestid", // AWS services (Bedrock)
}

func hasOriginHeaders(h http.Header) bool {
	for _, k := range originHeaders {
		if h.Get(k) != "" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(h.Get("Server")), "scaffolding on httpserver2")
}

// edgePage is an error response the CDN wrote itself.
type edgePage struct {
	cdn      string
	form     string // problem, cfjson, html, nginx, plain, challenge, header, gfe
	code     int    // Cloudflare error code (5xx or 1xxx); the HTTP status when none is given
	category string // RFC 9457 error_category: origin, cloudflare, ssl, rate_limit, ...
	// The three status boxes of Cloudflare's branded page: which one shows Error.
	hostBlamed, edgeBlamed bool
	title                  string
	ray                    string
	// text is the lower-cased page of another CDN (CloudFront, Fastly,
	// Akamai, Azure Front Door), whose one explanatory line names the cause.
	text string
}

var (
	reCFTitleCode = regexp.MustCompile(`\|\s*(\d{3,4})\s*:`)
	reCFErrorCode = regexp.MustCompile(`(?:error code[:\s]+|cf-error-code">\s*)(\d{3,4})`)
	reRayID       = regexp.MustCompile(`ray id:?\s*(?:<[^>]+>\s*)*([0-9a-f]{16})`)
	reTitle       = regexp.MustCompile(`(?is)<title>\s*(.*?)\s*</title>`)
	reGFETitle    = regexp.MustCompile(`error \d{3} \([^)]*\)!!1`)
)

// readEdgePage recognises the bodies CDNs write: Cloudflare's RFC 9457
// problem JSON, its HTML pages (branded 5xx, 1xxx, challenges, the unbranded
// nginx page), its plain "error code: N" text, OpenAI's cf_* JSON configured
// at the edge, and Google Front End error pages. ok is false for anything
// else, origin errors relayed through the CDN included.
func readEdgePage(status int, h http.Header, body []byte) (p edgePage, ok bool) {
	trimmed := bytes.TrimSpace(body)
	lower := strings.ToLower(string(trimmed))
	p.code = status
	p.ray = safeToken(h.Get("Cf-Ray"), 32)
	if strings.EqualFold(h.Get("Cf-Mitigated"), "challenge") || strings.Contains(lower, "/cdn-cgi/challenge-platform/") || strings.Contains(lower, "_cf_chl_opt") {
		p.cdn, p.form, p.title = EdgeCloudflare, "challenge", "challenge"
		return p, true
	}
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return readEdgeJSON(p, trimmed)
	}
	if m := reTitle.FindStringSubmatch(string(trimmed)); m != nil {
		p.title = strings.TrimSpace(m[1])
	}
	if cdn, form := otherCDNPage(h, lower); cdn != "" {
		p.cdn, p.form, p.text = cdn, form, lower
		if p.title == "" {
			p.title = form + " error page"
		}
		return p, true
	}
	switch {
	case strings.Contains(lower, "cf-error-details") || strings.Contains(lower, "cf-wrapper") || strings.Contains(lower, "cloudflare ray id") ||
		strings.Contains(lower, "5xx-error-landing") || strings.Contains(lower, "/cdn-cgi/styles/") || strings.Contains(lower, "cf-error-code") ||
		strings.Contains(lower, "attention required! | cloudflare"):
		p.cdn, p.form = EdgeCloudflare, "html"
		if m := reCFTitleCode.FindStringSubmatch(strings.ToLower(p.title)); m != nil {
			p.code, _ = strconv.Atoi(m[1])
		} else if m := reCFErrorCode.FindStringSubmatch(lower); m != nil {
			p.code, _ = strconv.Atoi(m[1])
		}
		p.hostBlamed = boxShowsError(lower, "cf-host-status")
		p.edgeBlamed = boxShowsError(lower, "cf-cloudflare-status")
		if m := reRayID.FindStringSubmatch(lower); m != nil && p.ray == "" {
			p.ray = m[1]
		}
		return p, true
	case strings.Contains(lower, "<center>cloudflare</center>") || strings.Contains(lower, "<center>cloudflare-nginx</center>"):
		p.cdn, p.form = EdgeCloudflare, "nginx"
		return p, true
	case strings.HasPrefix(lower, "error code:"):
		if m := reCFErrorCode.FindStringSubmatch(lower); m != nil {
			p.code, _ = strconv.Atoi(m[1])
		}
		p.cdn, p.form, p.title = EdgeCloudflare, "plain", string(trimmed)
		return p, true
	case strings.Contains(lower, "that’s an error") || strings.Contains(lower, "that's an error") || reGFETitle.MatchString(lower):
		p.cdn, p.form = EdgeGoogle, "gfe"
		return p, true
	}
	if t := h.Get("Cf-Error-Type"); t != "" {
		// Cloudflare sets cf-error-type only on pages it generated itself.
		p.cdn, p.form, p.title = EdgeCloudflare, "header", "cf-error-type "+safeToken(t, 8)
		if n, err := strconv.Atoi(t); err == nil && n >= 1000 {
			p.code = n
		}
		return p, true
	}
	return p, false
}

// otherCDNPage recognises the error pages CloudFront, Fastly, Akamai and
// Azure Front Door write themselves (not the origin's pages they relay):
//   - CloudFront: "ERROR: The request could not be satisfied" ... "Generated
//     by cloudfront (CloudFront)" (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/troubleshooting-response-errors.html);
//   - Fastly: Varnish's synthetic "Error 503 first byte timeout ... Guru
//     Mediation" (https://www.fastly.com/documentation/guides/vcl/errors/);
//   - Akamai: "Access Denied ... Reference #18.x" and "Gateway Timeout ...
//     Reference #" (https://community.akamai.com/community/cloud-security/blog/2016/04/07/why-is-akamai-blocking-me);
//   - Azure Front Door: "Our services aren't available right now" with its
//     x-azure-ref (https://learn.microsoft.com/azure/frontdoor/troubleshoot-issues).
func otherCDNPage(h http.Header, lower string) (cdn, form string) {
	switch {
	case strings.Contains(lower, "generated by cloudfront") || strings.Contains(lower, "the request could not be satisfied") && strings.Contains(strings.ToLower(h.Get("X-Cache")), "cloudfront"):
		return EdgeCloudFront, "cloudfront"
	case strings.Contains(lower, "guru mediation") || strings.Contains(lower, "varnish cache server"):
		return EdgeFastly, "fastly"
	case (strings.Contains(lower, "reference #") || strings.Contains(lower, "reference&#32;&#35;")) &&
		(strings.Contains(strings.ToLower(h.Get("Server")), "akamai") || strings.Contains(lower, "access denied") || strings.Contains(lower, "upstream server")):
		return EdgeAkamai, "akamai"
	case strings.Contains(lower, "our services aren't available right now") || strings.Contains(lower, "our services aren&#39;t available right now") ||
		strings.Contains(lower, "our services aren’t available right now"):
		return EdgeAzure, "afd"
	}
	return "", ""
}

// otherCDNVerdict blames a layer for another CDN's page by the same
// principle as Cloudflare's: the edge's own policy or failure is an edge
// error; a page where the edge worked and names the origin's failure is
// an origin error.
func (p edgePage) otherCDNVerdict() (Outcome, Reason) {
	has := func(ws ...string) bool {
		for _, w := range ws {
			if strings.Contains(p.text, w) {
				return true
			}
		}
		return false
	}
	switch c := p.code; {
	case c == 403:
		return OutcomeEdgeError, ReasonEdgeBlocked
	case c == 429:
		return OutcomeEdgeError, ReasonEdgeRateLimited
	case c == 400 || c == 494:
		return OutcomeProbeError, ReasonBadRequest // the CDN judged the probe's request malformed or too large
	case c < 500:
		return OutcomeEdgeError, ReasonEdgeBlocked
	}
	switch p.form {
	case "cloudfront":
		switch {
		case has("lambda function", "cloudfront function", "capacity exceeded", "limit exceeded"):
			return OutcomeEdgeError, ReasonEdge5xx // the distribution's own functions or limits
		case has("ssl", "tls"):
			return OutcomeOriginError, ReasonOriginTLS
		case has("attempt failed", "closed the connection", "wasn't able to connect", "resolve the origin"):
			return OutcomeOriginError, ReasonOriginDown
		case p.code == 504:
			return OutcomeOriginError, ReasonOriginTimeout
		case p.code == 502:
			return OutcomeOriginError, ReasonOriginDown // CloudFront could not connect to the origin
		}
	case "fastly":
		switch {
		case has("first byte timeout", "between bytes timeout", "backend read error"):
			return OutcomeOriginError, ReasonOriginTimeout
		case has("certificate", "ssl handshake", "tls"):
			return OutcomeOriginError, ReasonOriginTLS
		case has("connection timed out", "connection refused", "backend unavailable", "no healthy backends", "backend is unhealthy", "all backends failed"):
			return OutcomeOriginError, ReasonOriginDown
		}
	case "akamai":
		switch {
		case p.code == 504 || has("upstream server"):
			return OutcomeOriginError, ReasonOriginTimeout
		case has("zero size object"):
			return OutcomeOriginError, ReasonOriginBadResponse
		}
	case "afd":
		if p.code == 503 || p.code == 504 {
			return OutcomeOriginError, ReasonOriginTimeout
		}
	}
	return OutcomeEdgeError, ReasonEdge5xx
}

// readEdgeJSON recognises Cloudflare's RFC 9457 bodies and OpenAI's cf_* JSON.
func readEdgeJSON(p edgePage, body []byte) (edgePage, bool) {
	var v struct {
		Type          string          `json:"type"`
		Title         string          `json:"title"`
		Status        int             `json:"status"`
		ErrorCode     json.RawMessage `json:"error_code"`
		ErrorCategory string          `json:"error_category"`
		RayID         string          `json:"ray_id"`
		Error         json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return p, false
	}
	if v.ErrorCategory != "" || (strings.Contains(v.Type, "cloudflare.com") && v.RayID != "") {
		p.cdn, p.form, p.category, p.title = EdgeCloudflare, "problem", strings.ToLower(v.ErrorCategory), v.Title
		if n, err := strconv.Atoi(rawString(v.ErrorCode)); err == nil {
			p.code = n
		}
		if v.RayID != "" {
			p.ray = safeToken(v.RayID, 32)
		}
		return p, true
	}
	if len(v.Error) > 0 && v.Error[0] == '{' {
		var inner struct {
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
		}
		if json.Unmarshal(v.Error, &inner) == nil && strings.HasPrefix(inner.Type, "cf_") {
			p.cdn, p.form, p.category, p.title = EdgeCloudflare, "cfjson", inner.Type, inner.Message
			if n, err := strconv.Atoi(rawString(inner.Code)); err == nil {
				p.code = n
			}
			return p, true
		}
	}
	return p, false
}

// boxShowsError reports whether the status box with the given id on a
// Cloudflare page is marked as the one in error.
func boxShowsError(lower, id string) bool {
	i := strings.Index(lower, `id="`+id+`"`)
	if i < 0 {
		return false
	}
	section := lower[i:]
	if j := strings.Index(section[len(id)+5:], `id="cf-`); j >= 0 {
		section = section[:len(id)+5+j]
	}
	return strings.Contains(section, ">error<") || strings.Contains(section, "-error\"") || strings.Contains(section, "red-error") || strings.Contains(section, "cf-error-source")
}

// verdict blames a layer for an edge page: the CDN's own failures and
// policies are edge errors; pages where the CDN worked and relays an origin
// failure are origin errors.
func (p edgePage) verdict() (Outcome, Reason) {
	if p.form == "challenge" {
		return OutcomeEdgeError, ReasonEdgeBlocked
	}
	switch p.form {
	case "cloudfront", "fastly", "akamai", "afd":
		return p.otherCDNVerdict()
	}
	if p.form == "gfe" {
		switch {
		case p.code == 429:
			return OutcomeEdgeError, ReasonEdgeRateLimited
		case p.code == 404:
			return OutcomeProbeError, ReasonModelNotFound
		case p.code >= 400 && p.code < 500:
			return OutcomeEdgeError, ReasonEdgeBlocked
		}
		return OutcomeEdgeError, ReasonEdge5xx
	}
	switch p.category {
	case "ssl":
		return OutcomeOriginError, ReasonOriginTLS
	case "cf_gateway_timeout":
		return OutcomeOriginError, ReasonOriginTimeout
	}
	switch c := p.code; {
	case c == 1015:
		return OutcomeEdgeError, ReasonEdgeRateLimited
	case c == 1016:
		return OutcomeOriginError, ReasonOriginDown
	case c == 1200:
		return OutcomeOriginError, ReasonOverloaded // requests queued at the edge, waiting for the origin
	case c == 1101 || c == 1102:
		return OutcomeEdgeError, ReasonEdge5xx // edge compute (Workers) failed
	case c >= 1000 && c < 2000:
		return OutcomeEdgeError, ReasonEdgeBlocked
	case c == 520:
		return OutcomeOriginError, ReasonOriginBadResponse
	case c == 521 || c == 523 || c == 527 || c == 530:
		return OutcomeOriginError, ReasonOriginDown
	case c == 522 || c == 524:
		return OutcomeOriginError, ReasonOriginTimeout
	case c == 525 || c == 526:
		return OutcomeOriginError, ReasonOriginTLS
	case c == 500 || c == 502 || c == 503 || c == 504:
		if p.blamesOrigin() {
			if c == 504 {
				return OutcomeOriginError, ReasonOriginTimeout // the host's own gateway timed out
			}
			return OutcomeOriginError, ReasonOrigin5xx
		}
		return OutcomeEdgeError, ReasonEdge5xx
	case c == 429:
		return OutcomeEdgeError, ReasonEdgeRateLimited
	case c == 403:
		return OutcomeEdgeError, ReasonEdgeBlocked
	}
	return OutcomeEdgeError, ReasonEdge5xx
}

// blamesOrigin reads who a Cloudflare 500/502/503/504 blames: the problem
// JSON's category, OpenAI's cf_* JSON (the edge relaying an origin failure),
// or the branded page's status boxes. The unbranded nginx page and the plain
// text form are Cloudflare's own failures; so is the 500 that names its network.
func (p edgePage) blamesOrigin() bool {
	switch p.form {
	case "problem":
		return p.category == "origin"
	case "cfjson":
		return true
	case "html":
		if p.edgeBlamed {
			return false
		}
		if p.hostBlamed {
			return true
		}
		return p.code != 500 // a branded 502/503/504 means the origin returned it
	}
	return false
}

// safeToken keeps s only if it is a short run of id characters, so that
// values taken from responses can go into logs and JSON without surprises.
func safeToken(s string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > max {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':') {
			return ""
		}
	}
	return s
}

// requestID returns the origin's request id from the usual headers.
func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "Request-Id", "Apim-Request-Id", "X-Goog-Request-Id", "X-Generation-Id", "X-Amzn-Requestid", "X-Ds-Trace-Id"} {
		if id := safeToken(h.Get(k), 128); id != "" {
			return id
		}
	}
	return ""
}
