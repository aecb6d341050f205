package main

import (
	"bytes"
	"context"
	"sort"
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

// TestRunCheckConfigRejectsWhatRunRejects: every configuration `run`
// refuses, `run --check-config` refuses too, with the same exit status and
// a line naming the variable; and `run` refuses it before it starts.
func TestRunCheckConfigRejectsWhatRunRejects(t *testing.T) {
	tests := []struct {
		env     map[string]string
		message string
	}{
		{map[string]string{"LLMPROBE_LISTEN": "127.0.0.1:99999"}, "LLMPROBE_LISTEN: \"127.0.0.1:99999\": the port must be a number from 0 to 65535"},
		{map[string]string{"LLMPROBE_LISTEN": ""}, "LLMPROBE_LISTEN: empty: want host:port"},
		{map[string]string{"LLMPROBE_LISTEN": "9469"}, "LLMPROBE_LISTEN: \"9469\" is not host:port"},
		{map[string]string{"OPENAI_API_KEY": testKey, "LLMPROBE_OPENAI_MODEL": "gpt-\xff"}, `LLMPROBE_OPENAI_MODEL: "gpt-\xff" is not valid UTF-8`},
		{map[string]string{"AZURE_OPENAI_API_KEY": testKey, "LLMPROBE_AZURE_RESOURCE": "acme", "LLMPROBE_AZURE_DEPLOYMENT": "dep\xc3"}, `LLMPROBE_AZURE_DEPLOYMENT: "dep\xc3" is not valid UTF-8`},
		{map[string]string{"LLMPROBE_HISTORY": "2000000000"}, "LLMPROBE_HISTORY: 2000000000 is outside 1 to 1000"},
		{map[string]string{"LLMPROBE_HISTORY": "-5"}, "LLMPROBE_HISTORY: -5 is outside 1 to 1000"},
		{map[string]string{"LLMPROBE_TIMEOUT": "1ns"}, "LLMPROBE_TIMEOUT: 1ns is outside 500ms to 10m0s"},
		{map[string]string{"LLMPROBE_INTERVAL": "1ms", "LLMPROBE_TIMEOUT": "1ms"}, "LLMPROBE_INTERVAL: 1ms is outside 1s to 24h0m0s"},
		{map[string]string{"LLMPROBE_CONCURRENCY": "100000"}, "LLMPROBE_CONCURRENCY: 100000 is outside 1 to 1024"},
		{map[string]string{"LLMPROBE_MAX_CONNECTIONS": "0"}, "LLMPROBE_MAX_CONNECTIONS: 0 is outside 1 to 4096"},
		{map[string]string{"LLMPROBE_PROVIDER": "openai"}, "LLMPROBE_PROVIDER: a variable of llmprobe check, which the worker does not read"},
		{map[string]string{"LLMPROBE_CHECK": "chat"}, "LLMPROBE_CHECK: a variable of llmprobe check"},
		{map[string]string{"LLMPROBE_OUTPUT": "json"}, "LLMPROBE_OUTPUT: a variable of llmprobe check"},
		{map[string]string{"LLMPROBE_CA_FILE": "/dev/zero"}, "LLMPROBE_CA_FILE: /dev/zero: not a regular file"},
		{map[string]string{"OPENAI_API_KEY": "abc"}, "OPENAI_API_KEY: the key has 3 characters"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, `OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" is not supported`},
		{map[string]string{"LLMPROBE_CONTROL_TARGETS": "a=https://u:hunter2-pw@ex.test/?token=s3cr3t-value,b=https://u:hunter2-pw@[bad/?token=s3cr3t-value"},
			`LLMPROBE_CONTROL_TARGETS: "https://redacted@[bad/?token=redacted" is not an http(s) URL`},
		{map[string]string{"LLMPROBE_OPENAI_BASE_URL": "https://gw.example/v1?token=s3cr3t-value"}, `LLMPROBE_OPENAI_BASE_URL: "https://gw.example/v1?token=redacted": no query or fragment allowed`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(sortedKeys(tt.env), ","), func(t *testing.T) {
			for _, args := range [][]string{{"run", "--check-config"}, {"run"}} {
				testkit.ClearEnv(t)
				t.Setenv("LLMPROBE_CONTROL_TARGETS", "")
				t.Setenv("LLMPROBE_STATUS_PAGES", "false")
				t.Setenv("LLMPROBE_LISTEN", "127.0.0.1:0")
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				// Should a case start after all, a cancelled context stops
				// the worker at once and the exit status tells.
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				var stdout, stderr bytes.Buffer
				code := run(ctx, args, &stdout, &stderr)
				if code != exitUsage || !strings.Contains(stderr.String(), tt.message) {
					t.Fatalf("%v: exit %d, stderr %q; want 2 and %q", args, code, stderr.String(), tt.message)
				}
				if strings.Contains(stderr.String(), "hunter2") || strings.Contains(stderr.String(), "s3cr3t") {
					t.Errorf("%v: stderr %q shows a secret", args, stderr.String())
				}
			}
		})
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
