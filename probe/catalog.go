package probe

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// API names the wire protocol a provider speaks: how its requests are built
// and how its success, error and stream bodies look.
type API string

const (
	APIOpenAI    API = "openai"    // OpenAI chat completions and every compatible server
	APIAnthropic API = "anthropic" // Anthropic messages
	APIGemini    API = "gemini"    // Google Gemini generateContent
	APIAzure     API = "azure"     // Azure OpenAI: OpenAI bodies, deployment paths, api-key header
	APIBedrock   API = "bedrock"   // AWS Bedrock Converse: SigV4, AWS JSON errors, event-stream framing
	APIVertex    API = "vertex"    // Google Vertex AI: OAuth2; the model picks the schema (Gemini, or Anthropic's for Claude)
)

// Credentials says how a provider's chat and stream checks authenticate.
type Credentials string

const (
	CredentialsKey    Credentials = ""       // a static API key in Provider.KeyEnv
	CredentialsAWS    Credentials = "aws"    // SigV4 with aws-sdk-go-v2's default credential chain
	CredentialsGoogle Credentials = "google" // OAuth2 access tokens from Application Default Credentials
)

// Kind is what a check asks of a provider (contract: DESIGN.md, Checks).
type Kind string

const (
	KindReach  Kind = "reach"  // keyless, free: an API path answering at all, the provider's own 401 included
	KindChat   Kind = "chat"   // a minimal real completion
	KindStream Kind = "stream" // the same, streamed: time to first token, mid-stream errors
)

// Kinds lists the check kinds in a stable order.
var Kinds = []Kind{KindReach, KindChat, KindStream}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown check %q (want reach, chat or stream)", s)
}

// Provider is one catalog entry: where the API lives, how to authenticate,
// what the cheapest valid probe is, and which CDN normally fronts it.
type Provider struct {
	ID           string
	Name         string
	API          API
	BaseURL      string // API root with the same meaning as the provider SDK's base URL variable
	KeyEnv       string // conventional API key variable
	DefaultModel string
	Edge         string // CDN normally in front: cloudflare, google, azure, none
	ReachPath    string // GET path under BaseURL for the reach check
	// ReachPublic is true where the reach path answers 200 without a key
	// (OpenRouter's model list), so a 2xx in the provider's schema is success.
	ReachPublic bool
	// StatusPage is the provider's Statuspage-compatible summary JSON, if any.
	StatusPage string
	// Custom marks a user-named OpenAI-compatible endpoint.
	Custom bool
	// Azure settings (API azure only).
	AzureDeployment string
	AzureAPIVersion string

	// Credentials is how chat and stream authenticate; KeyEnv is empty
	// unless it is CredentialsKey.
	Credentials Credentials
	// Region is the AWS region (bedrock) or the Google Cloud location
	// (vertex); Project is the Google Cloud project (vertex).
	Region  string
	Project string
	// Models are the models of the chat and stream checks, one check each
	// (LLMPROBE_<ID>_MODELS); DefaultModel is the first.
	Models []string
	// MaxTokens is the output limit of chat and stream probes
	// (LLMPROBE_<ID>_MAX_TOKENS); 0 means OutputTokenLimit's default.
	MaxTokens int
	// stockBaseURL is the API root the catalog computed for Region, so a
	// regional default still counts as the provider's real API root.
	stockBaseURL string
}

