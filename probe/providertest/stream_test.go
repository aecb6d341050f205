package providertest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	pt "github.com/llmprobe/llmprobe/probe/providertest"
)

// openStream sends a streaming chat request and returns the response; the
// caller reads and closes it.
func openStream(t *testing.T, ctx context.Context, s *pt.Server, provider string) *bufio.Reader {
	t.Helper()
	resp, err := s.Client().Do(chatRequest(t, s, provider, "test-key", true).WithContext(ctx))
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get(originMarker(provider)) == "" || resp.Header.Get("Cf-Ray") == "" {
		t.Errorf("stream headers lack origin or edge markers: %v", resp.Header)
	}
	return bufio.NewReader(resp.Body)
}

// shape reduces events to what their order is judged by.
func shape(provider string, evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		switch provider {
		case "anthropic":
			out[i] = ev.name
		case "gemini":
			var c struct {
				Candidates []struct {
					Content      struct{ Parts []struct{ Text string } }
					FinishReason string
				}
				UsageMetadata struct{ CandidatesTokenCount int }
				Error         *struct{ Status string }
			}
			_ = json.Unmarshal([]byte(ev.data), &c)
			switch {
			case c.Error != nil:
				out[i] = "error:" + c.Error.Status
			case c.Candidates[0].FinishReason != "":
				out[i] = "finish:" + c.Candidates[0].FinishReason + ":usage=" + strconv.Itoa(c.UsageMetadata.CandidatesTokenCount)
			default:
				out[i] = "text:" + c.Candidates[0].Content.Parts[0].Text
			}
		default:
			if ev.data == "[DONE]" {
				out[i] = "[DONE]"
				continue
			}
			var c struct {
				Choices []struct {
					Delta struct {
						Role    string
						Content *string
					}
					FinishReason *string `json:"finish_reason"`
				}
				Usage *struct {
					CompletionTokens int `json:"completion_tokens"`
				}
				Error *struct{ Code string }
			}
			_ = json.Unmarshal([]byte(ev.data), &c)
			switch {
			case c.Error != nil:
				out[i] = "error:" + c.Error.Code
			case len(c.Choices) == 0 && c.Usage != nil:
				out[i] = "usage=" + strconv.Itoa(c.Usage.CompletionTokens)
			case c.Choices[0].Delta.Role != "":
				out[i] = "role:" + c.Choices[0].Delta.Role
			case c.Choices[0].FinishReason != nil:
				out[i] = "finish:" + *c.Choices[0].FinishReason
			case c.Choices[0].Delta.Content != nil:
				out[i] = "text:" + *c.Choices[0].Delta.Content
			}
		}
	}
	return out
}

var healthyStreams = map[string][]string{
	"openai":    {"role:assistant", "text:pong", "finish:stop", "usage=1", "[DONE]"},
	"mistral":   {"role:assistant", "text:pong", "finish:stop", "usage=1", "[DONE]"},
	"azure":     {"role:assistant", "text:pong", "finish:stop", "usage=1", "[DONE]"},
	"anthropic": {"message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"},
	"gemini":    {"text:pong", "finish:STOP:usage=1"},
}

func TestHealthyStreamsKeepTheProvidersEventOrderAndEnd(t *testing.T) {
	for _, sc := range schemes {
		s := newServer(t, sc.tls, pt.Options{})
		for _, provider := range providers {
			t.Run(provider+" "+sc.name, func(t *testing.T) {
				evs, err := readEvents(openStream(t, context.Background(), s, provider))
				if err != nil {
					t.Fatalf("stream ended with %v", err)
				}
				if got, want := shape(provider, evs), healthyStreams[provider]; strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("events %v, want %v", got, want)
				}
			})
		}
	}
}

func TestGeminiStreamsUseCRLFAndNonSSEStreamsAreOneJSONArray(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	resp, err := s.Client().Do(chatRequest(t, s, "gemini", "test-key", true))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "data: {") || !strings.Contains(string(b), "}\r\n\r\ndata: ") {
		t.Errorf("gemini SSE framing: %q", b)
	}
	req := chatRequest(t, s, "gemini", "test-key", true)
	req.URL.RawQuery = ""
	got := do(t, s, req, roomy)
	var chunks []json.RawMessage
	if err := json.Unmarshal([]byte(got.body), &chunks); err != nil || len(chunks) != 2 {
		t.Errorf("without alt=sse: %v %s", err, got.body)
	}
}

