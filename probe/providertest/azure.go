package providertest

import (
	"net/http"
	"strings"
)

// azure is Azure OpenAI: the OpenAI chat schema under deployment paths, an
// api-key header, an api-version query, and Azure's own error envelope
// (code is a string) on auth and routing errors. Its origin marker is
// apim-request-id; it sends none of OpenAI's openai-* headers.
type azure struct{}

func azureHeaders(x *exchange, contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("Apim-Request-Id", uuid4())
	h.Set("X-Ms-Region", "Sweden Central")
	h.Set("X-Ratelimit-Remaining-Requests", "249")
	h.Set("X-Ratelimit-Remaining-Tokens", "249990")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	h.Set("X-Content-Type-Options", "nosniff")
	return h
}

type azureErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func azureError(x *exchange, status int, code, msg string) response {
	var e azureErr
	e.Error.Code, e.Error.Message = code, msg
	return jsonResponse(status, azureHeaders(x, "application/json"), e)
}

const azureDenied = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."

func (azure) auth(x *exchange) (response, bool) {
	if x.skipAuth || x.r.Header.Get("Api-Key") == x.s.opts.APIKey && x.s.opts.APIKey != "" {
		return response{}, true
	}
	return azureError(x, http.StatusUnauthorized, "401", azureDenied), false
}

// azureRest is the path under the resource's API root. The fake takes it
// with or without the "/openai" segment: SDKs hold the resource endpoint
// (BaseURL("azure")) and add "/openai", llmprobe's catalog holds the root
// with "/openai" already in it; both reach the same routes.
func azureRest(x *exchange) string {
	if rest, ok := strings.CutPrefix(x.rest, "/openai/"); ok {
		return rest
	}
	return strings.TrimPrefix(x.rest, "/")
}

func (a azure) answer(x *exchange) reply {
	rest := azureRest(x)
	if x.r.URL.Query().Get("api-version") == "" {
		return reply{response: azureError(x, http.StatusNotFound, "404", "Resource not found")}
	}
	switch {
	case (rest == "models" || rest == "deployments") && x.r.Method == http.MethodGet:
		if resp, ok := a.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, azureHeaders(x, "application/json"), azureList(rest))}
	case strings.HasPrefix(rest, "deployments/") && strings.HasSuffix(rest, "/chat/completions") && x.r.Method == http.MethodPost:
		if resp, ok := a.auth(x); !ok {
			return reply{response: resp}
		}
		req, resp, ok := parseChatRequest(x, false)
		if !ok {
			resp.header = azureHeaders(x, "application/json")
			return reply{response: resp}
		}
		if req.Model == "" {
			req.Model = azureDeployment(x)
		}
		return chatAnswer(x, req, azureHeaders)
	}
	return reply{response: azureError(x, http.StatusNotFound, "404", "Resource not found")}
}

// azureDeployment is the {dep} of [/openai]/deployments/{dep}/...
func azureDeployment(x *exchange) string {
	rest := strings.TrimPrefix(azureRest(x), "deployments/")
	if dep, _, ok := strings.Cut(rest, "/"); ok && dep != "" {
		return dep
	}
	return defaultOpenAIModel
}

func azureList(what string) any {
	type item struct {
		ID     string `json:"id"`
		Object string `json:"object"`
		Model  string `json:"model,omitempty"`
		Status string `json:"status"`
	}
	if what == "deployments" {
		return struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
		}{"list", []item{{ID: "gpt-4o-mini", Object: "deployment", Model: "gpt-4o-mini", Status: "succeeded"}}}
	}
	return struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
	}{"list", []item{{ID: "gpt-4o-mini-2024-07-18", Object: "model", Status: "succeeded"}}}
}

// fail keeps Azure's envelope for auth, quota, routing and region errors
// and relays OpenAI's schema (with Azure's headers) for the rest, as Azure
// OpenAI does.
func (a azure) fail(x *exchange, kind FaultKind) response {
	switch kind {
	case Auth401:
		return azureError(x, http.StatusUnauthorized, "401", azureDenied)
	case RateLimit429:
		resp := azureError(x, http.StatusTooManyRequests, "429",
			"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.")
		resp.header.Set("Retry-After", "6")
		resp.header.Set("X-Ratelimit-Remaining-Requests", "0")
		resp.header.Set("X-Ratelimit-Remaining-Tokens", "0")
		return resp
	case Quota429:
		return azureError(x, http.StatusTooManyRequests, "insufficient_quota",
			"The subscription has exhausted its quota for this resource. Please check your plan and billing details.")
	case ModelNotFound404:
		return azureError(x, http.StatusNotFound, "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
	case Region403:
		return azureError(x, http.StatusForbidden, "403", "Access denied due to Virtual Network/Firewall rules.")
	}
	resp := openAI{}.fail(x, kind)
	h := azureHeaders(x, resp.header.Get("Content-Type"))
	if ra := resp.header.Get("Retry-After"); ra != "" {
		h.Set("Retry-After", ra)
	}
	resp.header = h
	return resp
}

func (azure) errorEvent(x *exchange) string { return openAI{}.errorEvent(x) }
