package probe

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// corpusCase is one line of testdata/corpus.jsonl, a copy of
// ../shared/corpus/cases.jsonl: a real response shape and its contract label.
type corpusCase struct {
	Name          string            `json:"name"`
	Provider      string            `json:"provider"`
	Check         Kind              `json:"check"`
	NoKey         bool              `json:"no_key"`
	Status        int               `json:"status"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	Transport     *string           `json:"transport"`
	TTFBms        float64           `json:"ttfb_ms"`
	ExpectOutcome Outcome           `json:"expect_outcome"`
	ExpectReason  Reason            `json:"expect_reason"`
}

// transportFaults maps the corpus's transport faults to what the prober
// reports for them (prober_test.go checks that mapping on real sockets).
var transportFaults = map[string]Failure{
	"dns_nxdomain": FailureDNS, "connect_refused": FailureConnectRefused, "connect_timeout": FailureConnectTimeout,
	"tls_handshake_failure": FailureTLSHandshake, "reset_before_headers": FailureResetBeforeHeaders,
	"stall_before_headers": FailureTTFBTimeout,
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	return loadCases(t, "testdata/corpus.jsonl", 30)
}

// loadCases reads a JSONL file of cases and checks it holds at least min.
func loadCases(t *testing.T, path string, min int) []corpusCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line: %v", err)
		}
		if c.Check == "" {
			c.Check = KindChat
		}
		cases = append(cases, c)
	}
	if len(cases) < min {
		t.Fatalf("%s has %d cases, want at least %d", path, len(cases), min)
	}
	return cases
}

// observe builds the observation the prober would make of a corpus case,
// running stream bodies through the real SSE reader.
func (c corpusCase) observe(t *testing.T) Observation {
	t.Helper()
	p, ok := LookupProvider(c.Provider)
	if !ok {
		t.Fatalf("%s: unknown provider %q", c.Name, c.Provider)
	}
	o := Observation{Provider: p.ID, API: WireAPI(p.API, p.DefaultModel), Kind: c.Check, Keyed: !c.NoKey, TTFB: time.Duration(c.TTFBms * float64(time.Millisecond))}
	if c.Transport != nil {
		switch *c.Transport {
		case "stall_mid_body":
			// headers and a first chunk came, then silence until the deadline
		default:
			o.Failure = transportFaults[*c.Transport]
			if o.Failure == "" {
				t.Fatalf("%s: unmapped transport %q", c.Name, *c.Transport)
			}
			return o
		}
	}
	o.StatusCode = c.Status
	o.Header = http.Header{}
	for k, v := range c.Headers {
		o.Header.Set(k, v)
	}
	if c.Check == KindStream && strings.Contains(o.Header.Get("Content-Type"), "event-stream") && c.Status/100 == 2 {
		tr := &phaseTrace{now: time.Now}
		o.Stream = readStream(strings.NewReader(c.Body), o.API, DefaultMaxBody, tr)
		if c.Transport != nil && *c.Transport == "stall_mid_body" {
			o.Stream.Stalled, o.Stream.Complete = true, false
		}
		return o
	}
	o.Body = []byte(c.Body)
	return o
}

func TestClassifyCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.Name, func(t *testing.T) {
			v := Classify(c.observe(t))
			if v.Outcome != c.ExpectOutcome || v.Reason != c.ExpectReason {
				t.Errorf("got %s/%s (%s), want %s/%s", v.Outcome, v.Reason, v.Message, c.ExpectOutcome, c.ExpectReason)
			}
			assertConsistent(t, v)
		})
	}
}

// TestClassifyWild replays testdata/wild.jsonl: real provider and CDN
// responses the classifier was not built from, each with its
// source. Every provider in it must be in the catalog.
func TestClassifyWild(t *testing.T) {
	for _, c := range loadCases(t, "testdata/wild.jsonl", 40) {
		t.Run(c.Name, func(t *testing.T) {
			v := Classify(c.observe(t))
			if v.Outcome != c.ExpectOutcome || v.Reason != c.ExpectReason {
				t.Errorf("got %s/%s (%s), want %s/%s", v.Outcome, v.Reason, v.Message, c.ExpectOutcome, c.ExpectReason)
			}
			assertConsistent(t, v)
		})
	}
}

// assertConsistent checks the invariants every verdict keeps.
func assertConsistent(t *testing.T, v Verdict) {
	t.Helper()
	if !v.Outcome.Known() {
		t.Fatalf("outcome %q is not a contract outcome", v.Outcome)
	}
	out, ok := OutcomeOf(v.Reason)
	if !ok {
		t.Fatalf("reason %q is not in the reason list", v.Reason)
	}
	if out != v.Outcome {
		t.Fatalf("reason %q belongs to %s, verdict says %s", v.Reason, out, v.Outcome)
	}
	switch v.AuthoredBy {
	case AuthorEdge, AuthorOrigin, AuthorNone:
	default:
		t.Fatalf("authored_by %q", v.AuthoredBy)
	}
	switch v.Edge {
	case EdgeCloudflare, EdgeGoogle, EdgeCloudFront, EdgeFastly, EdgeAkamai, EdgeAzure, EdgeEdgeOne, EdgeNone:
	default:
		t.Fatalf("edge %q", v.Edge)
	}
}

func TestClassifyReadsIdentity(t *testing.T) {
	o := Observation{Provider: "openai", API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 529,
		Header: http.Header{"Cf-Ray": {"8e695a03eed4f9fd-SJC"}, "Server": {"cloudflare"}, "Request-Id": {"req_01RCc7"}},
		Body:   []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)}
	v := Classify(o)
	want := Verdict{Outcome: OutcomeOriginError, Reason: ReasonOverloaded, AuthoredBy: AuthorOrigin, Edge: EdgeCloudflare,
		EdgePOP: "SJC", EdgeRay: "8e695a03eed4f9fd-SJC", RequestID: "req_01RCc7", Message: "HTTP 529: Overloaded"}
	if v != want {
		t.Fatalf("got  %+v\nwant %+v", v, want)
	}
}

// cfHTML is Cloudflare's branded error page with the status boxes.
func cfHTML(code int, title string, cfBox, hostBox string) string {
	return `<!DOCTYPE html><html><head><title>api.openai.com | ` + itoa(code) + `: ` + title + `</title>` +
		`<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" /></head><body><div id="cf-wrapper"><div id="cf-error-details">` +
		`<span class="code-label">Error code ` + itoa(code) + `</span>` +
		`<div id="cf-browser-status"><span class="cf-status-label">Working</span></div>` +
		`<div id="cf-cloudflare-status"><span class="cf-status-label">` + cfBox + `</span></div>` +
		`<div id="cf-host-status"><span class="cf-status-label">` + hostBox + `</span></div>` +
		`Cloudflare Ray ID: <strong>7b8af41e7b02b3f8</strong></div></div></body></html>`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func problemJSON(status, code int, category string) string {
	return `{"type":"https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/error-` + itoa(code) +
		`/","title":"Error ` + itoa(code) + `","status":` + itoa(status) + `,"detail":"x","instance":"9a0b7c6d5e4f3a21","error_code":` + itoa(code) +
		`,"error_category":"` + category + `","ray_id":"9a0b7c6d5e4f3a21","retryable":true}`
}

func TestClassifyPrinciples(t *testing.T) {
	cf := http.Header{"Server": {"cloudflare"}, "Cf-Ray": {"9a0b7c6d5e4f3a21-LHR"}}
	cfHTMLHeader := http.Header{"Server": {"cloudflare"}, "Cf-Ray": {"9a0b7c6d5e4f3a21-LHR"}, "Content-Type": {"text/html"}}
	openaiOrigin := http.Header{"Server": {"cloudflare"}, "Cf-Ray": {"9a0b7c6d5e4f3a21-LHR"}, "X-Request-Id": {"req_1"}, "Openai-Version": {"2020-10-01"}}
	tests := []struct {
		name    string
		o       Observation
		outcome Outcome
		reason  Reason
		author  string
	}{
		{"problem JSON with category cloudflare blames the edge",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 500, Header: cf, Body: []byte(problemJSON(500, 500, "cloudflare"))},
			OutcomeEdgeError, ReasonEdge5xx, AuthorEdge},
		{"problem JSON with category origin on a 502 blames the origin",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 502, Header: cf, Body: []byte(problemJSON(502, 502, "origin"))},
			OutcomeOriginError, ReasonOrigin5xx, AuthorEdge},
		{"problem JSON 522 is an origin timeout",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 522, Header: cf, Body: []byte(problemJSON(522, 522, "origin"))},
			OutcomeOriginError, ReasonOriginTimeout, AuthorEdge},
		{"problem JSON with category ssl is the origin's TLS",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 526, Header: cf, Body: []byte(problemJSON(526, 526, "ssl"))},
			OutcomeOriginError, ReasonOriginTLS, AuthorEdge},
		{"problem JSON 1015 is an edge rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Header: cf, Body: []byte(problemJSON(429, 1015, "rate_limit"))},
			OutcomeEdgeError, ReasonEdgeRateLimited, AuthorEdge},
		{"problem JSON 1020 is an edge block",
			Observation{Kind: KindReach, StatusCode: 403, Header: cf, Body: []byte(problemJSON(403, 1020, "access_denied"))},
			OutcomeEdgeError, ReasonEdgeBlocked, AuthorEdge},
		{"a 530 page naming 1016 says the origin's DNS is down",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 530, Header: cfHTMLHeader, Body: []byte(`<html><head><title>api.openai.com | 1016: Origin DNS error</title></head><body><div id="cf-wrapper">Error code 1016</div></body></html>`)},
			OutcomeOriginError, ReasonOriginDown, AuthorEdge},
		{"a branded 502 with the host box in error blames the origin",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 502, Header: cfHTMLHeader, Body: []byte(cfHTML(502, "Bad gateway", "Working", "Error"))},
			OutcomeOriginError, ReasonOrigin5xx, AuthorEdge},
		{"a branded 500 with the Cloudflare box in error blames the edge",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 500, Header: cfHTMLHeader, Body: []byte(cfHTML(500, "Internal server error", "Error", "Working"))},
			OutcomeEdgeError, ReasonEdge5xx, AuthorEdge},
		{"a branded 504 without box marks still means the origin's gateway timed out",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 504, Header: cfHTMLHeader, Body: []byte(cfHTML(504, "Gateway time-out", "Working", "Working"))},
			OutcomeOriginError, ReasonOriginTimeout, AuthorEdge},
		{"a branded 524 is an origin timeout",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 524, Header: cfHTMLHeader, Body: []byte(cfHTML(524, "A timeout occurred", "Working", "Error"))},
			OutcomeOriginError, ReasonOriginTimeout, AuthorEdge},
		{"the unbranded nginx 504 is Cloudflare's own failure",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 504, Header: cfHTMLHeader, Body: []byte("<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>cloudflare</center></body></html>")},
			OutcomeEdgeError, ReasonEdge5xx, AuthorEdge},
		{"plain error code 1015 is an edge rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Header: cf, Body: []byte("error code: 1015")},
			OutcomeEdgeError, ReasonEdgeRateLimited, AuthorEdge},
		{"plain error code 502 is the edge's own failure",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 502, Header: cf, Body: []byte("error code: 502")},
			OutcomeEdgeError, ReasonEdge5xx, AuthorEdge},
		{"cf-error-type marks a page Cloudflare generated",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 500, Header: http.Header{"Server": {"cloudflare"}, "Cf-Error-Type": {"1101"}}, Body: []byte("worker threw")},
			OutcomeEdgeError, ReasonEdge5xx, AuthorEdge},
		{"OpenAI's cf_gateway_timeout JSON is an origin timeout",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 524, Header: cf, Body: []byte(`{"error":{"code":524,"message":"Gateway timeout.","param":null,"type":"cf_gateway_timeout"}}`)},
			OutcomeOriginError, ReasonOriginTimeout, AuthorEdge},
		{"a Google Front End 429 page is an edge rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<title>Error 429 (Too Many Requests)!!1</title><p><b>429.</b> <ins>That’s an error.</ins>")},
			OutcomeEdgeError, ReasonEdgeRateLimited, AuthorEdge},
		{"an HTML 200 where the API answers JSON blames the edge",
			Observation{API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html><title>Sign in to Wi-Fi</title></html>")},
			OutcomeEdgeError, ReasonEdgeHTML, AuthorEdge},
		{"an HTML 503 with no CDN in front blames whatever fronts the API",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 503, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html><head><title>503 Service Unavailable</title></head></html>")},
			OutcomeEdgeError, ReasonEdgeHTML, AuthorEdge},
		{"an origin's own nginx 502 relayed through Cloudflare blames the origin",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 502, Header: cfHTMLHeader, Body: []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")},
			OutcomeOriginError, ReasonOrigin5xx, AuthorOrigin},
		{"an unmarked 502 through Cloudflare after 20 s is the edge waiting on the origin",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 502, Header: cf, Body: nil, TTFB: 20 * time.Second},
			OutcomeOriginError, ReasonOriginTimeout, AuthorOrigin},
		{"an unmarked 429 from the CDN is an edge rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Header: cf, Body: []byte("Too Many Requests")},
			OutcomeEdgeError, ReasonEdgeRateLimited, AuthorEdge},
		{"a 429 in plain text with origin headers is the origin's rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Header: openaiOrigin, Body: []byte("slow down")},
			OutcomeOriginError, ReasonRateLimited, AuthorOrigin},
		{"a keyless reach 403 without the provider's JSON is an edge block",
			Observation{Kind: KindReach, StatusCode: 403, Header: cf, Body: []byte("Forbidden")},
			OutcomeEdgeError, ReasonEdgeBlocked, AuthorEdge},
		{"a keyed reach 401 in the provider's JSON is a bad key",
			Observation{Kind: KindReach, Keyed: true, StatusCode: 401, Header: openaiOrigin, Body: []byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)},
			OutcomeProbeError, ReasonAuth, AuthorOrigin},
		{"xAI's 400 for a bad key is an auth problem",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 400, Body: []byte(`{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***yy. You can obtain an API key from https://console.x.ai."}`)},
			OutcomeProbeError, ReasonAuth, AuthorOrigin},
		{"DeepSeek's 402 is the probe's balance",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 402, Body: []byte(`{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}`)},
			OutcomeProbeError, ReasonQuota, AuthorOrigin},
		{"Anthropic's low credit balance 400 is quota",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 400, Body: []byte(`{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}`)},
			OutcomeProbeError, ReasonQuota, AuthorOrigin},
		{"Gemini's free-tier quota 429 is quota",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Body: []byte(`{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED"}}`)},
			OutcomeProbeError, ReasonQuota, AuthorOrigin},
		{"Gemini's capacity 429 is the origin's rate limit",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 429, Body: []byte(`{"error":{"code":429,"message":"Resource exhausted. Please try again later.","status":"RESOURCE_EXHAUSTED"}}`)},
			OutcomeOriginError, ReasonRateLimited, AuthorOrigin},
		{"a 404 in the provider's JSON is a missing model",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 404, Body: []byte(`{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`)},
			OutcomeProbeError, ReasonModelNotFound, AuthorOrigin},
		{"Gemini's 504 DEADLINE_EXCEEDED is an origin timeout",
			Observation{Kind: KindChat, Keyed: true, StatusCode: 504, Body: []byte(`{"error":{"code":504,"message":"Deadline expired","status":"DEADLINE_EXCEEDED"}}`)},
			OutcomeOriginError, ReasonOriginTimeout, AuthorOrigin},
		{"a redirect is the probe's base URL",
			Observation{Kind: KindReach, StatusCode: 301, Header: http.Header{"Location": {"https://example.com/"}}},
			OutcomeProbeError, ReasonBadRequest, AuthorOrigin},
		{"a 200 chat without choices is an invalid response",
			Observation{API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Header: openaiOrigin, Body: []byte(`{"choices":[]}`)},
			OutcomeOriginError, ReasonInvalidResponse, AuthorOrigin},
		{"OpenRouter's public model list is a reach success",
			Observation{API: APIOpenAI, Kind: KindReach, ReachPublic: true, StatusCode: 200, Body: []byte(`{"data":[{"id":"openai/gpt-4o-mini"}]}`)},
			OutcomeSuccess, ReasonOK, AuthorOrigin},
		{"a chat body cut mid-way after a 200 is an invalid response",
			Observation{API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Header: openaiOrigin, Body: []byte(`{"choi`), Failure: FailureBodyCut},
			OutcomeOriginError, ReasonInvalidResponse, AuthorOrigin},
		{"a chat body that stalls after the headers is a body timeout",
			Observation{API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Header: openaiOrigin, Body: []byte(`{"choi`), Failure: FailureBodyTimeout},
			OutcomeOriginError, ReasonBodyTimeout, AuthorOrigin},
		{"a missing key never sends a request",
			Observation{Kind: KindChat, Failure: FailureNoAPIKey, UsualEdge: EdgeCloudflare},
			OutcomeProbeError, ReasonNoAPIKey, AuthorNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.o.API == "" {
				tt.o.API = APIOpenAI
			}
			v := Classify(tt.o)
			if v.Outcome != tt.outcome || v.Reason != tt.reason || v.AuthoredBy != tt.author {
				t.Errorf("got %s/%s by %s (%s), want %s/%s by %s", v.Outcome, v.Reason, v.AuthoredBy, v.Message, tt.outcome, tt.reason, tt.author)
			}
			assertConsistent(t, v)
		})
	}
}

