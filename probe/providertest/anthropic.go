package providertest

import (
	"net/http"
	"strconv"
	"time"
)

// anthropic is the Anthropic Messages API under "/anthropic".
type anthropic struct{}

const defaultAnthropicModel = "claude-haiku-4-5"

// anthropicHeaders are api.anthropic.com's origin markers (corpus §3):
// request-id, via: 1.1 google (its Google load balancer), and the
// anthropic-ratelimit-* family with RFC 3339 resets.
func anthropicHeaders(x *exchange, contentType, reqID string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Request-Id", reqID)
	h.Set("Via", "1.1 google")
	h.Set("X-Robots-Tag", "none")
	h.Set("X-Cloud-Trace-Context", randFrom(hexDigits, 32))
	h.Set("Anthropic-Organization-Id", "00000000-0000-4000-a000-000000000000")
	reset := x.s.now().Add(time.Minute).UTC().Format(time.RFC3339)
	for _, kind := range []struct{ name, limit string }{
		{"requests", "4000"}, {"tokens", "280000"}, {"input-tokens", "200000"}, {"output-tokens", "80000"},
	} {
		h.Set("Anthropic-Ratelimit-"+kind.name+"-Limit", kind.limit)
		n, _ := strconv.Atoi(kind.limit)
		h.Set("Anthropic-Ratelimit-"+kind.name+"-Remaining", strconv.Itoa(n-1))
		h.Set("Anthropic-Ratelimit-"+kind.name+"-Reset", reset)
	}
	return h
}

func anthropicRequestID() string { return "req_011C" + randFrom(base58, 20) }

type anthropicErrBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// anthropicError is the documented envelope with the top-level request_id
// that 2025-2026 captures show; x-should-retry tells SDKs what to do.
func anthropicError(x *exchange, status int, typ, msg string) response {
	id := anthropicRequestID()
	var e anthropicErrBody
	e.Type, e.Error.Type, e.Error.Message, e.RequestID = "error", typ, msg, id
	h := anthropicHeaders(x, "application/json", id)
	h.Set("X-Should-Retry", strconv.FormatBool(status == http.StatusTooManyRequests || status >= 500))
	return jsonResponse(status, h, e)
}

func (anthropic) auth(x *exchange) (response, bool) {
	if x.skipAuth {
		return response{}, true
	}
	switch key := x.r.Header.Get("X-Api-Key"); {
	case key == "":
		return anthropicError(x, http.StatusUnauthorized, "authentication_error", "x-api-key header is required"), false
	case key != x.s.opts.APIKey:
		return anthropicError(x, http.StatusUnauthorized, "authentication_error", "invalid x-api-key"), false
	}
	return response{}, true
}

func (a anthropic) answer(x *exchange) reply {
	switch {
	case x.rest == "/v1/models" && x.r.Method == http.MethodGet:
		if resp, ok := a.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, anthropicHeaders(x, "application/json", anthropicRequestID()), anthropicModelList())}
	case x.rest == "/v1/messages" && x.r.Method == http.MethodPost:
		if resp, ok := a.auth(x); !ok {
			return reply{response: resp}
		}
		if x.r.Header.Get("Anthropic-Version") == "" && !x.skipAuth {
			return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")}
		}
		return a.messages(x)
	}
	return reply{response: anthropicError(x, http.StatusNotFound, "not_found_error", "Not Found")}
}

func anthropicModelList() any {
	type model struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	}
	models := []model{
		{"model", "claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"},
		{"model", "claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
	}
	return struct {
		Data    []model `json:"data"`
		HasMore bool    `json:"has_more"`
		FirstID string  `json:"first_id"`
		LastID  string  `json:"last_id"`
	}{models, false, models[0].ID, models[len(models)-1].ID}
}

type messagesRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Messages  []any  `json:"messages"`
	Stream    bool   `json:"stream"`
}

type anthropicUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type anthropicText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicMessage struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []anthropicText `json:"content"`
	StopReason   *string         `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        anthropicUsage  `json:"usage"`
}

// messages validates the body as the API does (model, max_tokens and
// messages are required) and answers "pong", streamed when asked.
func (anthropic) messages(x *exchange) reply {
	var req messagesRequest
	if err := decodeBody(x, &req); err != nil {
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "There was an issue with the request body: "+err.Error())}
	}
	switch {
	case req.Model == "":
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "model: Field required")}
	case req.MaxTokens == nil:
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required")}
	case len(req.Messages) == 0:
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "messages: at least one message is required")}
	}
	id := "msg_01" + randFrom(base58, 22)
	stop := "end_turn"
	reqID := anthropicRequestID()
	if !req.Stream {
		return reply{response: jsonResponse(http.StatusOK, anthropicHeaders(x, "application/json", reqID), anthropicMessage{
			ID: id, Type: "message", Role: "assistant", Model: req.Model,
			Content:    []anthropicText{{"text", answerText}},
			StopReason: &stop, Usage: anthropicUsage{promptTokens, outputTokens},
		})}
	}
	event := func(name string, v any) string { return "event: " + name + "\n" + sseData(v) }
	type typed struct {
		Type string `json:"type"`
	}
	type indexed struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	events := []string{
		event("message_start", struct {
			Type    string           `json:"type"`
			Message anthropicMessage `json:"message"`
		}{"message_start", anthropicMessage{ID: id, Type: "message", Role: "assistant", Model: req.Model,
			Content: []anthropicText{}, Usage: anthropicUsage{promptTokens, outputTokens}}}),
		event("content_block_start", struct {
			indexed
			ContentBlock anthropicText `json:"content_block"`
		}{indexed{"content_block_start", 0}, anthropicText{"text", ""}}),
		event("ping", typed{"ping"}),
		event("content_block_delta", struct {
			indexed
			Delta struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"delta"`
		}{indexed: indexed{"content_block_delta", 0}, Delta: struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}{"text_delta", answerText}}),
		event("content_block_stop", indexed{"content_block_stop", 0}),
		event("message_delta", struct {
			Type  string `json:"type"`
			Delta struct {
				StopReason   string  `json:"stop_reason"`
				StopSequence *string `json:"stop_sequence"`
			} `json:"delta"`
			Usage struct {
				OutputTokens int `json:"output_tokens"`
			} `json:"usage"`
		}{Type: "message_delta", Delta: struct {
			StopReason   string  `json:"stop_reason"`
			StopSequence *string `json:"stop_sequence"`
		}{StopReason: stop}, Usage: struct {
			OutputTokens int `json:"output_tokens"`
		}{outputTokens}}),
		event("message_stop", typed{"message_stop"}),
	}
	h := anthropicHeaders(x, ctSSE, reqID)
	h.Set("Cache-Control", "no-cache")
	return reply{response: response{status: http.StatusOK, header: h}, events: events, head: 4}
}

// fail maps origin error kinds to Anthropic's documented errors (corpus §3).
func (a anthropic) fail(x *exchange, kind FaultKind) response {
	switch kind {
	case Origin500:
		return anthropicError(x, http.StatusInternalServerError, "api_error", "Internal server error")
	case Origin503:
		return anthropicError(x, http.StatusServiceUnavailable, "api_error", "Service unavailable")
	case Overloaded529:
		resp := anthropicError(x, 529, "overloaded_error", "Overloaded")
		resp.header.Set("Cache-Control", "no-store, no-cache")
		return resp
	case RateLimit429:
		resp := anthropicError(x, http.StatusTooManyRequests, "rate_limit_error",
			"This request would exceed the rate limit for your organization (00000000-0000-4000-a000-000000000000) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.")
		resp.header.Set("Retry-After", "5")
		for _, k := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
			resp.header.Set("Anthropic-Ratelimit-"+k+"-Remaining", "0")
		}
		return resp
	case Quota429:
		// Billing exhaustion is a 400 at Anthropic, not a 429.
		return anthropicError(x, http.StatusBadRequest, "invalid_request_error",
			"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")
	case Auth401:
		return anthropicError(x, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
	case BadRequest400:
		return anthropicError(x, http.StatusBadRequest, "invalid_request_error", "max_tokens: Field required")
	case ModelNotFound404:
		return anthropicError(x, http.StatusNotFound, "not_found_error", "model: "+requestedModel(x, defaultAnthropicModel))
	case Region403:
		return anthropicError(x, http.StatusForbidden, "permission_error", "Request not allowed")
	case Invalid200:
		h := anthropicHeaders(x, "application/json", anthropicRequestID())
		if x.rest == "/v1/messages" {
			return jsonResponse(http.StatusOK, h, anthropicMessage{ID: "msg_01" + randFrom(base58, 22), Type: "message",
				Role: "assistant", Model: requestedModel(x, defaultAnthropicModel), Content: []anthropicText{}})
		}
		return response{status: http.StatusOK, header: h, body: []byte("{}")}
	}
	return a.fail(x, Origin500)
}

func (anthropic) errorEvent(*exchange) string {
	var e anthropicErrBody
	e.Type, e.Error.Type, e.Error.Message = "error", "overloaded_error", "Overloaded"
	return "event: error\n" + sseData(e)
}
