package main

import (
	"os"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"
	"github.com/llmprobe/llmprobe/probe/worker"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestREADMEHasTheReasonList(t *testing.T) {
	if !strings.Contains(readme(t), reasonTable()) {
		t.Fatal("README.md's reason table differs from probe.Reasons: paste `llmprobe providers --reasons` into it")
	}
}

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	var keys strings.Builder
	if err := envconfig.Usagef(worker.EnvPrefix, &worker.Settings{}, &keys, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	doc := readme(t)
	for _, k := range strings.Fields(keys.String()) {
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("README.md does not document %s", k)
		}
	}
}

func TestREADMEStartsWithTheTwoCommands(t *testing.T) {
	doc := readme(t)
	i := strings.Index(doc, "```sh\n")
	if i < 0 {
		t.Fatal("no shell block")
	}
	lines := strings.Split(doc[i+6:], "\n")
	if !strings.HasPrefix(lines[0], "go run ./cmd/llmprobe run") || !strings.HasPrefix(lines[1], "bash scripts/test.sh") {
		t.Fatalf("the first two commands are %q and %q", lines[0], lines[1])
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil || !strings.Contains(string(ci), "bash scripts/test.sh") {
		t.Fatalf(".ci/run must call the README's test command: %v", err)
	}
}
