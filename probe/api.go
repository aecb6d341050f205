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
	case APIBedrock, APIVertex:
		// Signed after the request is built (Check.Signer); reach stays keyless.
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
	limit := c.OutputLimit()
	var body map[string]any
	out.method = http.MethodPost
	out.header.Set("Content-Type", "application/json")
	switch api {
	case APIBedrock:
		// Converse: the model id goes in the path with ':' escaped, as the
		// AWS SDKs send it, so the SigV4 canonical path matches theirs.
		op := "/converse"
		if stream {
			op = "/converse-stream"
			out.header.Set("Accept", "application/vnd.amazon.eventstream")
		}
		out.url = base + "/model/" + strings.ReplaceAll(url.PathEscape(c.Model), ":", "%3A") + op
		body = map[string]any{
			"messages":        []map[string]any{{"role": "user", "content": []map[string]string{{"text": Prompt}}}},
			"inferenceConfig": map[string]int{"maxTokens": limit},
		}
	case APIVertex:
		publisher := VertexPublisher(c.Model)
		model := c.Model[strings.LastIndexByte(c.Model, '/')+1:]
		prefix := base + "/v1/projects/" + url.PathEscape(c.Provider.Project) + "/locations/" + url.PathEscape(c.Provider.Region) +
			"/publishers/" + publisher + "/models/" + url.PathEscape(model)
		if publisher == "anthropic" {
			// Claude on Vertex: Anthropic's body, the version in the body
			// and the model in the URL.
			out.url = prefix + ":rawPredict"
			body = map[string]any{"anthropic_version": vertexAnthropicVersion, "max_tokens": limit,
				"messages": []map[string]string{{"role": "user", "content": Prompt}}}
			if stream {
				out.url = prefix + ":streamRawPredict"
				body["stream"] = true
			}
			break
		}
		out.url = prefix + ":generateContent"
		if stream {
			out.url = prefix + ":streamGenerateContent?alt=sse"
		}
		body = geminiBody(model, limit)
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
		body = geminiBody(model, limit)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return out, fmt.Errorf("encode request: %w", err)
	}
	out.body = b
	return out, nil
}

// vertexAnthropicVersion is the API version Claude on Vertex wants in the body.
const vertexAnthropicVersion = "vertex-2023-10-16"

