package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

// TestRunConfigErrorExitsTwoNamingTheVariable: `llmprobe run` turns the
// worker's configuration errors (probe/worker's tests cover each) into exit
// status 2 and one line that names the variable.
func TestRunConfigErrorExitsTwoNamingTheVariable(t *testing.T) {
	testkit.ClearEnv(t)
	t.Setenv("LLMPROBE_CONTROL_TARGETS", "")
	t.Setenv("LLMPROBE_INTERVAL", "often")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run"}, &stdout, &stderr)
	if want := "llmprobe run: LLMPROBE_INTERVAL: \"often\" is not a valid time.Duration\n"; code != exitUsage || stderr.String() != want {
		t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}

func TestRunCheckConfigListsChecksWithoutKeys(t *testing.T) {
	testkit.ClearEnv(t)
	t.Setenv("OPENAI_API_KEY", testKey)
	t.Setenv("LLMPROBE_CUSTOM_PROVIDERS", "gateway")
	t.Setenv("LLMPROBE_GATEWAY_BASE_URL", "http://127.0.0.1:4000/v1")
	t.Setenv("LLMPROBE_GATEWAY_MODEL", "llama3")
	t.Setenv("GATEWAY_API_KEY", testKey)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "--check-config"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	rows := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 {
			rows[f[0]+" "+f[1]+" "+f[2]] = true
		}
	}
	for _, want := range []string{"openai chat gpt-4o-mini", "openai stream gpt-4o-mini", "gateway chat llama3", "anthropic reach -"} {
		if !rows[want] {
			t.Errorf("--check-config output lacks the check %q:\n%s", want, out)
		}
	}
	if rows["anthropic chat claude-haiku-4-5"] {
		t.Error("anthropic has no key, so no chat check")
	}
	for _, want := range []string{"configuration ok: region local, interval 30s", "not probed: azure"} {
		if !strings.Contains(out, want) {
			t.Errorf("--check-config output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr.String(), testKey) {
		t.Fatal("--check-config shows a key")
	}
}