// Catalog returns the built-in providers in a stable order. Azure has no
// usable BaseURL until its resource is configured (it is tenant-specific).
func Catalog() []Provider {
	return []Provider{
		{ID: "openai", Name: "OpenAI", API: APIOpenAI, BaseURL: "https://api.openai.com/v1", KeyEnv: "OPENAI_API_KEY",
			DefaultModel: "gpt-4o-mini", Edge: "cloudflare", ReachPath: "/models", StatusPage: "https://status.openai.com/api/v2/components.json"},
		{ID: "anthropic", Name: "Anthropic", API: APIAnthropic, BaseURL: "https://api.anthropic.com", KeyEnv: "ANTHROPIC_API_KEY",
			DefaultModel: "claude-haiku-4-5", Edge: "cloudflare", ReachPath: "/v1/models", StatusPage: "https://status.claude.com/api/v2/summary.json"},
		{ID: "gemini", Name: "Google Gemini", API: APIGemini, BaseURL: "https://generativelanguage.googleapis.com", KeyEnv: "GEMINI_API_KEY",
			DefaultModel: "gemini-2.5-flash-lite", Edge: "google", ReachPath: "/v1beta/models"},
		{ID: "mistral", Name: "Mistral", API: APIOpenAI, BaseURL: "https://api.mistral.ai/v1", KeyEnv: "MISTRAL_API_KEY",
			DefaultModel: "mistral-small-latest", Edge: "cloudflare", ReachPath: "/models"},
		{ID: "groq", Name: "Groq", API: APIOpenAI, BaseURL: "https://api.groq.com/openai/v1", KeyEnv: "GROQ_API_KEY",
			DefaultModel: "llama-3.1-8b-instant", Edge: "cloudflare", ReachPath: "/models", StatusPage: "https://groqstatus.com/api/v2/summary.json"},
		{ID: "deepseek", Name: "DeepSeek", API: APIOpenAI, BaseURL: "https://api.deepseek.com/v1", KeyEnv: "DEEPSEEK_API_KEY",
			DefaultModel: "deepseek-chat", Edge: EdgeEdgeOne, ReachPath: "/models"}, // Tencent EdgeOne since 2026 (eo-log-uuid beside the origin's x-ds-trace-id)
		{ID: "xai", Name: "xAI", API: APIOpenAI, BaseURL: "https://api.x.ai/v1", KeyEnv: "XAI_API_KEY",
			DefaultModel: "grok-3-mini", Edge: "none", ReachPath: "/models"},
		{ID: "openrouter", Name: "OpenRouter", API: APIOpenAI, BaseURL: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY",
			DefaultModel: "openai/gpt-4o-mini", Edge: "cloudflare", ReachPath: "/models", ReachPublic: true},
		{ID: "azure", Name: "Azure OpenAI", API: APIAzure, KeyEnv: "AZURE_OPENAI_API_KEY",
			Edge: "azure", ReachPath: "/models", AzureAPIVersion: "2024-10-21"},
		// Bedrock's runtime has no CDN in front. Its keyless reach lists async
		// invocations, a runtime GET that answers an unsigned call with AWS's
		// own 403 JSON.
		{ID: "bedrock", Name: "AWS Bedrock", API: APIBedrock, Credentials: CredentialsAWS, Region: DefaultBedrockRegion,
			BaseURL: BedrockBaseURL(DefaultBedrockRegion), DefaultModel: "amazon.nova-micro-v1:0", Edge: "none", ReachPath: "/async-invoke"},
		// Vertex needs a project (LLMPROBE_VERTEX_PROJECT); without one a
		// zero-configuration run skips it, as it skips Azure.
		{ID: "vertex", Name: "Google Vertex AI", API: APIVertex, Credentials: CredentialsGoogle, Region: DefaultVertexLocation,
			DefaultModel: "gemini-2.5-flash-lite", Edge: "google"},
	}
}

// Defaults of the regional providers (README, Providers).
const (
	DefaultBedrockRegion  = "us-east-1"
	DefaultVertexLocation = "us-central1"
)