// geminiBody is a generateContent request: the prompt, the output limit,
// and thinking off where the model allows it.
func geminiBody(model string, limit int) map[string]any {
	gen := map[string]any{"maxOutputTokens": limit}
	if !strings.Contains(model, "pro") {
		gen["thinkingConfig"] = map[string]int{"thinkingBudget": 0}
	}
	return map[string]any{"contents": []map[string]any{{"role": "user", "parts": []map[string]string{{"text": Prompt}}}}, "generationConfig": gen}
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

// APIError is a provider error in any of the schemas the catalog speaks:
// OpenAI's {"error":{message,type,code,param}}, Anthropic's
// {"type":"error","error":{type,message,details}}, Google's
// {"error":{code,message,status,details}} (bare or in a one-element array,
// as Vertex relays it for Claude), Azure's string codes, Mistral's and
// xAI's top-level fields, AWS's {"message"} with x-amzn-ErrorType, and
// FastAPI's {"detail":...}. The classifier reads its structured fields
// first (errors.go); Message only where a provider has no code.
type APIError struct {
	Type    string // OpenAI/Anthropic/Mistral error type (overloaded_error, insufficient_quota, cf_bad_gateway, ...)
	Code    string // OpenAI/Groq/Mistral/Azure/xAI code, Gemini's or OpenRouter's numeric code
	Status  string // Google gRPC status (UNAVAILABLE, RESOURCE_EXHAUSTED, ...)
	Reason  string // Google ErrorInfo reason (API_KEY_INVALID, IAM_PERMISSION_DENIED, ...)
	AWSType string // AWS exception name (ThrottlingException, ...), from x-amzn-ErrorType or __type
	// Detail is a second-level code: Anthropic's error.details.error_code,
	// Azure's innererror.code.
	Detail string
	// QuotaIDs are Google QuotaFailure violations (quotaId, else quotaMetric).
	QuotaIDs []string
	// LimitSource is OpenRouter's error.metadata.limit_source.
	LimitSource string
	Message     string
	// RequestID is the top-level request_id Anthropic puts in error bodies.
	RequestID string
}

// text is everything in the error lower-cased, for keyword tests.
func (e APIError) text() string {
	return strings.ToLower(e.Type + " " + e.Code + " " + e.Status + " " + e.Reason + " " + e.AWSType + " " + e.Detail + " " + e.Message)
}

type apiErrorBody struct {
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Code    json.RawMessage `json:"code"`
	Status  json.RawMessage `json:"status"`
	Details json.RawMessage `json:"details"`
	// Inner is Azure's innererror.
	Inner *struct {
		Code string `json:"code"`
	} `json:"innererror"`
	Metadata *struct {
		LimitSource string `json:"limit_source"`
	} `json:"metadata"`
}

// googleDetail is one entry of a Google error's details: ErrorInfo
// (reason) or QuotaFailure (violations).
type googleDetail struct {
	Reason     string `json:"reason"`
	Violations []struct {
		QuotaID     string `json:"quotaId"`
		QuotaMetric string `json:"quotaMetric"`
	} `json:"violations"`
}

// parseAPIError reads a provider error body. ok is false when the body is not
// a provider error schema (an HTML page, plain text, problem JSON, ...).
func parseAPIError(body []byte) (e APIError, ok bool) {
	return parseAPIErrorFrom(nil, body)
}

// parseAPIErrorFrom also reads AWS's x-amzn-ErrorType header, which names
// the exception where the body holds only a message.
func parseAPIErrorFrom(h http.Header, body []byte) (e APIError, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var arr []json.RawMessage // Vertex relays Google errors as [{"error":...}]
		if json.Unmarshal(body, &arr) != nil || len(arr) != 1 {
			return e, false
		}
		body = bytes.TrimSpace(arr[0])
	}
	if len(body) == 0 || body[0] != '{' {
		return e, false
	}
	var v struct {
		Type       string          `json:"type"`
		Error      json.RawMessage `json:"error"`
		RequestID  string          `json:"request_id"`
		Detail     json.RawMessage `json:"detail"`
		Object     string          `json:"object"`
		Message    json.RawMessage `json:"message"`
		MessageAWS string          `json:"Message"`
		Code       json.RawMessage `json:"code"`
		AWSType    string          `json:"__type"`
	}
	if json.Unmarshal(body, &v) != nil {
		return e, false
	}
	e.RequestID = v.RequestID
	if h != nil {
		e.AWSType = awsErrorType(h.Get("X-Amzn-Errortype"))
	}
	if e.AWSType == "" && v.AWSType != "" {
		e.AWSType = awsErrorType(v.AWSType)
	}
	switch {
	case len(v.Error) > 0 && v.Error[0] == '{':
		var inner apiErrorBody
		if json.Unmarshal(v.Error, &inner) != nil {
			return e, false
		}
		e.Type, e.Status, e.Message = rawString(inner.Type), rawString(inner.Status), rawString(inner.Message)
		e.Code = rawString(inner.Code)
		if inner.Inner != nil {
			e.Detail = inner.Inner.Code
		}
		if inner.Metadata != nil {
			e.LimitSource = inner.Metadata.LimitSource
		}
		readDetails(&e, inner.Details)
		return e, e.Message != "" || e.Type != "" || e.Code != "" || e.Status != ""
	case len(v.Error) > 0 && v.Error[0] == '"':
		// xAI: {"code":"<gRPC status text>","error":"<message>"}
		_ = json.Unmarshal(v.Error, &e.Message)
		e.Code = rawString(v.Code)
		return e, e.Message != ""
	case len(v.Detail) > 0:
		e.Message = rawString(v.Detail)
		return e, e.Message != ""
	case v.Object == "error" || len(v.Message) > 0 && v.Type != "" && v.Type != "error":
		// Mistral: {"object":"error","message":...,"type":...,"code":...}
		e.Message, e.Type, e.Code = rawString(v.Message), v.Type, rawString(v.Code)
		return e, e.Message != "" || e.Type != "" || e.Code != ""
	case e.AWSType != "" || h != nil && h.Get("X-Amzn-Requestid") != "":
		// AWS: {"message":"..."} or {"Message":"..."}; the type is in a header.
		e.Message = firstNonEmpty(rawString(v.Message), v.MessageAWS)
		return e, e.Message != "" || e.AWSType != ""
	}
	return e, false
}

// readDetails takes Anthropic's details object or Google's details list.
func readDetails(e *APIError, raw json.RawMessage) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return
	}
	if raw[0] == '{' {
		var d struct {
			ErrorCode string `json:"error_code"`
		}
		if json.Unmarshal(raw, &d) == nil {
			e.Detail = d.ErrorCode
		}
		return
	}
	var list []googleDetail
	if json.Unmarshal(raw, &list) != nil {
		return
	}
	for _, d := range list {
		if d.Reason != "" && e.Reason == "" {
			e.Reason = d.Reason
		}
		for _, q := range d.Violations {
			e.QuotaIDs = append(e.QuotaIDs, firstNonEmpty(q.QuotaID, q.QuotaMetric))
		}
	}
}

// awsErrorType cuts "ThrottlingException:http://internal.amazon.com/coral/..."
// or "com.amazon.coral.service#ThrottlingException" down to the name, and
// capitalises event-stream names (throttlingException).
func awsErrorType(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
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
