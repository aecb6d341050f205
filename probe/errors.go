package probe

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file says what each provider's error codes mean: one table per
// provider, read before any words in a message. A rule matches one
// structured field of the error (type, code, gRPC status, ErrorInfo reason,
// AWS exception, second-level code, OpenRouter's limit source, the HTTP
// status); a refine function may sharpen it where the provider uses one
// code for several things (Groq's rate_limit_exceeded for per-minute and
// per-day windows) and has no other field to tell them apart. Rules whose
// field is fieldMessage are message semantics, kept for providers that put
// no code on that error at all; each says so.

// errField names the structured field a rule reads.
type errField int

const (
	fieldType        errField = iota // error.type
	fieldCode                        // error.code (string or number)
	fieldStatus                      // Google's gRPC status
	fieldReason                      // Google's ErrorInfo reason
	fieldAWS                         // the AWS exception name
	fieldDetail                      // Anthropic's details.error_code, Azure's innererror.code
	fieldLimitSource                 // OpenRouter's metadata.limit_source
	fieldHTTP                        // the HTTP status code
	fieldMessage                     // words in the message (providers without a code for it)
)

// verdict is an outcome and its reason.
type verdict struct {
	outcome Outcome
	reason  Reason
}

var (
	vQuota         = verdict{OutcomeProbeError, ReasonQuota}
	vAuth          = verdict{OutcomeProbeError, ReasonAuth}
	vBadRequest    = verdict{OutcomeProbeError, ReasonBadRequest}
	vModel         = verdict{OutcomeProbeError, ReasonModelNotFound}
	vLocation      = verdict{OutcomeProbeError, ReasonBlockedLocation}
	vRateLimited   = verdict{OutcomeOriginError, ReasonRateLimited}
	vOverloaded    = verdict{OutcomeOriginError, ReasonOverloaded}
	vOrigin5xx     = verdict{OutcomeOriginError, ReasonOrigin5xx}
	vOriginTimeout = verdict{OutcomeOriginError, ReasonOriginTimeout}
	vRefused       = verdict{OutcomeOriginError, ReasonRefused}
)

// errCtx is what a rule may read: the error, its HTTP status (0 inside a
// stream) and the retry-after header.
type errCtx struct {
	e          APIError
	status     int
	retryAfter time.Duration
}

// codeRule: when field equals value (case-insensitively; fieldMessage tests
// containment), the error means v, unless refine returns another verdict.
type codeRule struct {
	field  errField
	value  string
	v      verdict
	refine func(errCtx) (verdict, bool)
}

func (r codeRule) matches(c errCtx) bool {
	var got string
	switch r.field {
	case fieldType:
		got = c.e.Type
	case fieldCode:
		got = c.e.Code
	case fieldStatus:
		got = c.e.Status
	case fieldReason:
		got = c.e.Reason
	case fieldAWS:
		got = c.e.AWSType
	case fieldDetail:
		got = c.e.Detail
	case fieldLimitSource:
		got = c.e.LimitSource
	case fieldHTTP:
		got = strconv.Itoa(c.status)
	case fieldMessage:
		return strings.Contains(strings.ToLower(c.e.Message), r.value)
	}
	return got != "" && strings.EqualFold(got, r.value)
}

// lookup returns the first rule of table that matches.
func lookup(table []codeRule, c errCtx) (verdict, bool) {
	for _, r := range table {
		if !r.matches(c) {
			continue
		}
		if r.refine != nil {
			if v, ok := r.refine(c); ok {
				return v, true
			}
		}
		return r.v, true
	}
	return verdict{}, false
}

// Refinements where one code stands for several things.

// perDay turns a rate limit whose window is a day into quota: it clears only
// when the day turns or the owner buys a higher tier.
func perDay(c errCtx) (verdict, bool) {
	t := strings.ToLower(c.e.Message)
	for _, w := range []string{"per day", "(tpd)", "(rpd)", "daily", "perday"} {
		if strings.Contains(t, w) {
			return vQuota, true
		}
	}
	return verdict{}, false
}

// overloadWords sharpens a generic 5xx whose provider has no code for
// overload (OpenAI's 503 is type server_error, code null).
func overloadWords(c errCtx) (verdict, bool) {
	t := strings.ToLower(c.e.Message)
	for _, w := range []string{"overloaded", "capacity", "high demand"} {
		if strings.Contains(t, w) {
			return vOverloaded, true
		}
	}
	return verdict{}, false
}

