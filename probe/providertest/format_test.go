package providertest_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

// problem is Cloudflare's RFC 9457 body as a classifier would read it.
type problem struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
	Instance      string `json:"instance"`
	ErrorCode     int    `json:"error_code"`
	ErrorName     string `json:"error_name"`
	ErrorCategory string `json:"error_category"`
	RayID         string `json:"ray_id"`
	Retryable     bool   `json:"retryable"`
	RetryAfter    int    `json:"retry_after"`
}

func TestStructuredCloudflareErrorsFollowTheAcceptHeader(t *testing.T) {
	structured := []struct {
		kind       pt.FaultKind
		status     int
		code       int
		category   string
		retryAfter int // 0 = not retryable, no Retry-After
	}{
		{pt.CF500, 500, 500, "cloudflare", 5},
		{pt.CF502Branded, 502, 502, "origin", 30},
		{pt.CF504Branded, 504, 504, "origin", 30},
		{pt.CF520, 520, 520, "origin", 30},
		{pt.CF521, 521, 521, "origin", 30},
		{pt.CF522, 522, 522, "origin", 60},
		{pt.CF523, 523, 523, "origin", 30},
		{pt.CF524, 524, 524, "origin", 60},
		{pt.CF525, 525, 525, "ssl", 0},
		{pt.CF526, 526, 526, "ssl", 0},
		{pt.CF530, 530, 1016, "origin", 60},
		{pt.CF1015, 429, 1015, "rate_limit", 30},
		{pt.CF1020, 403, 1020, "access_denied", 0},
	}
	accepts := []struct {
		accept string
		format pt.Format
		ctype  string // "" = HTML
	}{
		{"application/json", pt.FormatAuto, "application/json; charset=utf-8"},
		{"application/problem+json", "", "application/problem+json; charset=utf-8"},
		{"application/json, text/markdown;q=0.9", pt.FormatAuto, "application/json; charset=utf-8"},
		{"text/markdown;q=0.5, application/json", pt.FormatAuto, "application/json; charset=utf-8"},
		{"*/*", pt.FormatAuto, ""},
		{"", pt.FormatAuto, ""},
		{"text/html,application/json;q=0.9", pt.FormatAuto, ""},
		{"application/json", pt.FormatHTML, ""},
		{"", pt.FormatJSON, "application/json; charset=utf-8"},
	}
	s := newServer(t, false, pt.Options{})
	for _, c := range structured {
		for _, a := range accepts {
			t.Run(c.kind.String()+" with Accept "+a.accept+" and format "+string(a.format), func(t *testing.T) {
				s.InjectN("openai", pt.Fault{Kind: c.kind, Format: a.format}, 1)
				req := chatRequest(t, s, "openai", "test-key", false)
				if a.accept != "" {
					req.Header.Set("Accept", a.accept)
				}
				got := do(t, s, req, roomy)
				if got.err != nil {
					t.Fatal(got.err)
				}
				if got.resp.StatusCode != c.status {
					t.Errorf("status %d, want %d", got.resp.StatusCode, c.status)
				}
				ct := got.resp.Header.Get("Content-Type")
				if a.ctype == "" {
					if !strings.HasPrefix(ct, "text/html") || !strings.Contains(got.body, "Cloudflare Ray ID: <strong") {
						t.Errorf("content-type %q body %.200s, want the HTML page", ct, got.body)
					}
					return
				}
				if ct != a.ctype {
					t.Errorf("content-type %q, want %q", ct, a.ctype)
				}
				var p problem
				if err := json.Unmarshal([]byte(got.body), &p); err != nil {
					t.Fatalf("problem JSON: %v in %s", err, got.body)
				}
				ray := strings.TrimSuffix(got.resp.Header.Get("Cf-Ray"), "-FRA")
				if p.Status != c.status || p.ErrorCode != c.code || p.ErrorCategory != c.category ||
					p.Instance != ray || p.RayID != ray || p.Title == "" || p.Detail == "" || p.ErrorName == "" ||
					!strings.HasSuffix(p.Type, "/error-"+strconv.Itoa(c.code)+"/") {
					t.Errorf("problem %+v, want status %d code %d category %s ray %s", p, c.status, c.code, c.category, ray)
				}
				if p.Retryable != (c.retryAfter > 0) || p.RetryAfter != c.retryAfter {
					t.Errorf("retryable %v retry_after %d, want %d", p.Retryable, p.RetryAfter, c.retryAfter)
				}
				if ra := got.resp.Header.Get("Retry-After"); c.retryAfter > 0 && ra != strconv.Itoa(c.retryAfter) || c.retryAfter == 0 && ra != "" {
					t.Errorf("Retry-After %q, want %d", ra, c.retryAfter)
				}
				if got.resp.Header.Get("X-Request-Id") != "" {
					t.Error("an edge page carries an origin header")
				}
			})
		}
	}
}

