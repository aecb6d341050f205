package providertest

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cfError describes one Cloudflare-generated error: what the HTML page says
// and what the structured (RFC 9457) body says. Cloudflare's changelogs of
// 2026-03-11 (1xxx) and 2026-04-27 (500, 502, 504, 520-526) define the
// structured form; the values of error_name and retry_after are this fake's
// choice, since the changelogs name the fields but not every value.
type cfError struct {
	status   int    // HTTP status
	code     int    // error code on the page and in error_code (5xx or 1xxx)
	title    string // page title text and problem "title"
	name     string // error_name
	category string // error_category; "" means Cloudflare serves this code as HTML only
	retry    int    // retry_after seconds; 0 = not retryable
	owner    bool   // owner_action_required
	blame    string // which status box shows Error: "cloudflare" or "host"; "" = 1xxx page
	what     string // "What happened?" and problem "detail"
	todo     string // "What can I do?"
}

const (
	tryLater  = "Please try again in a few minutes."
	ownerLook = "If you are the owner of this website, check your origin server and its logs."
)

var cfErrors = map[FaultKind]cfError{
	CF500: {500, 500, "Internal server error", "internal_server_error", "cloudflare", 5, false, "cloudflare",
		"There is an internal server error on Cloudflare's network.", tryLater},
	CF502Branded: {502, 502, "Bad gateway", "bad_gateway", "origin", 30, true, "host",
		"The web server reported a bad gateway error.", tryLater},
	CF503Branded: {503, 503, "Service unavailable", "service_unavailable", "", 0, true, "host",
		"The web server reported that it is temporarily unable to handle the request.", tryLater},
	CF504Branded: {504, 504, "Gateway time-out", "gateway_timeout", "origin", 30, true, "host",
		"The web server reported a gateway time-out error.", tryLater},
	CF520: {520, 520, "Web server is returning an unknown error", "unknown_error", "origin", 30, true, "host",
		"There is an unknown connection issue between Cloudflare and the origin web server. As a result, the web page can not be displayed.", ownerLook},
	CF521: {521, 521, "Web server is down", "web_server_down", "origin", 30, true, "host",
		"The web server is not returning a connection. As a result, the web page is not displaying.", ownerLook},
	CF522: {522, 522, "Connection timed out", "connection_timed_out", "origin", 60, true, "host",
		"The initial connection between Cloudflare's network and the origin web server timed out. As a result, the web page can not be displayed.", ownerLook},
	CF523: {523, 523, "Origin is unreachable", "origin_unreachable", "origin", 30, true, "host",
		"Cloudflare could not reach the origin web server. The DNS records or routing for the origin may be wrong.", ownerLook},
	CF524: {524, 524, "A timeout occurred", "timeout_occurred", "origin", 60, true, "host",
		"Cloudflare was able to complete a TCP connection to the origin server, but did not receive a timely HTTP response.", ownerLook},
	CF525: {525, 525, "SSL handshake failed", "ssl_handshake_failed", "ssl", 0, true, "host",
		"Cloudflare is unable to establish an SSL connection to the origin server.", ownerLook},
	CF526: {526, 526, "Invalid SSL certificate", "invalid_ssl_certificate", "ssl", 0, true, "host",
		"The origin web server does not have a valid SSL certificate.", ownerLook},
	CF527: {527, 527, "Railgun Listener to origin error", "railgun_error", "", 0, true, "host",
		"The Railgun connection between Cloudflare and the origin web server failed.", ownerLook},
	// 530 is the status; the page and the structured body name 1016. The
	// origin is at fault (its DNS), so the category is "origin", and like
	// the other origin codes it is retryable with a Retry-After.
	CF530: {530, 1016, "Origin DNS error", "origin_dns_error", "origin", 60, true, "",
		"Cloudflare could not resolve the origin server's hostname: its DNS record does not point to a reachable address.", ownerLook},
	CF1015: {429, 1015, "You are being rate limited", "rate_limited", "rate_limit", 30, false, "",
		"The owner of this website has banned you temporarily from accessing this website.", "Wait and retry after the time in Retry-After."},
	CF1020: {403, 1020, "Access denied", "access_denied", "access_denied", 0, false, "",
		"This website is using a security service to protect itself from online attacks. The request matched a firewall rule set by the site owner.", "Contact the site owner if you think you should have access."},
}

// cfPageHeaders are the headers of every Cloudflare error page (corpus §1.3):
// no-store, an expires in 1970, and no origin header.
func (s *Server) cfPageHeaders(ray, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0")
	h.Set("Expires", "Thu, 01 Jan 1970 00:00:01 GMT")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	s.stampCloudflare(h, ray)
	return h
}

