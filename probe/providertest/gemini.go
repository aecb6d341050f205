package providertest

import (
	"net/http"
	"strings"
)

// gemini is the Gemini API (generativelanguage.googleapis.com) under
// "/gemini": v1beta and v1 model paths, a key in x-goog-api-key or ?key=.
type gemini struct{}

const defaultGeminiModel = "gemini-2.5-flash"

// geminiHeaders are what the Gemini origin (ESF/scaffolding) sends; GFE's
// alt-svc is added by the edge, not here.
func geminiHeaders(x *exchange, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Vary", "Origin, X-Origin, Referer")
	h.Set("Server", "scaffolding on HTTPServer2")
	h.Set("X-Xss-Protection", "0")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Server-Timing", "gfet4t7; dur="+x.elapsedMS())
	return h
}

const ctJSONGoogle = "application/json; charset=UTF-8"

type geminiErrBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []any  `json:"details,omitempty"`
	} `json:"error"`
}

func geminiErrorBody(code int, status, msg string, details ...any) geminiErrBody {
	var e geminiErrBody
	e.Error.Code, e.Error.Message, e.Error.Status, e.Error.Details = code, msg, status, details
	return e
}

func geminiError(x *exchange, code int, status, msg string, details ...any) response {
	return jsonResponse(code, geminiHeaders(x, ctJSONGoogle), geminiErrorBody(code, status, msg, details...))
}

const geminiBadKey = "API key not valid. Please pass a valid API key."

func geminiKeyInvalid(x *exchange) response {
	return geminiError(x, http.StatusBadRequest, "INVALID_ARGUMENT", geminiBadKey,
		map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "generativelanguage.googleapis.com"},
		},
		map[string]any{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": geminiBadKey},
	)
}

func (gemini) auth(x *exchange) (response, bool) {
	if x.skipAuth {
		return response{}, true
	}
	key := x.r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = x.r.URL.Query().Get("key")
	}
	switch {
	case key == "":
		return geminiError(x, http.StatusForbidden, "PERMISSION_DENIED",
			"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."), false
	case key != x.s.opts.APIKey:
		return geminiKeyInvalid(x), false
	}
	return response{}, true
}

// geminiPath splits "/v1beta/models/gemini-2.5-flash:generateContent" into
// its API version, model and method ("" for the model list).
func geminiPath(rest string) (version, model, method string, ok bool) {
	version, tail, found := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !found || (version != "v1beta" && version != "v1") {
		return "", "", "", false
	}
	if tail == "models" {
		return version, "", "", true
	}
	name, found := strings.CutPrefix(tail, "models/")
	if !found {
		return "", "", "", false
	}
	model, method, _ = strings.Cut(name, ":")
	return version, model, method, model != ""
}

func (g gemini) answer(x *exchange) reply {
	_, model, method, ok := geminiPath(x.rest)
	switch {
	case ok && model == "" && x.r.Method == http.MethodGet:
		if resp, ok := g.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), geminiModelList())}
	case ok && (method == "generateContent" || method == "streamGenerateContent") && x.r.Method == http.MethodPost:
		if resp, ok := g.auth(x); !ok {
			return reply{response: resp}
		}
		return g.generate(x, model, method == "streamGenerateContent")
	}
	return reply{response: geminiError(x, http.StatusNotFound, "NOT_FOUND", "Method not found.")}
}

func geminiModelList() any {
	type model struct {
		Name                       string   `json:"name"`
		Version                    string   `json:"version"`
		DisplayName                string   `json:"displayName"`
		InputTokenLimit            int      `json:"inputTokenLimit"`
		OutputTokenLimit           int      `json:"outputTokenLimit"`
		SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
	}
	methods := []string{"generateContent", "countTokens", "streamGenerateContent"}
	return struct {
		Models        []model `json:"models"`
		NextPageToken string  `json:"nextPageToken,omitempty"`
	}{Models: []model{
		{"models/gemini-2.5-flash", "001", "Gemini 2.5 Flash", 1048576, 65536, methods},
		{"models/gemini-2.5-flash-lite", "001", "Gemini 2.5 Flash-Lite", 1048576, 65536, methods},
	}}
}

type geminiPart struct {
	Text string `json:"text"`
}

type geminiContent struct {
	Parts []geminiPart `json:"parts"`
	Role  string       `json:"role"`
}

type geminiCandidate struct {
	Content      geminiContent `json:"content"`
	FinishReason string        `json:"finishReason,omitempty"`
	Index        int           `json:"index"`
}