func TestHTMLOnlyKindsIgnoreFormat(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for _, kind := range []pt.FaultKind{pt.CF503Branded, pt.CF527, pt.CF502Unbranded, pt.CF504Unbranded, pt.CFChallenge, pt.GFE502, pt.HTML200} {
		for _, format := range []pt.Format{pt.FormatAuto, pt.FormatJSON} {
			t.Run(kind.String()+" with format "+string(format), func(t *testing.T) {
				s.InjectN("openai", pt.Fault{Kind: kind, Format: format}, 1)
				req := chatRequest(t, s, "openai", "test-key", false)
				req.Header.Set("Accept", "application/json")
				got := do(t, s, req, roomy)
				if got.err != nil || !strings.HasPrefix(got.resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("%v %v, want HTML", got.resp, got.err)
				}
			})
		}
	}
}

func TestBrandedPagesMarkWhereCloudflarePutsTheFault(t *testing.T) {
	s := newServer(t, false, pt.Options{POP: "AMS"})
	cases := []struct {
		kind   pt.FaultKind
		failed string // the status box with Error
	}{
		{pt.CF500, "cf-cloudflare-status"},
		{pt.CF502Branded, "cf-host-status"},
		{pt.CF503Branded, "cf-host-status"},
		{pt.CF504Branded, "cf-host-status"},
		{pt.CF520, "cf-host-status"},
		{pt.CF522, "cf-host-status"},
		{pt.CF526, "cf-host-status"},
	}
	boxes := []string{"cf-browser-status", "cf-cloudflare-status", "cf-host-status"}
	for _, c := range cases {
		t.Run(c.kind.String(), func(t *testing.T) {
			s.InjectN("anthropic", pt.Fault{Kind: c.kind}, 1)
			got := do(t, s, chatRequest(t, s, "anthropic", "test-key", false), roomy)
			if got.err != nil {
				t.Fatal(got.err)
			}
			for _, box := range boxes {
				failed := regexp.MustCompile(`id="` + box + `"[^>]*cf-error-source`).MatchString(got.body)
				if failed != (box == c.failed) {
					t.Errorf("box %s failed=%v, want %v", box, failed, box == c.failed)
				}
			}
			ray := strings.TrimSuffix(got.resp.Header.Get("Cf-Ray"), "-AMS")
			h := got.resp.Header
			if !strings.Contains(got.body, "<title>127.0.0.1 | ") || !strings.Contains(got.body, `<div id="cf-wrapper">`) ||
				!strings.Contains(got.body, `Cloudflare Ray ID: <strong class="font-semibold">`+ray+`</strong>`) ||
				!strings.Contains(got.body, "Amsterdam") ||
				h.Get("Expires") != "Thu, 01 Jan 1970 00:00:01 GMT" || h.Get("Referrer-Policy") != "same-origin" ||
				!strings.Contains(h.Get("Cache-Control"), "no-store") {
				t.Errorf("page or headers do not follow the template: %v\n%.600s", h, got.body)
			}
		})
	}
}

func TestChallengeAndPolicyPagesCarryTheirMarkers(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	s.InjectN("openai", pt.Fault{Kind: pt.CFChallenge}, 1)
	got := do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
	if got.resp.Header.Get("Cf-Mitigated") != "challenge" || !strings.Contains(got.body, "<title>Just a moment...</title>") ||
		!strings.Contains(got.body, "_cf_chl_opt") {
		t.Errorf("challenge: %v %.300s", got.resp.Header, got.body)
	}
	s.InjectN("openai", pt.Fault{Kind: pt.CF1015}, 1)
	got = do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
	if got.resp.Header.Get("Retry-After") != "30" || got.resp.Header.Get("X-Ratelimit-Remaining-Requests") != "" {
		t.Errorf("1015: %v", got.resp.Header)
	}
}

func TestOpenAIEdgeJSONMatchesTheCapturedBytes(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for kind, want := range map[pt.FaultKind]string{
		pt.OpenAICFBadGateway:     `{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}`,
		pt.OpenAICFGatewayTimeout: `{"error":{"code":524,"message":"Gateway timeout.","param":null,"type":"cf_gateway_timeout"}}`,
	} {
		s.InjectN("openai", pt.Fault{Kind: kind}, 1)
		got := do(t, s, chatRequest(t, s, "openai", "test-key", false), roomy)
		if got.err != nil || got.body != want || got.resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
			t.Errorf("%s: %q %v, want %q", kind, got.body, got.err, want)
		}
	}
}