// cfPage answers a Cloudflare-generated error in HTML or problem JSON.
func (s *Server) cfPage(x *exchange, kind FaultKind, format Format) response {
	e := cfErrors[kind]
	if ct := problemType(x.r, format); ct != "" && e.category != "" {
		h := s.cfPageHeaders(x.ray, ct+"; charset=utf-8")
		if e.retry > 0 {
			h.Set("Retry-After", strconv.Itoa(e.retry))
		}
		return jsonResponse(e.status, h, s.problem(x, e))
	}
	h := s.cfPageHeaders(x.ray, "text/html; charset=UTF-8")
	if e.code == 1015 {
		// Since 2026-03-12 retryable 1xxx pages carry Retry-After too.
		h.Set("Retry-After", strconv.Itoa(e.retry))
	}
	var body string
	if e.blame == "" {
		body = s.cf1xxxPage(x, e)
	} else {
		body = s.cfBrandedPage(x, e)
	}
	return response{status: e.status, header: h, body: []byte(body)}
}

// problemType returns the content type a problem JSON answer gets for the
// request ("application/json" or "application/problem+json"), or "" when
// the page must be HTML. Auto follows Cloudflare's negotiation: the
// supported media type with the highest q wins, the first listed on a tie;
// */* and anything else mean HTML. (Cloudflare also serves Markdown to
// text/markdown; this fake answers HTML there.)
func problemType(r *http.Request, format Format) string {
	switch format {
	case FormatHTML:
		return ""
	case FormatJSON:
		if strings.Contains(r.Header.Get("Accept"), "application/problem+json") {
			return "application/problem+json"
		}
		return "application/json"
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = mt, q
		}
	}
	if best == "application/json" || best == "application/problem+json" {
		return best
	}
	return ""
}

// problem is Cloudflare's RFC 9457 body with its extension members.
func (s *Server) problem(x *exchange, e cfError) any {
	family := "cloudflare-5xx-errors"
	if e.code >= 1000 {
		family = "cloudflare-1xxx-errors"
	}
	p := struct {
		Type          string `json:"type"`
		Title         string `json:"title"`
		Status        int    `json:"status"`
		Detail        string `json:"detail"`
		Instance      string `json:"instance"`
		ErrorCode     int    `json:"error_code"`
		ErrorName     string `json:"error_name"`
		ErrorCategory string `json:"error_category"`
		RayID         string `json:"ray_id"`
		Timestamp     string `json:"timestamp"`
		Zone          string `json:"zone"`
		CFError       bool   `json:"cloudflare_error"`
		Retryable     bool   `json:"retryable"`
		RetryAfter    int    `json:"retry_after,omitempty"`
		OwnerAction   bool   `json:"owner_action_required"`
	}{
		Type:  "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/" + family + "/error-" + strconv.Itoa(e.code) + "/",
		Title: e.title, Status: e.status, Detail: e.what, Instance: x.ray,
		ErrorCode: e.code, ErrorName: e.name, ErrorCategory: e.category, RayID: x.ray,
		Timestamp: s.now().UTC().Format(time.RFC3339), Zone: hostOnly(x.r.Host), CFError: true,
		Retryable: e.retry > 0, RetryAfter: e.retry, OwnerAction: e.owner,
	}
	return p
}

// openAICFJSON is OpenAI's edge rule body: its error envelope with an
// integer code and a cf_* type, and none of its origin headers.
func (s *Server) openAICFJSON(x *exchange, kind FaultKind) response {
	status, msg, typ := http.StatusBadGateway, "Bad gateway.", "cf_bad_gateway"
	if kind == OpenAICFGatewayTimeout {
		status, msg, typ = 524, "Gateway timeout.", "cf_gateway_timeout"
	}
	h := s.cfPageHeaders(x.ray, "application/json")
	return jsonResponse(status, h, openAICodeFirstErr{openAICodeFirst{Code: status, Message: msg, Param: nil, Type: typ}})
}

// cfUnbranded is the nginx-style page Cloudflare serves for its own 502/504
// failures: no branding but the last line names cloudflare.
func (s *Server) cfUnbranded(x *exchange, kind FaultKind) response {
	status, text := http.StatusBadGateway, "502 Bad Gateway"
	if kind == CF504Unbranded {
		status, text = http.StatusGatewayTimeout, "504 Gateway Time-out"
	}
	h := http.Header{}
	h.Set("Content-Type", "text/html")
	s.stampCloudflare(h, x.ray)
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
	return response{status: status, header: h, body: []byte(body)}
}

// cfChallenge is a managed challenge: 403, cf-mitigated: challenge.
func (s *Server) cfChallenge(x *exchange) response {
	h := s.cfPageHeaders(x.ray, "text/html; charset=UTF-8")
	h.Set("Cf-Mitigated", "challenge")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "accelerometer=(),autoplay=(),browsing-topics=(),camera=(),clipboard-read=(),clipboard-write=(),geolocation=(),gyroscope=(),hid=(),interest-cohort=(),magnetometer=(),microphone=(),payment=(),publickey-credentials-get=(),screen-wake-lock=(),serial=(),sync-xhr=(),usb=()")
	return response{status: http.StatusForbidden, header: h, body: []byte(challengePage(hostOnly(x.r.Host), x.ray))}
}

// hostOnly strips the port: Cloudflare pages name the zone's hostname.
func hostOnly(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		return strings.Trim(hostport[:i], "[]")
	}
	return strings.Trim(hostport, "[]")
}
