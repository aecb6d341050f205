package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// openAI is the OpenAI API and every OpenAI-compatible provider (mistral,
// groq, deepseek, xai, openrouter, user-named endpoints): one schema, one
// header set, served under "/<id>/v1".
type openAI struct{}

const defaultOpenAIModel = "gpt-4o-mini"

// openAIHeaders are the origin markers of api.openai.com (corpus §2).
func openAIHeaders(x *exchange, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("X-Request-Id", "req_"+randFrom(hexDigits, 32))
	h.Set("Openai-Processing-Ms", x.elapsedMS())
	h.Set("Openai-Version", "2020-10-01")
	h.Set("Openai-Organization", "llmprobe-test")
	h.Set("Access-Control-Expose-Headers", "X-Request-ID")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Ratelimit-Limit-Requests", "10000")
	h.Set("X-Ratelimit-Remaining-Requests", "9999")
	h.Set("X-Ratelimit-Reset-Requests", "6ms")
	h.Set("X-Ratelimit-Limit-Tokens", "200000")
	h.Set("X-Ratelimit-Remaining-Tokens", "199990")
	h.Set("X-Ratelimit-Reset-Tokens", "3ms")
	return h
}

const (
	ctJSONUTF8 = "application/json; charset=utf-8"
	ctSSE      = "text/event-stream; charset=utf-8"
)

// openAIErr is OpenAI's error envelope; code is a string or null at the
// origin (only the edge's cf_* bodies use an integer).
type openAIErr struct {
	Error openAIErrBody `json:"error"`
}

type openAIErrBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"`
	Code    any    `json:"code"`
}

// openAICodeFirstErr is the same envelope with the member order some
// bodies have on the wire (region blocks, the edge's cf_* rules), kept so
// that captured byte shapes match.
type openAICodeFirstErr struct {
	Error openAICodeFirst `json:"error"`
}

type openAICodeFirst struct {
	Code    any    `json:"code"`
	Message string `json:"message"`
	Param   any    `json:"param"`
	Type    string `json:"type"`
}

func openAIError(x *exchange, status int, msg, typ string, param, code any) response {
	return jsonResponse(status, openAIHeaders(x, ctJSONUTF8), openAIErr{openAIErrBody{msg, typ, param, code}})
}

const openAINoKey = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."

// auth checks "Authorization: Bearer KEY"; ok false carries the 401.
func (openAI) auth(x *exchange) (response, bool) {
	if x.skipAuth {
		return response{}, true
	}
	key, found := strings.CutPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !found || strings.TrimSpace(key) == "":
		resp := openAIError(x, http.StatusUnauthorized, openAINoKey, "invalid_request_error", nil, nil)
		resp.header.Set("Www-Authenticate", `Bearer realm="OpenAI API"`)
		return resp, false
	case key != x.s.opts.APIKey:
		return openAIError(x, http.StatusUnauthorized,
			"Incorrect API key provided: "+maskKey(key)+". You can find your API key at https://platform.openai.com/account/api-keys.",
			"invalid_request_error", nil, "invalid_api_key"), false
	}
	return response{}, true
}

func (o openAI) answer(x *exchange) reply {
	switch {
	case x.rest == "/v1/models" && x.r.Method == http.MethodGet:
		if resp, ok := o.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, openAIHeaders(x, ctJSONUTF8), openAIModelList())}
	case x.rest == "/v1/chat/completions" && x.r.Method == http.MethodPost:
		if resp, ok := o.auth(x); !ok {
			return reply{response: resp}
		}
		req, resp, ok := parseChatRequest(x, true)
		if !ok {
			return reply{response: resp}
		}
		return chatAnswer(x, req, openAIHeaders)
	}
	return reply{response: openAIError(x, http.StatusNotFound,
		"Invalid URL ("+x.r.Method+" "+x.rest+")", "invalid_request_error", nil, nil)}
}

func openAIModelList() any {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	return struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", []model{
		{"gpt-4o-mini", "model", 1721172741, "system"},
		{"gpt-4.1-nano", "model", 1744321707, "system"},
		{"gpt-5-nano", "model", 1754426384, "system"},
	}}
}

// chatRequest is what the fake reads of a chat.completions body.
type chatRequest struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	Stream              bool              `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// parseChatRequest validates a chat.completions body the way OpenAI
// answers a malformed one: 400 invalid_request_error. Azure takes the model
// from the deployment path, so it does not need one in the body.
func parseChatRequest(x *exchange, needModel bool) (chatRequest, response, bool) {
	var req chatRequest
	if err := decodeBody(x, &req); err != nil {
		return req, openAIError(x, http.StatusBadRequest,
			"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
			"invalid_request_error", nil, nil), false
	}
	if req.Model == "" && needModel {
		return req, openAIError(x, http.StatusBadRequest, "you must provide a model parameter", "invalid_request_error", nil, nil), false
	}
	if len(req.Messages) == 0 {
		return req, openAIError(x, http.StatusBadRequest, "[] is too short - 'messages'", "invalid_request_error", "messages", "empty_array"), false
	}
	return req, response{}, true
}

func (c chatRequest) model() string {
	if c.Model == "" {
		return defaultOpenAIModel
	}
	return c.Model
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

var fakeChatUsage = chatUsage{promptTokens, outputTokens, promptTokens + outputTokens}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	Refusal any    `json:"refusal"`
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      chatMessage `json:"message"`
	Logprobs     any         `json:"logprobs"`
	FinishReason string      `json:"finish_reason"`
}

type chatCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []chatChoice `json:"choices"`
	Usage             chatUsage    `json:"usage"`
	ServiceTier       string       `json:"service_tier"`
	SystemFingerprint string       `json:"system_fingerprint"`
}

type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     any        `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Choices           []chunkChoice `json:"choices"`
	// Usage is omitted without include_usage, null on every chunk but the
	// last with it, as OpenAI sends it.
	Usage any `json:"usage,omitempty"`
}

