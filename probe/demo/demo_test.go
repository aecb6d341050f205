package demo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe/worker"
)

// TestDemoBlamesTheRightLayer plays every scenario on a fast clock and
// checks the probes' verdicts against each phase's expectations: a shared
// Cloudflare outage is edge for OpenAI and Anthropic only, the OpenAI
// origin outage recovers its model list before inference, the 529 wave is
// origin overload, and one region's network failure is network from there
// only.
func TestDemoBlamesTheRightLayer(t *testing.T) {
	o := Options{Scenarios: "all", Exit: true, Listen: "127.0.0.1:0", Speed: 1000, Interval: 400 * time.Millisecond}
	if testing.Short() {
		o.Scenarios = "cloudflare-edge"
	}
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), o, &stdout, &stderr)
	out := stdout.String()
	t.Log(out)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
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

func TestDemoRejectsAnUnknownScenario(t *testing.T) {
	err := Run(context.Background(), Options{Scenarios: "meteor", Speed: 1, Interval: time.Second, Listen: "127.0.0.1:0"}, io.Discard, io.Discard)
	var ce *worker.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `--scenario: unknown scenario "meteor" (valid: cloudflare-edge, openai-origin, anthropic-overload, region-network)`) {
		t.Fatalf("got %v, want a configuration error naming the valid scenarios", err)
	}
}