func TestClassifyStreams(t *testing.T) {
	tests := []struct {
		name    string
		api     API
		body    string
		outcome Outcome
		reason  Reason
		content string
	}{
		{"an OpenAI stream ending in DONE succeeds", APIOpenAI,
			"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"pong\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
			OutcomeSuccess, ReasonOK, "pong"},
		{"an OpenAI stream cut before DONE and finish is a stream error", APIOpenAI,
			"data: {\"choices\":[{\"delta\":{\"content\":\"po\"}}]}\n\n",
			OutcomeOriginError, ReasonStreamError, "po"},
		{"an OpenAI error chunk after the 200 names overload", APIOpenAI,
			"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"server_is_overloaded\"}}\n\n",
			OutcomeOriginError, ReasonOverloaded, ""},
		{"an Anthropic stream with message_stop succeeds, CRLF and pings included", APIAnthropic,
			"event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":8,\"output_tokens\":1}}}\r\n\r\nevent: ping\r\ndata: {\"type\":\"ping\"}\r\n\r\nevent: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"pong\"}}\r\n\r\nevent: message_delta\r\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":2}}\r\n\r\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
			OutcomeSuccess, ReasonOK, "pong"},
		{"an Anthropic error event that is not overload is a stream error", APIAnthropic,
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal server error\"}}\n\n",
			OutcomeOriginError, ReasonStreamError, ""},
		{"a Gemini stream ends with a finish reason and a clean end", APIGemini,
			"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"pong\"}]}}]}\n\ndata: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":7,\"candidatesTokenCount\":1}}\n\n",
			OutcomeSuccess, ReasonOK, "pong"},
		{"a Gemini stream without a finish reason was cut", APIGemini,
			"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"po\"}]}}]}\n\n",
			OutcomeOriginError, ReasonStreamError, "po"},
		{"a complete stream without any content is an invalid response", APIOpenAI,
			"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
			OutcomeOriginError, ReasonInvalidResponse, ""},
		{"DeepSeek keep-alive comments are skipped", APIOpenAI,
			": keep-alive\n\n: keep-alive\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"pong\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
			OutcomeSuccess, ReasonOK, "pong"},
		{"a last event without its blank line was cut", APIAnthropic,
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"pong\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}",
			OutcomeOriginError, ReasonStreamError, "pong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := readStream(strings.NewReader(tt.body), tt.api, DefaultMaxBody, &phaseTrace{now: time.Now})
			v := Classify(Observation{API: tt.api, Kind: KindStream, Keyed: true, StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Stream: so})
			if v.Outcome != tt.outcome || v.Reason != tt.reason || v.Content != tt.content {
				t.Errorf("got %s/%s content %q (%s), want %s/%s content %q", v.Outcome, v.Reason, v.Content, v.Message, tt.outcome, tt.reason, tt.content)
			}
			assertConsistent(t, v)
		})
	}
}

