package providertest_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

func TestKeylessWrongAndRightKeyPerProvider(t *testing.T) {
	cases := []struct {
		provider string
		key      string
		status   int
		contains string
	}{
		{"openai", "", 401, "You didn't provide an API key"},
		{"openai", "sk-wrong-key-0000abcd", 401, `"code":"invalid_api_key"`},
		{"openai", "test-key", 200, `"object":"list"`},
		{"mistral", "", 401, "You didn't provide an API key"},
		{"mistral", "sk-wrong-key-0000abcd", 401, `"code":"invalid_api_key"`},
		{"mistral", "test-key", 200, `"object":"list"`},
		{"anthropic", "", 401, `"message":"x-api-key header is required"`},
		{"anthropic", "wrong", 401, `"message":"invalid x-api-key"`},
		{"anthropic", "test-key", 200, `"type":"model"`},
		{"gemini", "", 403, `"status":"PERMISSION_DENIED"`},
		{"gemini", "wrong", 400, `"reason":"API_KEY_INVALID"`},
		{"gemini", "test-key", 200, `"models/gemini-2.5-flash"`},
		{"azure", "", 401, "Access denied due to invalid subscription key or wrong API endpoint."},
		{"azure", "wrong", 401, `"code":"401"`},
		{"azure", "test-key", 200, `"object":"list"`},
	}
	for _, sc := range schemes {
		s := newServer(t, sc.tls, pt.Options{})
		for _, c := range cases {
			name := c.provider + " with key " + c.key
			if c.key == "" {
				name = c.provider + " without a key"
			}
			t.Run(name+" "+sc.name, func(t *testing.T) {
				for _, req := range []*http.Request{reachRequest(t, s, c.provider, c.key), chatRequest(t, s, c.provider, c.key, false)} {
					got := do(t, s, req, roomy)
					if got.err != nil {
						t.Fatal(got.err)
					}
					want, contains := c.status, c.contains
					if req.Method == http.MethodPost && c.status == 200 {
						contains = "pong"
					}
					if got.resp.StatusCode != want || !strings.Contains(got.body, contains) {
						t.Errorf("%s %s: %d %.300s; want %d with %q", req.Method, req.URL.Path, got.resp.StatusCode, got.body, want, contains)
					}
					if got.resp.Header.Get(originMarker(c.provider)) == "" {
						t.Errorf("%s: no origin marker %s on the origin's answer", req.URL.Path, originMarker(c.provider))
					}
					if strings.Contains(got.body, "sk-wrong-key-0000abcd") {
						t.Errorf("the wrong key is echoed in full")
					}
				}
			})
		}
	}
}

func TestGeminiAcceptsTheKeyInTheQuery(t *testing.T) {
	s := newServer(t, false, pt.Options{APIKey: "k1"})
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL("gemini")+"/v1beta/models?key=k1", nil)
	if got := do(t, s, req, roomy); got.err != nil || got.resp.StatusCode != 200 {
		t.Fatalf("got %v %v", got.resp, got.err)
	}
}