// chatAnswer is the healthy chat.completions answer, shared by OpenAI and
// Azure: "pong" as JSON, or as the chunk stream when req.Stream.
func chatAnswer(x *exchange, req chatRequest, headers func(*exchange, string) http.Header) reply {
	id := "chatcmpl-" + randFrom(alnum, 29)
	created := x.s.now().Unix()
	const fp = "fp_06737a9306"
	if !req.Stream {
		return reply{response: jsonResponse(http.StatusOK, headers(x, "application/json"), chatCompletion{
			ID: id, Object: "chat.completion", Created: created, Model: req.model(),
			Choices: []chatChoice{{Message: chatMessage{Role: "assistant", Content: answerText}, FinishReason: "stop"}},
			Usage:   fakeChatUsage, ServiceTier: "default", SystemFingerprint: fp,
		})}
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	var usageNull any
	if includeUsage {
		usageNull = json.RawMessage("null")
	}
	chunk := func(d chunkDelta, finish *string) string {
		return sseData(chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.model(),
			SystemFingerprint: fp, Choices: []chunkChoice{{Delta: d, FinishReason: finish}}, Usage: usageNull})
	}
	empty, text, stop := "", answerText, "stop"
	finish := chunk(chunkDelta{}, &stop)
	if x.provider == "mistral" && !includeUsage {
		// Mistral rejects stream_options and puts usage on its last chunk.
		finish = sseData(chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.model(),
			SystemFingerprint: fp, Choices: []chunkChoice{{Delta: chunkDelta{}, FinishReason: &stop}}, Usage: fakeChatUsage})
	}
	events := []string{
		chunk(chunkDelta{Role: "assistant", Content: &empty}, nil),
		chunk(chunkDelta{Content: &text}, nil),
		finish,
	}
	if includeUsage {
		events = append(events, sseData(chatChunk{ID: id, Object: "chat.completion.chunk", Created: created,
			Model: req.model(), SystemFingerprint: fp, Choices: []chunkChoice{}, Usage: fakeChatUsage}))
	}
	events = append(events, "data: [DONE]\n\n")
	return reply{response: response{status: http.StatusOK, header: headers(x, ctSSE)}, events: events, head: 2}
}

// fail maps origin error kinds to what api.openai.com answers (corpus §2).
func (o openAI) fail(x *exchange, kind FaultKind) response {
	model := requestedModel(x, defaultOpenAIModel)
	reqID := randFrom(hexDigits, 32)
	switch kind {
	case Origin500:
		return openAIError(x, http.StatusInternalServerError,
			"The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID "+reqID+" in your email.)",
			"server_error", nil, nil)
	case Origin503, Overloaded529:
		return openAIError(x, http.StatusServiceUnavailable,
			"That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID "+reqID+" in your message.)",
			"server_error", nil, nil)
	case RateLimit429:
		resp := openAIError(x, http.StatusTooManyRequests,
			"Rate limit reached for "+model+" in organization org-llmprobetest on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
			"requests", nil, "rate_limit_exceeded")
		resp.header.Set("Retry-After", "1")
		resp.header.Set("X-Ratelimit-Remaining-Requests", "0")
		resp.header.Set("X-Ratelimit-Remaining-Tokens", "0")
		resp.header.Set("X-Ratelimit-Reset-Requests", "120ms")
		return resp
	case Quota429:
		return openAIError(x, http.StatusTooManyRequests,
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
			"insufficient_quota", nil, "insufficient_quota")
	case Auth401:
		return openAIError(x, http.StatusUnauthorized,
			"Incorrect API key provided: sk-*****abcd. You can find your API key at https://platform.openai.com/account/api-keys.",
			"invalid_request_error", nil, "invalid_api_key")
	case BadRequest400:
		return openAIError(x, http.StatusBadRequest,
			"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
			"invalid_request_error", "max_tokens", "unsupported_parameter")
	case ModelNotFound404:
		return openAIError(x, http.StatusNotFound,
			"The model `"+model+"` does not exist or you do not have access to it.",
			"invalid_request_error", nil, "model_not_found")
	case Region403:
		return jsonResponse(http.StatusForbidden, openAIHeaders(x, ctJSONUTF8), openAICodeFirstErr{openAICodeFirst{
			Code: "unsupported_country_region_territory", Message: "Country, region, or territory not supported",
			Param: nil, Type: "request_forbidden",
		}})
	case Invalid200:
		if strings.HasSuffix(x.rest, "/chat/completions") {
			return jsonResponse(http.StatusOK, openAIHeaders(x, "application/json"), chatCompletion{
				ID: "chatcmpl-" + randFrom(alnum, 29), Object: "chat.completion", Created: x.s.now().Unix(),
				Model: model, Choices: []chatChoice{}, Usage: fakeChatUsage, ServiceTier: "default",
			})
		}
		return response{status: http.StatusOK, header: openAIHeaders(x, "application/json"), body: []byte("{}")}
	}
	return o.fail(x, Origin500)
}

func (openAI) errorEvent(*exchange) string {
	return sseData(openAIErr{openAIErrBody{
		Message: "The server is overloaded or not ready yet.",
		Type:    "server_error", Param: nil, Code: "server_is_overloaded",
	}})
}

// requestedModel reads "model" from a JSON body, for error messages.
func requestedModel(x *exchange, def string) string {
	var m struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(x.body, &m) == nil && m.Model != "" {
		return m.Model
	}
	return def
}