// ownerLimits are the words of spend, usage and credit limits in providers
// that send them under a generic code.
func ownerLimits(c errCtx) (verdict, bool) {
	t := strings.ToLower(c.e.Message)
	for _, w := range []string{"credit balance", "usage limit", "spend limit", "spending limit", "used all available credits", "prepayment credits", "insufficient balance"} {
		if strings.Contains(t, w) {
			return vQuota, true
		}
	}
	return verdict{}, false
}

// googleQuota reads RESOURCE_EXHAUSTED by its QuotaFailure details: a
// per-day quota is the owner's to raise, a per-minute one clears by itself.
// Without details the message names the metric or the billing problem;
// with neither, Vertex (dynamic shared quota) means shared capacity ran
// short, the Gemini API a rate limit.
func googleQuota(vertex bool) func(errCtx) (verdict, bool) {
	return func(c errCtx) (verdict, bool) {
		if c.status == http.StatusPaymentRequired {
			return vQuota, true
		}
		perDayIDs, others := 0, 0
		for _, id := range c.e.QuotaIDs {
			if strings.Contains(strings.ToLower(id), "perday") || strings.Contains(strings.ToLower(id), "per_day") {
				perDayIDs++
			} else {
				others++
			}
		}
		switch {
		case perDayIDs > 0:
			return vQuota, true
		case others > 0:
			return vRateLimited, true
		}
		if v, ok := ownerLimits(c); ok {
			return v, true
		}
		t := strings.ToLower(c.e.Message)
		switch {
		case strings.Contains(t, "quota exceeded for") && (strings.Contains(t, "per_day") || strings.Contains(t, "per day")):
			return vQuota, true
		case strings.Contains(t, "quota exceeded for"):
			return vRateLimited, true
		case strings.Contains(t, "exceeded your current quota") || strings.Contains(t, "billing"):
			return vQuota, true
		case vertex:
			return vOverloaded, true
		}
		return vRateLimited, true
	}
}

// azure429 splits Azure OpenAI's one code "429": a retry-after of hours is a
// quota gone for the day; peak-load words are the service's capacity.
func azure429(c errCtx) (verdict, bool) {
	if c.retryAfter >= quotaRetryAfter {
		return vQuota, true
	}
	t := strings.ToLower(c.e.Message)
	if strings.Contains(t, "high demand") || strings.Contains(t, "peak load") {
		return vOverloaded, true
	}
	return verdict{}, false
}

// modelWords sharpens an access or validation error that is about the
// configured model (Bedrock uses AccessDeniedException for both IAM and
// model access, Vertex FAILED_PRECONDITION for a model not enabled).
func modelWords(words ...string) func(errCtx) (verdict, bool) {
	return func(c errCtx) (verdict, bool) {
		t := strings.ToLower(c.e.Message)
		for _, w := range words {
			if strings.Contains(t, w) {
				return vModel, true
			}
		}
		return verdict{}, false
	}
}

// The tables.

// openAICodes: https://help.openai.com/en/articles/5955604-troubleshooting-api-rate-limits-and-429-errors
// and https://platform.openai.com/docs/guides/error-codes.
var openAICodes = []codeRule{
	{fieldCode, "insufficient_quota", vQuota, nil},
	{fieldCode, "credit_balance_exhausted", vQuota, nil},
	{fieldCode, "organization_usage_limit_exceeded", vQuota, nil},
	{fieldCode, "organization_spend_limit_exceeded", vQuota, nil},
	{fieldCode, "project_spend_limit_exceeded", vQuota, nil},
	{fieldType, "insufficient_quota", vQuota, nil},
	{fieldCode, "rate_limit_exceeded", vRateLimited, perDay},
	{fieldCode, "model_not_found", vModel, nil}, // also on a 403: the project may not use the model
	{fieldCode, "invalid_api_key", vAuth, nil},
	{fieldCode, "unsupported_country_region_territory", vLocation, nil},
	{fieldCode, "server_is_overloaded", vOverloaded, nil},
	{fieldCode, "content_filter", vRefused, nil},
	{fieldType, "server_error", vOrigin5xx, overloadWords},
}