func TestHealthyAnswersCarryPongUsageAndOriginHeaders(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			got := do(t, s, chatRequest(t, s, provider, "test-key", false), roomy)
			if got.err != nil || got.resp.StatusCode != 200 {
				t.Fatalf("%v %v", got.resp, got.err)
			}
			var v struct {
				Choices []struct {
					Message struct{ Content string }
				}
				Content    []struct{ Text string }
				Candidates []struct {
					Content struct{ Parts []struct{ Text string } }
				}
				Usage struct {
					PromptTokens int `json:"prompt_tokens"`
					InputTokens  int `json:"input_tokens"`
				}
				UsageMetadata struct{ PromptTokenCount int }
			}
			if err := json.Unmarshal([]byte(got.body), &v); err != nil {
				t.Fatal(err)
			}
			var text string
			var usage int
			switch provider {
			case "anthropic":
				text, usage = v.Content[0].Text, v.Usage.InputTokens
			case "gemini":
				text, usage = v.Candidates[0].Content.Parts[0].Text, v.UsageMetadata.PromptTokenCount
			default:
				text, usage = v.Choices[0].Message.Content, v.Usage.PromptTokens
			}
			if text != "pong" || usage == 0 {
				t.Errorf("text %q usage %d in %s", text, usage, got.body)
			}
			h := got.resp.Header
			switch provider {
			case "openai", "mistral":
				if !strings.HasPrefix(h.Get("X-Request-Id"), "req_") || len(h.Get("X-Request-Id")) != 36 ||
					h.Get("Openai-Version") != "2020-10-01" || h.Get("Openai-Processing-Ms") == "" ||
					h.Get("X-Ratelimit-Remaining-Requests") == "" || h.Get("X-Ratelimit-Reset-Tokens") == "" {
					t.Errorf("OpenAI origin headers missing: %v", h)
				}
			case "anthropic":
				if !strings.HasPrefix(h.Get("Request-Id"), "req_") || h.Get("Via") != "1.1 google" ||
					h.Get("Anthropic-Ratelimit-Requests-Remaining") == "" || h.Get("Anthropic-Ratelimit-Tokens-Reset") == "" {
					t.Errorf("Anthropic origin headers missing: %v", h)
				}
			case "gemini":
				if !strings.HasPrefix(h.Get("Server-Timing"), "gfet4t7; dur=") {
					t.Errorf("Gemini origin headers missing: %v", h)
				}
			}
			if h.Get("Cf-Cache-Status") != "DYNAMIC" {
				t.Errorf("cf-cache-status %q", h.Get("Cf-Cache-Status"))
			}
		})
	}
}

func TestEdgeModesStampTheirOwnHeaders(t *testing.T) {
	cases := []struct {
		name       string
		opts       pt.Options
		provider   string
		server     string
		ray        string // suffix, "" = no cf-ray
		altSvc     bool
		originSide string // a header the origin sets that must survive
	}{
		{"cloudflare replaces the gemini server header", pt.Options{POP: "SJC"}, "gemini", "cloudflare", "-SJC", false, "Server-Timing"},
		{"cloudflare carries openai", pt.Options{}, "openai", "cloudflare", "-FRA", false, "X-Request-Id"},
		{"google front end keeps scaffolding", pt.Options{Edge: pt.EdgeGoogle}, "gemini", "scaffolding on HTTPServer2", "", true, "Server-Timing"},
		{"google front end adds alt-svc to others", pt.Options{Edge: pt.EdgeGoogle}, "anthropic", "", "", true, "Request-Id"},
		{"no edge adds nothing", pt.Options{Edge: pt.EdgeNone}, "gemini", "scaffolding on HTTPServer2", "", false, "Server-Timing"},
		{"no edge on openai", pt.Options{Edge: pt.EdgeNone}, "openai", "", "", false, "X-Request-Id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, false, c.opts)
			got := do(t, s, chatRequest(t, s, c.provider, "test-key", false), roomy)
			if got.err != nil {
				t.Fatal(got.err)
			}
			h := got.resp.Header
			if h.Get("Server") != c.server {
				t.Errorf("server %q, want %q", h.Get("Server"), c.server)
			}
			if ray := h.Get("Cf-Ray"); c.ray == "" && ray != "" || c.ray != "" && !strings.HasSuffix(ray, c.ray) {
				t.Errorf("cf-ray %q, want suffix %q", ray, c.ray)
			}
			if (h.Get("Alt-Svc") != "") != c.altSvc {
				t.Errorf("alt-svc %q, want present=%v", h.Get("Alt-Svc"), c.altSvc)
			}
			if h.Get(c.originSide) == "" {
				t.Errorf("origin header %s lost", c.originSide)
			}
		})
	}
}