type geminiUsage struct {
	PromptTokenCount     int `json:"promptTokenCount"`
	CandidatesTokenCount int `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount      int `json:"totalTokenCount"`
}

type geminiResponse struct {
	Candidates    []geminiCandidate `json:"candidates"`
	UsageMetadata geminiUsage       `json:"usageMetadata"`
	ModelVersion  string            `json:"modelVersion"`
	ResponseID    string            `json:"responseId"`
}

// generate answers generateContent, or streamGenerateContent: SSE with
// ?alt=sse, else (as the real API does) one JSON array of the chunks.
// Gemini frames SSE events with CRLF line ends; parsers must accept them.
func (gemini) generate(x *exchange, model string, stream bool) reply {
	var req struct {
		Contents []any `json:"contents"`
	}
	if err := decodeBody(x, &req); err != nil {
		return reply{response: geminiError(x, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())}
	}
	if len(req.Contents) == 0 {
		return reply{response: geminiError(x, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")}
	}
	id := randFrom(alnum, 22)
	full := geminiUsage{promptTokens, outputTokens, promptTokens + outputTokens}
	if !stream {
		return reply{response: jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), geminiResponse{
			Candidates:    []geminiCandidate{{Content: geminiContent{[]geminiPart{{answerText}}, "model"}, FinishReason: "STOP"}},
			UsageMetadata: full, ModelVersion: model, ResponseID: id,
		})}
	}
	chunks := []geminiResponse{
		{Candidates: []geminiCandidate{{Content: geminiContent{[]geminiPart{{answerText}}, "model"}}},
			UsageMetadata: geminiUsage{PromptTokenCount: promptTokens, TotalTokenCount: promptTokens}, ModelVersion: model, ResponseID: id},
		{Candidates: []geminiCandidate{{Content: geminiContent{[]geminiPart{{""}}, "model"}, FinishReason: "STOP"}},
			UsageMetadata: full, ModelVersion: model, ResponseID: id},
	}
	if x.r.URL.Query().Get("alt") != "sse" {
		return reply{response: jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), chunks)}
	}
	events := make([]string, len(chunks))
	for i, c := range chunks {
		events[i] = geminiSSE(c)
	}
	return reply{response: response{status: http.StatusOK, header: geminiHeaders(x, "text/event-stream")}, events: events, head: 1}
}

func geminiSSE(v any) string {
	return "data: " + string(mustJSON(v)) + "\r\n\r\n"
}

// fail maps origin error kinds to the Gemini API's errors (corpus §4).
func (g gemini) fail(x *exchange, kind FaultKind) response {
	version, model, method, ok := geminiPath(x.rest)
	generating := ok && method != ""
	if !ok || model == "" {
		version, model, method = "v1beta", defaultGeminiModel, "generateContent"
	}
	switch kind {
	case Origin500:
		return geminiError(x, http.StatusInternalServerError, "INTERNAL",
			"An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
	case Origin503, Overloaded529:
		return geminiError(x, http.StatusServiceUnavailable, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	case RateLimit429:
		return geminiError(x, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later.")
	case Quota429:
		return geminiError(x, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
				"quotaMetric":     "generativelanguage.googleapis.com/generate_content_free_tier_requests",
				"quotaId":         "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
				"quotaDimensions": map[string]string{"location": "global", "model": model},
				"quotaValue":      "250",
			}}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.Help", "links": []any{map[string]string{
				"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
			}}},
			map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "27s"},
		)
	case Auth401:
		return geminiKeyInvalid(x)
	case BadRequest400:
		return geminiError(x, http.StatusBadRequest, "INVALID_ARGUMENT",
			"Invalid JSON payload received. Unknown name \"max_tokens\": Cannot find field.",
			map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []any{map[string]string{
				"description": "Invalid JSON payload received. Unknown name \"max_tokens\": Cannot find field.",
			}}})
	case ModelNotFound404:
		return geminiError(x, http.StatusNotFound, "NOT_FOUND",
			"models/"+model+" is not found for API version "+version+", or is not supported for "+method+". Call ListModels to see the list of available models and their supported methods.")
	case Region403:
		return geminiError(x, http.StatusBadRequest, "FAILED_PRECONDITION", "User location is not supported for the API use.")
	case Invalid200:
		if generating {
			return jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), geminiResponse{
				Candidates:    []geminiCandidate{},
				UsageMetadata: geminiUsage{PromptTokenCount: promptTokens, TotalTokenCount: promptTokens},
				ModelVersion:  model, ResponseID: randFrom(alnum, 22),
			})
		}
		return response{status: http.StatusOK, header: geminiHeaders(x, ctJSONGoogle), body: []byte("{}")}
	}
	return g.fail(x, Origin500)
}

func (gemini) errorEvent(*exchange) string {
	return geminiSSE(geminiErrorBody(http.StatusServiceUnavailable, "UNAVAILABLE", "The model is overloaded. Please try again later."))
}
