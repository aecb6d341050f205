package worker

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
)

// staticSigner stands for found cloud credentials.
type staticSigner struct{}

func (*staticSigner) Sign(context.Context, *http.Request, []byte) ([]probe.Secret, error) {
	return nil, nil
}

func TestChecksMakeOneChatAndStreamPerModelAndSignCloudProviders(t *testing.T) {
	testkit.ClearEnv(t)
	t.Setenv("LLMPROBE_PROVIDERS", "anthropic,bedrock,vertex")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test-000000")
	t.Setenv("LLMPROBE_ANTHROPIC_MODELS", "claude-haiku-4-5,claude-sonnet-4-5")
	t.Setenv("LLMPROBE_VERTEX_PROJECT", "acme")
	t.Setenv("LLMPROBE_BEDROCK_MAX_TOKENS", "32")
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	signer := &staticSigner{}
	found := map[string]bool{"bedrock": true} // vertex: no credentials found
	checks, skipped, err := s.checks(context.Background(), func(_ context.Context, p probe.Provider) (probe.Signer, string, error) {
		if found[p.ID] {
			return signer, "", nil
		}
		return nil, "no credentials", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range checks {
		names = append(names, c.Name())
		if c.Provider.ID == "bedrock" && c.Kind != probe.KindReach && (c.Signer != signer || c.OutputLimit() != 32) {
			t.Errorf("%s: signer %v limit %d", c.Name(), c.Signer, c.OutputLimit())
		}
		if c.Kind == probe.KindReach && c.Signer != nil {
			t.Errorf("%s: reach must stay keyless", c.Name())
		}
	}
	want := "anthropic/reach anthropic/chat/claude-haiku-4-5 anthropic/chat/claude-sonnet-4-5 anthropic/stream/claude-haiku-4-5 anthropic/stream/claude-sonnet-4-5 " +
		"bedrock/reach bedrock/chat/amazon.nova-micro-v1:0 bedrock/stream/amazon.nova-micro-v1:0 vertex/reach"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("checks\n got %s\nwant %s", got, want)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "vertex chat and stream: no credentials") {
		t.Fatalf("skipped %q", skipped)
	}
}

func TestChecksSkipVertexWithoutAProjectAndRejectBothModelSettings(t *testing.T) {
	testkit.ClearEnv(t)
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	_, skipped, err := s.checks(context.Background(), func(context.Context, probe.Provider) (probe.Signer, string, error) { return nil, "", nil })
	if err != nil || !strings.Contains(strings.Join(skipped, "\n"), "vertex: provider vertex needs LLMPROBE_VERTEX_PROJECT") {
		t.Fatalf("zero configuration: skipped %q, %v", skipped, err)
	}
	t.Setenv("LLMPROBE_OPENAI_MODEL", "gpt-4o-mini")
	t.Setenv("LLMPROBE_OPENAI_MODELS", "gpt-4o-mini,gpt-4.1-nano")
	if _, _, err := s.Checks(); err == nil || !strings.Contains(err.Error(), "LLMPROBE_OPENAI_MODEL and LLMPROBE_OPENAI_MODELS are both set") {
		t.Fatalf("both set: %v", err)
	}
}

func TestTheNewProviderSettingsAreKnownVariables(t *testing.T) {
	testkit.ClearEnv(t)
	for _, k := range []string{"LLMPROBE_OPENAI_MODELS", "LLMPROBE_GROQ_MAX_TOKENS", "LLMPROBE_VERTEX_PROJECT", "LLMPROBE_VERTEX_LOCATION"} {
		t.Setenv(k, "x")
	}
	t.Setenv("LLMPROBE_OPENAI_MAX_TOKEN", "5") // a typo
	_, err := LoadSettings()
	if err == nil || !strings.Contains(err.Error(), "LLMPROBE_OPENAI_MAX_TOKEN: unknown variable") {
		t.Fatalf("got %v, want only the typo reported", err)
	}
}