func TestGoogleFrontEndPagesHaveNoScaffoldingServer(t *testing.T) {
	for _, edge := range []pt.Edge{pt.EdgeGoogle, pt.EdgeNone, pt.EdgeCloudflare} {
		t.Run(string(edge), func(t *testing.T) {
			s := newServer(t, false, pt.Options{Edge: edge})
			s.Inject("gemini", pt.Fault{Kind: pt.GFE502})
			got := do(t, s, chatRequest(t, s, "gemini", "test-key", false), roomy)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if got.resp.StatusCode != 502 || strings.Contains(got.resp.Header.Get("Server"), "scaffolding") ||
				got.resp.Header.Get("Server-Timing") != "" {
				t.Errorf("%d %v", got.resp.StatusCode, got.resp.Header)
			}
		})
	}
}

func TestUnknownPathsGetTheProvidersNotFoundAndUnknownPrefixesPlain404(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	cases := []struct {
		path, ctype, contains string
	}{
		{"/openai/v1/nothing", "application/json", "Invalid URL (GET /v1/nothing)"},
		{"/anthropic/v1/nothing", "application/json", `"type":"not_found_error"`},
		{"/gemini/v1beta/nothing", "application/json", `"status":"NOT_FOUND"`},
		{"/azure/openai/nothing?api-version=1", "application/json", "Resource not found"},
		{"/my-endpoint/v1/nothing", "application/json", "Invalid URL"}, // any /<id>/v1 is OpenAI-compatible
		{"/nobody/here", "text/plain", "404 page not found"},
		{"/", "text/plain", "404 page not found"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.URL()+c.path, nil)
			got := do(t, s, req, roomy)
			if got.err != nil || got.resp.StatusCode != 404 || !strings.HasPrefix(got.resp.Header.Get("Content-Type"), c.ctype) ||
				!strings.Contains(got.body, c.contains) {
				t.Errorf("got %v %q %v, want 404 %s with %q", got.resp, got.body, got.err, c.ctype, c.contains)
			}
		})
	}
}

func TestBaseURLShapesAndRegisteredCompatibleIDs(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for id, want := range map[string]string{
		"openai": "/openai/v1", "groq": "/groq/v1", "anthropic": "/anthropic", "gemini": "/gemini", "azure": "/azure",
		"local-llm": "/local-llm/v1",
	} {
		if got := s.BaseURL(id); got != s.URL()+want {
			t.Errorf("BaseURL(%q) = %q, want %q", id, got, s.URL()+want)
		}
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", s.URL())
	}
	got := do(t, s, chatRequest(t, s, "local-llm", "test-key", false), roomy)
	if got.err != nil || got.resp.StatusCode != 200 || s.Requests("local-llm") != 1 {
		t.Errorf("a registered id is not served: %v %v, %d requests", got.resp, got.err, s.Requests("local-llm"))
	}
}

func TestRequestsCountsPerProviderAndInTotal(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for range 3 {
		do(t, s, reachRequest(t, s, "openai", ""), roomy)
	}
	do(t, s, reachRequest(t, s, "gemini", ""), roomy)
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/favicon.ico", nil)
	do(t, s, req, roomy)
	if s.Requests("openai") != 3 || s.Requests("gemini") != 1 || s.Requests("anthropic") != 0 || s.Requests("") != 5 {
		t.Errorf("openai %d gemini %d anthropic %d all %d; want 3 1 0 5",
			s.Requests("openai"), s.Requests("gemini"), s.Requests("anthropic"), s.Requests(""))
	}
}

func TestTLSServerTrustsOnlyItsOwnCA(t *testing.T) {
	s := newServer(t, true, pt.Options{})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	// A client without the CA refuses the certificate.
	stranger := &http.Client{Transport: &http.Transport{}}
	defer stranger.CloseIdleConnections()
	_, err := stranger.Get(s.BaseURL("openai") + "/models")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("a client without the CA got %v, want an unknown authority error", err)
	}
	// The CA file is what CACertPEM returns, and a client built from it works.
	path, err := s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil || string(pemBytes) != string(s.CACertPEM()) || filepath.Base(path) != "ca.pem" {
		t.Fatalf("CA file %s: %v", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the CA PEM does not parse")
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		c := &http.Client{Transport: tr}
		u := strings.Replace(s.BaseURL("openai"), "127.0.0.1", host, 1) + "/models"
		resp, err := c.Get(u)
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		resp.Body.Close()
		if resp.ProtoMajor != 1 {
			t.Errorf("%s: protocol %s, want HTTP/1.1 only", host, resp.Proto)
		}
		tr.CloseIdleConnections()
	}
}

