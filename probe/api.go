package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Prompt is the fixed tiny prompt of chat and stream checks. Its expected
// answer, Canary, doubles as a correctness canary.
const (
	Prompt = "Reply with the single word pong."
	Canary = "pong"
)

// anthropicVersion is the API version header Anthropic requires.
const anthropicVersion = "2023-06-01"

// outgoing is one request a check sends, before it becomes an http.Request.
type outgoing struct {
	method string
	url    string
	header http.Header
	body   []byte
}

// buildRequest returns the smallest valid request for the check.
func buildRequest(c Check) (outgoing, error) {
	base := c.baseURL()
	out := outgoing{method: http.MethodGet, header: http.Header{}}
	out.header.Set("Accept", "application/json") // pinned: Cloudflare then answers its own errors as RFC 9457 JSON
	key := c.APIKey.Reveal()
	api := c.Provider.API
	switch api {
	case APIOpenAI:
		if key != "" {
			out.header.Set("Authorization", "Bearer "+key)
		}
	case APIAzure:
		if key != "" {
			out.header.Set("api-key", key)
		}
	case APIAnthropic:
		if key != "" {
			out.header.Set("x-api-key", key)
		}
		out.header.Set("anthropic-version", anthropicVersion)
	case APIGemini:
		if key != "" {
			out.header.Set("x-goog-api-key", key) // a header, never ?key=: URLs end up in errors
		}
	default:
		return out, fmt.Errorf("provider %s: unknown API %q", c.Provider.ID, api)
	}
	if c.Kind == KindReach {
		out.url = base + c.Provider.ReachPath
		if api == APIAzure {
			out.url += "?api-version=" + url.QueryEscape(c.Provider.AzureAPIVersion)
		}
		return out, nil
	}
	stream := c.Kind == KindStream
	limit := OutputTokenLimit(api, c.Model)
	var body map[string]any
	out.method = http.MethodPost
	out.header.Set("Content-Type", "application/json")
	switch api {
	case APIOpenAI, APIAzure:
		out.url = base + "/chat/completions"
		if api == APIAzure {
			out.url = base + "/deployments/" + url.PathEscape(c.Model) + "/chat/completions?api-version=" + url.QueryEscape(c.Provider.AzureAPIVersion)
		}
		body = map[string]any{"model": c.Model, "messages": []map[string]string{{"role": "user", "content": Prompt}}}
		if IsReasoningModel(c.Model) {
			body["max_completion_tokens"] = limit
			if effort := reasoningEffort(c.Provider.ID, c.Model); effort != "" {
				body["reasoning_effort"] = effort
			}
		} else {
			body["max_tokens"] = limit
		}
		if stream {
			body["stream"] = true
			if c.Provider.ID != "mistral" { // Mistral rejects unknown fields and sends usage anyway
				body["stream_options"] = map[string]bool{"include_usage": true}
			}
		}
	case APIAnthropic:
		out.url = base + "/v1/messages"
		body = map[string]any{"model": c.Model, "max_tokens": limit, "messages": []map[string]string{{"role": "user", "content": Prompt}}}
		if stream {
			body["stream"] = true
		}
	case APIGemini:
		model := strings.TrimPrefix(c.Model, "models/")
		out.url = base + "/v1beta/models/" + url.PathEscape(model) + ":generateContent"
		if stream {
			out.url = base + "/v1beta/models/" + url.PathEscape(model) + ":streamGenerateContent?alt=sse"
		}
		gen := map[string]any{"maxOutputTokens": limit}
		if !strings.Contains(model, "pro") {
			gen["thinkingConfig"] = map[string]int{"thinkingBudget": 0}
		}
		body = map[string]any{"contents": []map[string]any{{"role": "user", "parts": []map[string]string{{"text": Prompt}}}}, "generationConfig": gen}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return out, fmt.Errorf("encode request: %w", err)
	}
	out.body = b
	return out, nil
}

// reasoningEffort is the smallest reasoning effort a model accepts, where the
// provider has the knob.
func reasoningEffort(provider, model string) string {
	switch provider {
	case "openai", "azure", "openrouter":
		if strings.Contains(model, "gpt-5") {
			return "minimal"
		}
		return "low"
	case "xai":
		return "low"
	}
	return ""
}

// Usage is the token count a provider billed for one probe.
type Usage struct {
	Input  int `json:"input"`
	Output int `json:"output"`
}

// reply is a parsed successful completion.
type reply struct {
	content string
	usage   Usage
}

