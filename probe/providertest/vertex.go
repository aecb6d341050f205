package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// vertex is Google Vertex AI under "/vertex": OAuth2 bearer tokens
// (Options.APIKey is the one valid access token), Google's error envelope,
// and per model the publisher's API: Gemini's generateContent for Google
// models, Anthropic's messages through rawPredict and streamRawPredict for
// Claude (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude).
type vertex struct{}

// vertexPath splits "/v1/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method}";
// list is true for ".../locations/{l}/endpoints" (the keyless reach path).
func vertexPath(rest string) (publisher, model, method string, list, ok bool) {
	parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
	if len(parts) < 6 || parts[1] != "projects" || parts[3] != "locations" {
		return "", "", "", false, false
	}
	if len(parts) == 6 && parts[5] == "endpoints" {
		return "", "", "", true, true
	}
	if len(parts) != 9 || parts[5] != "publishers" || parts[7] != "models" {
		return "", "", "", false, false
	}
	model, method, _ = strings.Cut(parts[8], ":")
	return parts[6], model, method, false, model != "" && method != ""
}

func (vertex) auth(x *exchange) (response, bool) {
	if x.skipAuth {
		return response{}, true
	}
	token, found := strings.CutPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !found || token == "":
		return vertexError(x, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
			"CREDENTIALS_MISSING"), false
	case token != x.s.opts.APIKey:
		return vertexError(x, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			"ACCESS_TOKEN_TYPE_UNSUPPORTED"), false
	}
	return response{}, true
}

func vertexError(x *exchange, code int, status, msg, reason string) response {
	var details []any
	if reason != "" {
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
			"domain": "googleapis.com", "metadata": map[string]string{"service": "aiplatform.googleapis.com"}})
	}
	return geminiError(x, code, status, msg, details...)
}

func (v vertex) answer(x *exchange) reply {
	publisher, model, method, list, ok := vertexPath(x.rest)
	switch {
	case ok && list && x.r.Method == http.MethodGet:
		if resp, ok := v.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), struct {
			Endpoints []any `json:"endpoints"`
		}{[]any{}})}
	case ok && !list && x.r.Method == http.MethodPost:
		if resp, ok := v.auth(x); !ok {
			return reply{response: resp}
		}
		switch {
		case publisher == "google" && (method == "generateContent" || method == "streamGenerateContent"):
			return gemini{}.generate(x, model, method == "streamGenerateContent")
		case publisher == "anthropic" && (method == "rawPredict" || method == "streamRawPredict"):
			return v.claude(x, model)
		}
	}
	return reply{response: vertexError(x, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.", "")}
}

// claude answers Anthropic's messages API with the model from the URL and
// anthropic_version in the body, as Vertex wants them.
func (vertex) claude(x *exchange, model string) reply {
	var body map[string]any
	if err := decodeBody(x, &body); err != nil {
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "There was an issue with the request body: "+err.Error())}
	}
	if body["anthropic_version"] != "vertex-2023-10-16" {
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "anthropic_version: Input should be 'vertex-2023-10-16'")}
	}
	if _, ok := body["model"]; ok {
		return reply{response: anthropicError(x, http.StatusBadRequest, "invalid_request_error", "model: Extra inputs are not permitted")}
	}
	body["model"] = model
	x.body, _ = json.Marshal(body)
	return anthropic{}.messages(x)
}

func (vertex) claudeModel(x *exchange) bool {
	publisher, _, _, _, _ := vertexPath(x.rest)
	return publisher == "anthropic"
}

// fail maps origin error kinds to Vertex AI's errors: Google's statuses,
// and Anthropic's own bodies where Claude answers.
func (v vertex) fail(x *exchange, kind FaultKind) response {
	_, model, _, _, _ := vertexPath(x.rest)
	if model == "" {
		model = defaultGeminiModel
	}
	if v.claudeModel(x) {
		switch kind {
		case Overloaded529, Origin500, Invalid200, BadRequest400:
			return anthropic{}.fail(x, kind)
		}
	}
	switch kind {
	case Origin500:
		return geminiError(x, http.StatusInternalServerError, "INTERNAL", "Internal error encountered.")
	case Origin503:
		return geminiError(x, http.StatusServiceUnavailable, "UNAVAILABLE", "The model is overloaded. Please try again later.")
	case Overloaded529:
		// Dynamic shared quota: shared capacity ran short, no QuotaFailure.
		return geminiError(x, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.")
	case RateLimit429:
		return geminiError(x, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
			"Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: "+model+". Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.")
	case Quota429:
		return vertexError(x, http.StatusForbidden, "PERMISSION_DENIED",
			"This API method requires billing to be enabled. Please enable billing on project llmprobe-test by visiting https://console.developers.google.com/billing/enable?project=llmprobe-test then retry.",
			"BILLING_DISABLED")
	case Auth401:
		resp, _ := vertex{}.auth(&exchange{s: x.s, r: &http.Request{Header: http.Header{"Authorization": {"Bearer expired"}}}, start: x.start})
		return resp
	case BadRequest400:
		return geminiError(x, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"max_tokens\": Cannot find field.")
	case ModelNotFound404:
		return geminiError(x, http.StatusNotFound, "NOT_FOUND",
			"Publisher Model `projects/llmprobe-test/locations/us-central1/publishers/google/models/"+model+"` was not found or your project does not have access to it. Please ensure you are using a valid model version.")
	case Region403:
		return geminiError(x, http.StatusBadRequest, "FAILED_PRECONDITION", "User location is not supported for the API use.")
	case Invalid200:
		return jsonResponse(http.StatusOK, geminiHeaders(x, ctJSONGoogle), geminiResponse{Candidates: []geminiCandidate{},
			UsageMetadata: geminiUsage{PromptTokenCount: promptTokens, TotalTokenCount: promptTokens}, ModelVersion: model})
	}
	return v.fail(x, Origin500)
}

func (v vertex) errorEvent(x *exchange) string {
	if v.claudeModel(x) {
		return anthropic{}.errorEvent(x)
	}
	return gemini{}.errorEvent(x)
}

// GoogleTokenPath serves a fake OAuth2 token endpoint: a refresh grant
// gets Options.APIKey as its access token, so the fake Vertex accepts it.
const GoogleTokenPath = "/oauth2/token"

// GoogleCredentialsJSON is an "authorized_user" Application Default
// Credentials file whose token_uri is this server's fake token endpoint:
// point GOOGLE_APPLICATION_CREDENTIALS at it and nothing reaches Google.
// The token endpoint must be plain HTTP (golang.org/x/oauth2 uses the
// default client, which does not trust the fake's CA).
func (s *Server) GoogleCredentialsJSON() []byte {
	return mustJSON(map[string]string{
		"type": "authorized_user", "client_id": "llmprobe-test.apps.googleusercontent.com",
		"client_secret": "llmprobe-test-client-secret", "refresh_token": "llmprobe-test-refresh-token",
		"token_uri": s.URL() + GoogleTokenPath,
	})
}

// token answers the OAuth2 refresh grant of GoogleCredentialsJSON.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != "llmprobe-test-refresh-token" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Bad Request"}`))
		return
	}
	_, _ = w.Write(mustJSON(map[string]any{"access_token": s.opts.APIKey, "token_type": "Bearer", "expires_in": 3599,
		"scope": "https://www.googleapis.com/auth/cloud-platform"}))
}