func TestErrorEventMidStreamEndsWithTheProvidersErrorEvent(t *testing.T) {
	want := map[string]string{
		"openai":    "error:server_is_overloaded",
		"mistral":   "error:server_is_overloaded",
		"azure":     "error:server_is_overloaded",
		"anthropic": "error",
		"gemini":    "error:UNAVAILABLE",
	}
	for _, sc := range schemes {
		s := newServer(t, sc.tls, pt.Options{})
		s.Inject("", pt.Fault{Kind: pt.ErrorEventMidStream})
		for _, provider := range providers {
			t.Run(provider+" "+sc.name, func(t *testing.T) {
				evs, err := readEvents(openStream(t, context.Background(), s, provider))
				if err != nil {
					t.Fatalf("stream ended with %v, want a clean end after the error event", err)
				}
				got := shape(provider, evs)
				if len(got) < 2 || got[len(got)-1] != want[provider] {
					t.Errorf("events %v, want first events then %s", got, want[provider])
				}
				if provider == "anthropic" && !strings.Contains(evs[len(evs)-1].data, `"type":"overloaded_error"`) {
					t.Errorf("anthropic error event %q", evs[len(evs)-1].data)
				}
			})
		}
	}
}

func TestCutMidStreamBreaksTheStreamBeforeItsEnd(t *testing.T) {
	for _, sc := range schemes {
		s := newServer(t, sc.tls, pt.Options{})
		s.Inject("", pt.Fault{Kind: pt.CutMidStream})
		for _, provider := range providers {
			t.Run(provider+" "+sc.name, func(t *testing.T) {
				evs, err := readEvents(openStream(t, context.Background(), s, provider))
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("stream ended with %v, want unexpected EOF", err)
				}
				full := healthyStreams[provider]
				if got := shape(provider, evs); len(got) == 0 || len(got) >= len(full) ||
					strings.Join(got, " ") != strings.Join(full[:len(got)], " ") {
					t.Errorf("events %v, want a strict prefix of %v", got, full)
				}
			})
		}
	}
}

func TestStallMidStreamSendsTheFirstEventThenWaitsForTheClient(t *testing.T) {
	first := map[string]string{
		"openai": "role:assistant", "mistral": "role:assistant", "azure": "role:assistant",
		"anthropic": "message_start", "gemini": "text:pong",
	}
	for _, sc := range schemes {
		s := newServer(t, sc.tls, pt.Options{})
		s.Inject("", pt.Fault{Kind: pt.StallMidStream})
		for _, provider := range providers {
			t.Run(provider+" "+sc.name, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				r := openStream(t, ctx, s, provider)
				ev, err := readEvent(r)
				if err != nil || shape(provider, []sseEvent{ev})[0] != first[provider] {
					t.Fatalf("first event %+v %v, want %s", ev, err, first[provider])
				}
				done := make(chan error, 1)
				go func() {
					_, err := readEvent(r)
					done <- err
				}()
				select {
				case err := <-done:
					t.Fatalf("the stall ended by itself: %v", err)
				case <-time.After(50 * time.Millisecond):
				}
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("after cancel: %v, want context.Canceled", err)
				}
			})
		}
	}
}

func TestMistralStreamsCarryUsageWithoutStreamOptions(t *testing.T) {
	s := newServer(t, false, pt.Options{})
	req := chatRequest(t, s, "mistral", "test-key", true)
	req.Body = io.NopCloser(strings.NewReader(`{"model":"mistral-small-latest","messages":[{"role":"user","content":"x"}],"max_tokens":5,"stream":true}`))
	req.ContentLength = -1
	req.GetBody = nil
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	evs, err := readEvents(resp.Body)
	if err != nil || len(evs) != 4 || !strings.Contains(evs[2].data, `"finish_reason":"stop"`) ||
		!strings.Contains(evs[2].data, `"completion_tokens":1`) || evs[3].data != "[DONE]" {
		t.Errorf("%v %+v", err, evs)
	}
}