// BedrockBaseURL is the Bedrock runtime endpoint of an AWS region.
func BedrockBaseURL(region string) string {
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// VertexBaseURL is the Vertex AI endpoint of a location; "global" has no
// regional prefix.
func VertexBaseURL(location string) string {
	if location == "global" {
		return "https://aiplatform.googleapis.com"
	}
	return "https://" + location + "-aiplatform.googleapis.com"
}

// VertexPublisher is the Vertex publisher that serves model: Claude models
// are Anthropic's (rawPredict, Anthropic's schema), the rest Google's
// (generateContent, Gemini's schema).
func VertexPublisher(model string) string {
	m := strings.TrimPrefix(model, "publishers/anthropic/models/")
	if strings.HasPrefix(m, "claude") {
		return "anthropic"
	}
	return "google"
}

// WireAPI is the schema a check's bodies are in: the provider's API, except
// Vertex, whose model picks Gemini's or Anthropic's schema.
func WireAPI(api API, model string) API {
	if api != APIVertex {
		return api
	}
	if VertexPublisher(model) == "anthropic" {
		return APIAnthropic
	}
	return APIGemini
}

// ProviderIDs returns the built-in provider ids in catalog order.
func ProviderIDs() []string {
	cat := Catalog()
	ids := make([]string, len(cat))
	for i, p := range cat {
		ids[i] = p.ID
	}
	return ids
}

// LookupProvider returns the built-in provider with the given id. Every
// probe asks (Check.usesDefaultBaseURL), so the catalog is built once and
// each call gets its own copy of the entry (Models cloned).
func LookupProvider(id string) (Provider, bool) {
	p, ok := catalogByID()[id]
	if ok {
		p.Models = slices.Clone(p.Models)
	}
	return p, ok
}

var catalogByID = sync.OnceValue(func() map[string]Provider {
	m := map[string]Provider{}
	for _, p := range Catalog() {
		m[p.ID] = p
	}
	return m
})

// CustomProvider returns an entry for a user-named OpenAI-compatible endpoint
// (a gateway or a self-hosted server). Its key variable is <ID>_API_KEY.
func CustomProvider(id, baseURL, model string) Provider {
	return Provider{ID: id, Name: id, API: APIOpenAI, BaseURL: baseURL, KeyEnv: strings.ToUpper(id) + "_API_KEY",
		DefaultModel: model, Edge: "none", ReachPath: "/models", Custom: true}
}

// ValidID reports whether id may name a provider: lower-case letters, digits
// and '_', starting with a letter, so it can also form variable names.
func ValidID(id string) bool {
	return id != "" && id[0] >= 'a' && id[0] <= 'z' && nameOf(id, 32, false, "_")
}

// AzureBaseURL is the API root of an Azure OpenAI resource.
func AzureBaseURL(resource string) string {
	return "https://" + resource + ".openai.azure.com/openai"
}

// maxURL bounds a URL setting: an API root or a control target.
const maxURL = 2048

// ParseBaseURL checks that s is an absolute http or https URL with a host and
// no query, user info or fragment, and returns it without a trailing slash.
// Errors show s redacted (RedactURL): a rejected URL may hold a password.
func ParseBaseURL(s string) (string, error) {
	shown := strconv.Quote(RedactURL(s))
	if len(s) > maxURL {
		return "", fmt.Errorf("%.80s...: longer than %d characters", shown, maxURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL", shown)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%s: scheme must be http or https", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%s: no host", shown)
	}
	if u.User != nil {
		return "", fmt.Errorf("%s: a base URL must not carry user info (the key goes in its variable)", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "?") || strings.Contains(s, "#") {
		return "", fmt.Errorf("%s: no query or fragment allowed", shown)
	}
	return strings.TrimRight(s, "/"), nil
}

// IsReasoningModel reports whether an OpenAI-style model spends hidden
// reasoning tokens: such models reject max_tokens, want
// max_completion_tokens and a floor high enough to leave room for an answer.
func IsReasoningModel(model string) bool {
	m := model
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "grok-3-mini", "deepseek-reasoner"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// OutputTokenLimit is the smallest output limit that still yields a
// one-word answer on model: 5 for ordinary models, more for reasoning ones.
// LLMPROBE_<ID>_MAX_TOKENS overrides it (Check.MaxTokens).
func OutputTokenLimit(api API, model string) int {
	if WireAPI(api, model) == APIGemini && strings.Contains(model, "pro") {
		return 64 // 2.5 Pro cannot turn thinking off; it needs room for a token of answer
	}
	if IsReasoningModel(model) {
		return 64
	}
	return 5
}

// sortedIDs returns ids sorted, for messages.
func sortedIDs(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}