func TestReasonListIsConsistent(t *testing.T) {
	seen := map[Reason]bool{}
	perOutcome := map[Outcome]int{}
	for _, r := range Reasons {
		if seen[r.Reason] {
			t.Errorf("reason %q listed twice", r.Reason)
		}
		seen[r.Reason] = true
		if !r.Outcome.Known() {
			t.Errorf("reason %q has outcome %q", r.Reason, r.Outcome)
		}
		if r.Meaning == "" {
			t.Errorf("reason %q has no meaning", r.Reason)
		}
		for _, c := range string(r.Reason) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				t.Errorf("reason %q is not snake_case", r.Reason)
			}
		}
		perOutcome[r.Outcome]++
	}
	for _, o := range Outcomes {
		if perOutcome[o] == 0 {
			t.Errorf("outcome %s has no reason", o)
		}
	}
}

// FuzzClassify checks that no observation makes the classifier panic or
// step outside the contract: one valid outcome, a listed reason of that
// outcome, a known author and edge.
func FuzzClassify(f *testing.F) {
	for _, seed := range []struct {
		status  int
		header  string
		body    string
		failure uint8
		kind    uint8
	}{
		{200, "Content-Type: application/json", `{"choices":[{"message":{"content":"pong"}}]}`, 0, 1},
		{520, "Server: cloudflare", "<title>x | 520: y</title><div id=\"cf-wrapper\">", 0, 1},
		{429, "Cf-Mitigated: challenge", "error code: 1015", 0, 0},
		{502, "", `{"error":{"type":"cf_bad_gateway","code":502}}`, 0, 1},
		{500, "Content-Type: application/problem+json", problemJSON(500, 500, "cloudflare"), 0, 2},
		{0, "", "", 3, 1},
		{200, "Content-Type: text/event-stream", "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n", 0, 2},
	} {
		f.Add(seed.status, seed.header, []byte(seed.body), seed.failure, seed.kind)
	}
	failures := []Failure{FailureNone, FailureDNS, FailureConnectRefused, FailureConnectTimeout, FailureNoRoute, FailureTLSHandshake,
		FailureTLSCertificate, FailureResetBeforeHeaders, FailureTTFBTimeout, FailureBodyTimeout, FailureBodyCut, FailureNoAPIKey, FailureBudget, FailureInternal}
	apis := []API{APIOpenAI, APIAnthropic, APIGemini, APIAzure}
	f.Fuzz(func(t *testing.T, status int, rawHeader string, body []byte, failure, kind uint8) {
		h := http.Header{}
		for _, line := range strings.Split(rawHeader, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		o := Observation{API: apis[int(kind)%len(apis)], Kind: Kinds[int(kind)%len(Kinds)], Keyed: kind&4 != 0,
			Failure: failures[int(failure)%len(failures)], StatusCode: status % 1000, Header: h, Body: body, TTFB: time.Duration(kind) * time.Second}
		if o.StatusCode < 0 {
			o.StatusCode = -o.StatusCode
		}
		if o.Kind == KindStream && o.StatusCode/100 == 2 && strings.Contains(h.Get("Content-Type"), "event-stream") {
			o.Stream = readStream(strings.NewReader(string(body)), o.API, 1<<16, &phaseTrace{now: time.Now})
			o.Body = nil
		}
		assertConsistent(t, Classify(o))
	})
}
