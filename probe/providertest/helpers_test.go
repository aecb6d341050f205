package providertest_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe/providertest"
)

// roomy bounds an exchange that must not time out: it only catches a hang,
// so a loaded machine (CI runs -race on two shared cores) never fails it.
const roomy = time.Minute

// stallTimeout is the client deadline for an exchange that must end by its
// deadline: long enough that connect, TLS and headers always come first.
const stallTimeout = 3 * time.Second

// newServer starts a fake edge for one test and closes it at cleanup.
func newServer(t *testing.T, useTLS bool, opts providertest.Options) *providertest.Server {
	t.Helper()
	var s *providertest.Server
	if useTLS {
		s = providertest.NewTLSServer(opts)
	} else {
		s = providertest.NewServer(opts)
	}
	t.Cleanup(s.Close)
	return s
}

// schemes runs f over plain HTTP and HTTPS.
var schemes = []struct {
	name string
	tls  bool
}{{"over HTTP", false}, {"over HTTPS", true}}

// providers the table tests address, one per schema (mistral stands for
// every OpenAI-compatible id other than openai).
var providers = []string{"openai", "mistral", "anthropic", "gemini", "azure"}

// chatRequest builds the minimal probe a prober would send to provider,
// with key ("" = keyless).
func chatRequest(t *testing.T, s *providertest.Server, provider, key string, stream bool) *http.Request {
	t.Helper()
	base := s.BaseURL(provider)
	var url, body string
	h := http.Header{"Content-Type": {"application/json"}}
	switch provider {
	case "anthropic":
		url = base + "/v1/messages"
		body = `{"model":"claude-haiku-4-5","max_tokens":5,"messages":[{"role":"user","content":"reply with pong"}]` + streamField(stream) + `}`
		h.Set("anthropic-version", "2023-06-01")
		if key != "" {
			h.Set("x-api-key", key)
		}
	case "gemini":
		url = base + "/v1beta/models/gemini-2.5-flash:generateContent"
		if stream {
			url = base + "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
		}
		body = `{"contents":[{"parts":[{"text":"reply with pong"}]}],"generationConfig":{"maxOutputTokens":5}}`
		if key != "" {
			h.Set("x-goog-api-key", key)
		}
	case "azure":
		url = base + "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
		body = `{"messages":[{"role":"user","content":"reply with pong"}],"max_tokens":5` + streamField(stream) + `}`
		if key != "" {
			h.Set("api-key", key)
		}
	default:
		url = base + "/chat/completions"
		body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"reply with pong"}],"max_completion_tokens":5` + streamField(stream) + `}`
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	return req
}

func streamField(stream bool) string {
	if stream {
		return `,"stream":true,"stream_options":{"include_usage":true}`
	}
	return ""
}

// reachRequest is the keyless-or-keyed model list request of a reach check.
func reachRequest(t *testing.T, s *providertest.Server, provider, key string) *http.Request {
	t.Helper()
	base := s.BaseURL(provider)
	var url string
	h := http.Header{}
	switch provider {
	case "anthropic":
		url = base + "/v1/models"
		if key != "" {
			h.Set("x-api-key", key)
		}
	case "gemini":
		url = base + "/v1beta/models"
		if key != "" {
			h.Set("x-goog-api-key", key)
		}
	case "azure":
		url = base + "/openai/models?api-version=2024-10-21"
		if key != "" {
			h.Set("api-key", key)
		}
	default:
		url = base + "/models"
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	return req
}

// originMarker is the header only the provider's application sets.
func originMarker(provider string) string {
	switch provider {
	case "anthropic":
		return "Request-Id"
	case "gemini":
		return "Server-Timing"
	case "azure":
		return "Apim-Request-Id"
	}
	return "X-Request-Id"
}

// exchange is one finished request as a test sees it.
type exchange struct {
	resp *http.Response
	body string
	err  error // transport error, or body read error after the headers
}

// do sends req with the server's client, bounded by timeout, and reads the
// whole body.
func do(t *testing.T, s *providertest.Server, req *http.Request, timeout time.Duration) exchange {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := s.Client().Do(req.WithContext(ctx))
	if err != nil {
		return exchange{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return exchange{resp: resp, body: string(b), err: err}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// readEvent reads the next SSE event; it accepts LF and CRLF line ends.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data += strings.TrimPrefix(line, "data: ")
		}
	}
}

// readEvents reads events until the body ends; err is nil on a clean end.
func readEvents(body io.Reader) ([]sseEvent, error) {
	r := bufio.NewReader(body)
	var evs []sseEvent
	for {
		ev, err := readEvent(r)
		if err == io.EOF {
			return evs, nil
		}
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}