// azureCodes: Azure OpenAI's string codes
// (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/quota), then OpenAI's.
var azureCodes = append([]codeRule{
	{fieldCode, "content_filter", vRefused, nil},
	{fieldDetail, "ResponsibleAIPolicyViolation", vRefused, nil},
	{fieldCode, "DeploymentNotFound", vModel, nil},
	{fieldCode, "429", vRateLimited, azure429},
	{fieldCode, "401", vAuth, nil},
}, openAICodes...)

// anthropicCodes: https://docs.claude.com/en/api/errors. A spend limit the
// owner set arrives as invalid_request_error with no code of its own, so
// its words decide; the tier's monthly cap has details.error_code.
var anthropicCodes = []codeRule{
	{fieldDetail, "enforced_spend_limit_reached", vQuota, nil},
	{fieldType, "authentication_error", vAuth, nil},
	{fieldType, "permission_error", vAuth, nil},
	{fieldType, "not_found_error", vModel, nil},
	{fieldType, "rate_limit_error", vRateLimited, nil},
	{fieldType, "billing_error", vQuota, nil},
	{fieldType, "overloaded_error", vOverloaded, nil},
	{fieldType, "api_error", vOrigin5xx, nil},
	{fieldType, "timeout_error", vOriginTimeout, nil},
	{fieldType, "request_too_large", vBadRequest, nil},
	{fieldType, "invalid_request_error", vBadRequest, ownerLimits},
}

// googleCodes: the Gemini API's gRPC statuses
// (https://ai.google.dev/gemini-api/docs/troubleshooting).
var googleCodes = []codeRule{
	{fieldReason, "API_KEY_INVALID", vAuth, nil},
	{fieldStatus, "RESOURCE_EXHAUSTED", vRateLimited, googleQuota(false)},
	{fieldStatus, "UNAUTHENTICATED", vAuth, nil},
	{fieldStatus, "PERMISSION_DENIED", vAuth, nil},
	{fieldStatus, "NOT_FOUND", vModel, nil},
	{fieldStatus, "UNAVAILABLE", vOrigin5xx, overloadWords},
	{fieldStatus, "INTERNAL", vOrigin5xx, nil},
	{fieldStatus, "DEADLINE_EXCEEDED", vOriginTimeout, nil},
	{fieldStatus, "INVALID_ARGUMENT", vBadRequest, nil},
	{fieldStatus, "FAILED_PRECONDITION", vBadRequest, nil},
}

// vertexCodes: Vertex AI's statuses
// (https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429),
// then Anthropic's for Claude, then Google's.
var vertexCodes = append(append([]codeRule{
	{fieldStatus, "RESOURCE_EXHAUSTED", vOverloaded, googleQuota(true)},
	{fieldReason, "BILLING_DISABLED", vQuota, nil},
	{fieldReason, "IAM_PERMISSION_DENIED", vAuth, nil},
	{fieldStatus, "FAILED_PRECONDITION", vBadRequest, modelWords("publisher model", "not allowed to use")},
}, anthropicCodes...), googleCodes...)

// bedrockCodes: the exceptions of Converse and ConverseStream
// (https://docs.aws.amazon.com/bedrock/latest/userguide/troubleshooting-api-error-codes.html)
// and AWS's common signature errors.
var bedrockCodes = []codeRule{
	{fieldAWS, "ThrottlingException", vRateLimited, perDay},
	{fieldAWS, "ServiceQuotaExceededException", vQuota, nil},
	{fieldAWS, "ServiceUnavailableException", vOverloaded, nil},
	{fieldAWS, "ModelNotReadyException", vOverloaded, nil},
	{fieldAWS, "ModelTimeoutException", vOriginTimeout, nil},
	{fieldAWS, "ModelErrorException", vOrigin5xx, nil},
	{fieldAWS, "ModelStreamErrorException", vOrigin5xx, nil},
	{fieldAWS, "InternalServerException", vOrigin5xx, nil},
	{fieldAWS, "InternalFailure", vOrigin5xx, nil},
	{fieldAWS, "ResourceNotFoundException", vModel, nil},
	{fieldAWS, "AccessDeniedException", vAuth, modelWords("model")},
	{fieldAWS, "ValidationException", vBadRequest, modelWords("model identifier is invalid")},
	{fieldAWS, "UnrecognizedClientException", vAuth, nil},
	{fieldAWS, "InvalidSignatureException", vAuth, nil},
	{fieldAWS, "IncompleteSignatureException", vAuth, nil},
	{fieldAWS, "IncompleteSignature", vAuth, nil},
	{fieldAWS, "MissingAuthenticationTokenException", vAuth, nil},
	{fieldAWS, "ExpiredTokenException", vAuth, nil},
	{fieldAWS, "InvalidClientTokenId", vAuth, nil},
	{fieldAWS, "NotAuthorized", vAuth, nil},
}

