package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestDemoBlamesTheRightLayer plays every scenario on a fast clock and
// checks the probes' verdicts against each phase's expectations: a shared
// Cloudflare outage is edge for OpenAI and Anthropic only, the OpenAI
// origin outage recovers its model list before inference, the 529 wave is
// origin overload, and one region's network failure is network from there
// only.
func TestDemoBlamesTheRightLayer(t *testing.T) {
	clearLLMProbeEnv(t)
	args := []string{"demo", "--exit", "--listen", "127.0.0.1:0", "--speed", "1000", "--interval", "400ms"}
	if testing.Short() {
		args = append(args, "--scenario", "cloudflare-edge")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, os.Getenv, &stdout, &stderr)
	out := stdout.String()
	t.Log(out)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr.String())
	}
	if strings.Contains(out, "✗") {
		t.Fatalf("a wrong verdict:\n%s", out)
	}
	for _, want := range []string{"✓ openai reach+chat+stream: edge_error/edge_5xx via cloudflare from eu-west, us-east, ap-south",
		"✓ gemini reach+chat+stream: success from eu-west, us-east, ap-south", "status page http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !testing.Short() {
		for _, want := range []string{"✓ openai reach: success from", "✓ openai chat+stream: origin_error/overloaded", "✓ anthropic reach+chat+stream: origin_error/overloaded",
			"✓ openai reach+chat+stream: network_error/connect_refused from eu-west\n", "all 4 scenarios: the probes blamed the right layer in every phase"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
	}
}

func TestDemoUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--list-scenarios"}, os.Getenv, &stdout, &stderr); code != exitOK || !strings.Contains(stdout.String(), "cloudflare-edge") {
		t.Fatalf("--list-scenarios: exit %d %s", code, stdout.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"demo", "--scenario", "meteor"}, os.Getenv, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), `--scenario: unknown scenario "meteor" (valid: cloudflare-edge, openai-origin, anthropic-overload, region-network)`) {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
}