func TestPlainServerHasNoCA(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	if s.CACertPEM() != nil {
		t.Error("a plain HTTP server returned a CA")
	}
	if _, err := s.WriteCAFile(t.TempDir()); err == nil {
		t.Error("WriteCAFile succeeded without TLS")
	}
}

func TestUnstartedServerServesAfterStart(t *testing.T) {
	s := pt.NewUnstartedServer(pt.Options{})
	t.Cleanup(s.Close)
	if s.URL() != "" {
		t.Errorf("URL before Start = %q", s.URL())
	}
	s.StartTLS()
	got := do(t, s, reachRequest(t, s, "anthropic", "test-key"), roomy)
	if got.err != nil || got.resp.StatusCode != 200 {
		t.Fatalf("%v %v", got.resp, got.err)
	}
}

func TestCloseTwiceAndCloseUnstarted(t *testing.T) {
	s := pt.NewUnstartedServer(pt.Options{})
	s.Close()
	s.Close()
	s2 := pt.NewServer(pt.Options{})
	s2.Close()
	s2.Close()
}

func TestBadRequestBodiesGetTheProvidersValidationError(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	cases := []struct {
		name, provider, path, body, contains string
		header                               map[string]string
	}{
		{"openai without messages", "openai", "/chat/completions", `{"model":"gpt-4o-mini"}`, "too short", map[string]string{"Authorization": "Bearer test-key"}},
		{"openai with a broken body", "openai", "/chat/completions", `{`, "could not parse the JSON body", map[string]string{"Authorization": "Bearer test-key"}},
		{"anthropic without max_tokens", "anthropic", "/v1/messages", `{"model":"m","messages":[{"role":"user","content":"x"}]}`, "max_tokens: Field required",
			map[string]string{"x-api-key": "test-key", "anthropic-version": "2023-06-01"}},
		{"anthropic without a version header", "anthropic", "/v1/messages", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, "anthropic-version",
			map[string]string{"x-api-key": "test-key"}},
		{"gemini without contents", "gemini", "/v1beta/models/gemini-2.5-flash:generateContent", `{}`, "contents is not specified",
			map[string]string{"x-goog-api-key": "test-key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.BaseURL(c.provider)+c.path, strings.NewReader(c.body))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			got := do(t, s, req, roomy)
			if got.err != nil || got.resp.StatusCode != 400 || !strings.Contains(got.body, c.contains) {
				t.Errorf("%v %q %v, want 400 with %q", got.resp, got.body, got.err, c.contains)
			}
		})
	}
}

func TestAzureRoutesWorkWithAndWithoutTheOpenAISegment(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	for _, root := range []string{s.BaseURL("azure"), s.BaseURL("azure") + "/openai"} {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodGet, "/models?api-version=2024-10-21", ""},
			{http.MethodGet, "/deployments?api-version=2024-10-21", ""},
			{http.MethodPost, "/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", `{"messages":[{"role":"user","content":"x"}],"max_tokens":1}`},
		} {
			req, _ := http.NewRequest(c.method, root+c.path, strings.NewReader(c.body))
			req.Header.Set("api-key", "test-key")
			got := do(t, s, req, roomy)
			if got.err != nil || got.resp.StatusCode != 200 {
				t.Errorf("%s %s: %v %q %v", c.method, root+c.path, got.resp, got.body, got.err)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL("azure")+"/openai/models", nil)
	req.Header.Set("api-key", "test-key")
	if got := do(t, s, req, roomy); got.err != nil || got.resp.StatusCode != 404 {
		t.Errorf("without api-version: %v %v, want 404", got.resp, got.err)
	}
}
