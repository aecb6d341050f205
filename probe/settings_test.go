package probe

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// envMap is an env func over a map, for ResolveProvider.
func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolveProviderModelsMakeOneModelEach(t *testing.T) {
	p, err := ResolveProvider("anthropic", envMap(map[string]string{"LLMPROBE_ANTHROPIC_MODELS": "claude-haiku-4-5, claude-sonnet-4-5"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Models, "|"); got != "claude-haiku-4-5|claude-sonnet-4-5" || p.DefaultModel != "claude-haiku-4-5" {
		t.Fatalf("models %q default %q", got, p.DefaultModel)
	}
	p, err = ResolveProvider("openai", envMap(nil))
	if err != nil || strings.Join(p.Models, "|") != "gpt-4o-mini" {
		t.Fatalf("default models %v, %v", p.Models, err)
	}
}

func TestResolveProviderRejectsBadModelSettings(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"both MODEL and MODELS", map[string]string{"LLMPROBE_OPENAI_MODEL": "a", "LLMPROBE_OPENAI_MODELS": "b,c"},
			"LLMPROBE_OPENAI_MODEL and LLMPROBE_OPENAI_MODELS are both set"},
		{"an empty entry", map[string]string{"LLMPROBE_OPENAI_MODELS": "a,,b"}, `LLMPROBE_OPENAI_MODELS: "a,,b" has an empty entry`},
		{"a repeated model", map[string]string{"LLMPROBE_OPENAI_MODELS": "a,a"}, `LLMPROBE_OPENAI_MODELS: model "a" is listed twice`},
		{"a zero output limit", map[string]string{"LLMPROBE_OPENAI_MAX_TOKENS": "0"}, `LLMPROBE_OPENAI_MAX_TOKENS: "0" is not a whole number of output tokens from 1 to 65536`},
		{"a word for an output limit", map[string]string{"LLMPROBE_GROQ_MAX_TOKENS": "many"}, `LLMPROBE_GROQ_MAX_TOKENS: "many" is not a whole number`},
		{"a malformed AWS region", map[string]string{"AWS_REGION": "US East"}, `AWS_REGION: "US East" is not an AWS region`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := "openai"
			if strings.Contains(tt.want, "GROQ") {
				id = "groq"
			}
			if strings.HasPrefix(tt.want, "AWS_REGION") {
				id = "bedrock"
			}
			_, err := ResolveProvider(id, envMap(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestResolveBedrockAndVertexSettings(t *testing.T) {
	b, err := ResolveProvider("bedrock", envMap(map[string]string{"AWS_REGION": "eu-west-1", "LLMPROBE_BEDROCK_MAX_TOKENS": "16"}))
	if err != nil {
		t.Fatal(err)
	}
	if b.BaseURL != "https://bedrock-runtime.eu-west-1.amazonaws.com" || b.Region != "eu-west-1" || b.MaxTokens != 16 || b.Credentials != CredentialsAWS {
		t.Fatalf("bedrock %+v", b)
	}
	if d, _ := ResolveProvider("bedrock", envMap(nil)); d.BaseURL != "https://bedrock-runtime.us-east-1.amazonaws.com" {
		t.Fatalf("bedrock's default region gives %q", d.BaseURL)
	}
	v, err := ResolveProvider("vertex", envMap(nil))
	if err != nil || v.BaseURL != "" {
		t.Fatalf("vertex without a project: base %q, %v", v.BaseURL, err)
	}
	if msg := MissingBaseURL(v).Error(); !strings.Contains(msg, "LLMPROBE_VERTEX_PROJECT") {
		t.Fatalf("the missing-project error %q does not name LLMPROBE_VERTEX_PROJECT", msg)
	}
	v, err = ResolveProvider("vertex", envMap(map[string]string{"LLMPROBE_VERTEX_PROJECT": "acme-prod", "LLMPROBE_VERTEX_LOCATION": "global"}))
	if err != nil || v.BaseURL != "https://aiplatform.googleapis.com" || v.ReachPath != "/v1/projects/acme-prod/locations/global/endpoints" {
		t.Fatalf("vertex %+v, %v", v, err)
	}
}

// body decodes a built request's JSON body.
func body(t *testing.T, out outgoing) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(out.body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildRequestUsesTheOutputLimitAndEachAPIsShape(t *testing.T) {
	vertexP, _ := ResolveProvider("vertex", envMap(map[string]string{"LLMPROBE_VERTEX_PROJECT": "acme", "LLMPROBE_VERTEX_LOCATION": "us-east5"}))
	bedrockP, _ := ResolveProvider("bedrock", envMap(nil))
	openaiP, _ := ResolveProvider("openai", envMap(map[string]string{"LLMPROBE_OPENAI_MAX_TOKENS": "300"}))

	out, err := buildRequest(Check{Provider: openaiP, Kind: KindChat, Model: "gpt-4o-mini"})
	if err != nil || body(t, out)["max_tokens"] != 300.0 {
		t.Fatalf("openai with LLMPROBE_OPENAI_MAX_TOKENS=300: %s, %v", out.body, err)
	}
	out, err = buildRequest(Check{Provider: openaiP, Kind: KindChat, Model: "o4-mini", MaxTokens: 2048})
	if err != nil || body(t, out)["max_completion_tokens"] != 2048.0 {
		t.Fatalf("a check's own limit wins: %s, %v", out.body, err)
	}

	out, err = buildRequest(Check{Provider: bedrockP, Kind: KindStream, Model: "amazon.nova-micro-v1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if out.url != "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse-stream" ||
		out.header.Get("Authorization") != "" || out.header.Get("Accept") != "application/vnd.amazon.eventstream" {
		t.Fatalf("bedrock stream: %s %v", out.url, out.header)
	}
	if ic, _ := body(t, out)["inferenceConfig"].(map[string]any); ic["maxTokens"] != 5.0 {
		t.Fatalf("bedrock inferenceConfig %v", body(t, out)["inferenceConfig"])
	}

	out, err = buildRequest(Check{Provider: vertexP, Kind: KindChat, Model: "claude-haiku-4-5@20251001"})
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, out)
	if out.url != "https://us-east5-aiplatform.googleapis.com/v1/projects/acme/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict" ||
		b["anthropic_version"] != "vertex-2023-10-16" || b["model"] != nil {
		t.Fatalf("vertex claude: %s %s", out.url, out.body)
	}
	out, err = buildRequest(Check{Provider: vertexP, Kind: KindStream, Model: "gemini-2.5-flash-lite"})
	if err != nil || !strings.HasSuffix(out.url, "/publishers/google/models/gemini-2.5-flash-lite:streamGenerateContent?alt=sse") {
		t.Fatalf("vertex gemini stream: %s, %v", out.url, err)
	}
	out, err = buildRequest(Check{Provider: vertexP, Kind: KindReach})
	if err != nil || out.url != "https://us-east5-aiplatform.googleapis.com/v1/projects/acme/locations/us-east5/endpoints" || out.method != http.MethodGet {
		t.Fatalf("vertex reach: %s %s, %v", out.method, out.url, err)
	}
}

func TestOutputLimitNamesItsVariableAndNeedsNoText(t *testing.T) {
	spent := `{"choices":[{"message":{"role":"assistant","content":""},"finish_reason":"length"}],"usage":{"prompt_tokens":13,"completion_tokens":64,"completion_tokens_details":{"reasoning_tokens":64}}}`
	v := Classify(Observation{Provider: "openai", API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Body: []byte(spent), OutputLimit: 64})
	if v.Outcome != OutcomeProbeError || v.Reason != ReasonOutputLimit ||
		!strings.Contains(v.Message, "LLMPROBE_OPENAI_MAX_TOKENS") || !strings.Contains(v.Message, "64 tokens") {
		t.Fatalf("got %s/%s %q", v.Outcome, v.Reason, v.Message)
	}
	// Some text with the same stop reason is a success: the limit only
	// cut the answer short, and the canary judges the words.
	some := strings.Replace(spent, `"content":""`, `"content":"po"`, 1)
	if v := Classify(Observation{Provider: "openai", API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 200, Body: []byte(some)}); v.Outcome != OutcomeSuccess {
		t.Fatalf("text with finish length: got %s/%s", v.Outcome, v.Reason)
	}
}
