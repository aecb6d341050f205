package providertest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/probe/providertest"
)

func TestScopedFaultHitsOnlyItsPartOfTheAPI(t *testing.T) {
	s := providertest.NewServer(providertest.Options{})
	t.Cleanup(s.Close)
	s.Inject("openai", providertest.Fault{Kind: providertest.Origin503, Scope: providertest.ScopeInference})
	models, _ := http.NewRequest(http.MethodGet, s.BaseURL("openai")+"/models", nil)
	models.Header.Set("Authorization", "Bearer test-key")
	chat, _ := http.NewRequest(http.MethodPost, s.BaseURL("openai")+"/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1}`))
	chat.Header.Set("Authorization", "Bearer test-key")
	if got := do(t, s, models, roomy); got.err != nil || got.resp.StatusCode != 200 {
		t.Fatalf("models during an inference outage: %v %v", got.err, got.resp)
	}
	if got := do(t, s, chat, roomy); got.err != nil || got.resp.StatusCode != 503 {
		t.Fatalf("chat during an inference outage: %v", got.err)
	}
	if f := (providertest.Fault{Kind: providertest.Origin503, Scope: providertest.ScopeInference}); f.String() != "origin_503 on inference" {
		t.Errorf("String() = %q", f.String())
	}
	if _, err := providertest.ParseScope("control"); err == nil {
		t.Error("ParseScope accepted an unknown scope")
	}
}