// mistralCodes: Mistral's type and numeric code; its older tier-capacity
// 429 has type invalid_request_error and code null, so its words decide
// (https://github.com/BerriAI/litellm/pull/25078).
var mistralCodes = append([]codeRule{
	{fieldType, "rate_limited", vRateLimited, nil},
	{fieldCode, "1300", vRateLimited, nil},
	{fieldType, "service_tier_capacity_exceeded", vOverloaded, nil},
	{fieldCode, "3505", vOverloaded, nil},
	{fieldMessage, "capacity exceeded", vOverloaded, nil},
}, openAICodes...)

// groqCodes: https://console.groq.com/docs/errors (498: flex tier capacity).
var groqCodes = append([]codeRule{
	{fieldCode, "capacity_exceeded", vOverloaded, nil},
	{fieldHTTP, "498", vOverloaded, nil},
	{fieldCode, "model_decommissioned", vModel, nil},
}, openAICodes...)

// deepseekCodes: https://api-docs.deepseek.com/quick_start/error_codes
// (the status is the code).
var deepseekCodes = append([]codeRule{
	{fieldHTTP, "402", vQuota, nil},
	{fieldHTTP, "503", vOverloaded, nil},
	{fieldType, "authentication_error", vAuth, nil},
}, openAICodes...)

// xaiCodes: xAI's code is a gRPC status text shared by rate limits and
// spent credits, so credits are read from the message
// (https://github.com/continuedev/continue/issues/10373).
var xaiCodes = append([]codeRule{
	{fieldMessage, "used all available credits", vQuota, nil},
	{fieldMessage, "spending limit", vQuota, nil},
}, openAICodes...)

// openRouterCodes: https://openrouter.ai/docs/api-reference/errors. The
// numeric code holds inside a 200 stream too; limit_source says whose limit.
var openRouterCodes = append([]codeRule{
	{fieldLimitSource, "openrouter_credits", vQuota, nil},
	{fieldLimitSource, "upstream_provider_shared_pool", vRateLimited, nil},
	{fieldCode, "402", vQuota, nil},
	{fieldCode, "429", vRateLimited, nil},
	{fieldCode, "408", vOriginTimeout, nil},
	{fieldCode, "403", vRefused, nil}, // the moderation flagged the input
	{fieldCode, "401", vAuth, nil},
	{fieldCode, "502", vOrigin5xx, nil},
	{fieldCode, "503", vOrigin5xx, nil},
}, openAICodes...)

// errorTables is the table of each catalog provider; other providers use
// their API's (errorTableFor).
var errorTables = map[string][]codeRule{
	"openai": openAICodes, "azure": azureCodes, "anthropic": anthropicCodes, "gemini": googleCodes,
	"vertex": vertexCodes, "bedrock": bedrockCodes, "mistral": mistralCodes, "groq": groqCodes,
	"deepseek": deepseekCodes, "xai": xaiCodes, "openrouter": openRouterCodes,
}

func errorTableFor(provider string, api API) []codeRule {
	if t, ok := errorTables[provider]; ok {
		return t
	}
	switch api {
	case APIAnthropic:
		return anthropicCodes
	case APIGemini:
		return googleCodes
	case APIAzure:
		return azureCodes
	case APIBedrock:
		return bedrockCodes
	case APIVertex:
		return vertexCodes
	}
	return openAICodes
}

// quotaRetryAfter is the retry-after beyond which a 429 is a quota: a wait
// of an hour or more (Azure's "retry after 86400 seconds") outlasts every
// burn-rate window's short half, and only the owner shortens it.
const quotaRetryAfter = time.Hour

// retryAfter reads a retry-after header in seconds; 0 when absent.
func retryAfter(h http.Header) time.Duration {
	if h == nil {
		return 0
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After")), 64)
	if err != nil || secs < 0 || secs > 1e7 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}