// parseReply reads a non-streamed completion in the API's schema. ok is false
// when the body is not that schema or holds no generated content.
func parseReply(api API, body []byte) (r reply, ok bool) {
	body = bytes.TrimSpace(body) // DeepSeek pads with blank lines while queued
	switch api {
	case APIOpenAI, APIAzure:
		var v struct {
			Choices []struct {
				Message struct {
					Content          *string `json:"content"`
					ReasoningContent string  `json:"reasoning_content"`
				} `json:"message"`
			} `json:"choices"`
			Usage struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &v) != nil || len(v.Choices) == 0 {
			return r, false
		}
		if c := v.Choices[0].Message.Content; c != nil {
			r.content = *c
		}
		r.usage = Usage{v.Usage.Prompt, v.Usage.Completion}
		return r, r.content != "" || v.Choices[0].Message.ReasoningContent != "" || r.usage.Output > 0
	case APIAnthropic:
		var v struct {
			Type    string `json:"type"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			Usage struct {
				Input  int `json:"input_tokens"`
				Output int `json:"output_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &v) != nil || v.Type != "message" {
			return r, false
		}
		for _, c := range v.Content {
			r.content += c.Text
		}
		r.usage = Usage{v.Usage.Input, v.Usage.Output}
		return r, r.content != "" || r.usage.Output > 0
	case APIGemini:
		var v geminiChunk
		if json.Unmarshal(body, &v) != nil || len(v.Candidates) == 0 {
			return r, false
		}
		r.content = v.text()
		r.usage = v.usage()
		return r, r.content != "" || r.usage.Output > 0
	}
	return r, false
}

type geminiChunk struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *struct {
		Prompt     int `json:"promptTokenCount"`
		Candidates int `json:"candidatesTokenCount"`
		Thoughts   int `json:"thoughtsTokenCount"`
	} `json:"usageMetadata"`
	Error *apiErrorBody `json:"error"`
}

func (g geminiChunk) text() string {
	var s string
	for _, c := range g.Candidates {
		for _, p := range c.Content.Parts {
			s += p.Text
		}
	}
	return s
}

func (g geminiChunk) usage() Usage {
	if g.UsageMetadata == nil {
		return Usage{}
	}
	return Usage{g.UsageMetadata.Prompt, g.UsageMetadata.Candidates + g.UsageMetadata.Thoughts}
}

func (g geminiChunk) finished() bool {
	for _, c := range g.Candidates {
		if c.FinishReason != "" {
			return true
		}
	}
	return false
}

// APIError is a provider error in any of the schemas the catalog speaks:
// OpenAI's {"error":{message,type,code,param}}, Anthropic's
// {"type":"error","error":{type,message}}, Gemini's {"error":{code,message,status}},
// Azure's string codes and FastAPI's {"detail":...}.
type APIError struct {
	Type    string // OpenAI/Anthropic error type (e.g. overloaded_error, insufficient_quota, cf_bad_gateway)
	Code    string // OpenAI code (string or number), Gemini numeric code, Azure code
	Status  string // Gemini gRPC status (e.g. UNAVAILABLE)
	Reason  string // Gemini ErrorInfo reason (e.g. API_KEY_INVALID)
	Message string
	// RequestID is the top-level request_id Anthropic puts in error bodies.
	RequestID string
}

// text is everything in the error lower-cased, for keyword tests.
func (e APIError) text() string {
	return strings.ToLower(e.Type + " " + e.Code + " " + e.Status + " " + e.Reason + " " + e.Message)
}

type apiErrorBody struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
	Status  string          `json:"status"`
	Details []struct {
		Reason string `json:"reason"`
	} `json:"details"`
}

// parseAPIError reads a provider error body. ok is false when the body is not
// a provider error schema (an HTML page, plain text, problem JSON, ...).
func parseAPIError(body []byte) (e APIError, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return e, false
	}
	var v struct {
		Type      string          `json:"type"`
		Error     json.RawMessage `json:"error"`
		RequestID string          `json:"request_id"`
		Detail    json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &v) != nil {
		return e, false
	}
	e.RequestID = v.RequestID
	switch {
	case len(v.Error) > 0 && v.Error[0] == '{':
		var inner apiErrorBody
		if json.Unmarshal(v.Error, &inner) != nil {
			return e, false
		}
		e.Type, e.Status, e.Message = inner.Type, inner.Status, inner.Message
		e.Code = rawString(inner.Code)
		for _, d := range inner.Details {
			if d.Reason != "" {
				e.Reason = d.Reason
				break
			}
		}
		return e, e.Message != "" || e.Type != "" || e.Code != "" || e.Status != ""
	case len(v.Error) > 0 && v.Error[0] == '"':
		_ = json.Unmarshal(v.Error, &e.Message)
		return e, e.Message != ""
	case len(v.Detail) > 0:
		e.Message = rawString(v.Detail)
		return e, e.Message != ""
	}
	return e, false
}

// rawString renders a JSON string, number or other value as plain text.
func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}
