package demo

import (
	"fmt"
	"io"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// demoRegions are the regions the demo runs a worker in.
var demoRegions = []string{"eu-west", "us-east", "ap-south"}

// demoProviders are the providers the demo probes, and the fake edge that
// fronts each (Cloudflare for OpenAI and Anthropic, Google for Gemini).
var demoProviders = []struct {
	id   string
	edge providertest.Edge
}{{"openai", providertest.EdgeCloudflare}, {"anthropic", providertest.EdgeCloudflare}, {"gemini", providertest.EdgeGoogle}}

// scenario is a scripted incident, told in incident time and replayed on
// a compressed clock.
type scenario struct {
	name    string
	title   string
	summary string
	phases  []phase
}

// phase is one stretch of an incident: what changes at its start and what
// the probes should conclude before it ends.
type phase struct {
	length time.Duration // in incident time
	say    string
	apply  func(e *demoEnv)
	expect []expectation
}

// expectation is a verdict the probes must reach: for a provider and check
// kinds, the outcome (and reason, when set) from the listed regions (all
// when empty).
type expectation struct {
	provider string
	kinds    []probe.Kind
	outcome  probe.Outcome
	reason   probe.Reason
	regions  []string
}

var allKinds = []probe.Kind{probe.KindReach, probe.KindChat, probe.KindStream}
var inference = []probe.Kind{probe.KindChat, probe.KindStream}

func allOK(providers ...string) []expectation {
	var out []expectation
	for _, p := range providers {
		out = append(out, expectation{provider: p, kinds: allKinds, outcome: probe.OutcomeSuccess})
	}
	return out
}

func healthy(minutes int) phase {
	return phase{length: time.Duration(minutes) * time.Minute, say: "all providers healthy",
		apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")}
}

func scenarios() []scenario {
	return []scenario{
		{
			name:    "cloudflare-edge",
			title:   "Shared Cloudflare edge outage (as on 2026-04-20)",
			summary: "Cloudflare fails in front of OpenAI and Anthropic together; Gemini, behind Google's front end, stays up.",
			phases: []phase{
				healthy(3),
				{length: 6 * time.Minute, say: "Cloudflare's edge fails: its own 500s for every OpenAI and Anthropic request",
					apply: func(e *demoEnv) {
						e.inject("openai", providertest.Fault{Kind: providertest.CF500})
						e.inject("anthropic", providertest.Fault{Kind: providertest.CF500})
					},
					expect: []expectation{
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeEdgeError, reason: probe.ReasonEdge5xx},
						{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeEdgeError, reason: probe.ReasonEdge5xx},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeSuccess},
					}},
				{length: 4 * time.Minute, say: "Cloudflare recovers", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
		},
		{
			name:    "openai-origin",
			title:   "OpenAI origin outage with a staged recovery",
			summary: "OpenAI's servers fail behind a healthy Cloudflare; the control plane (model list) comes back before inference.",
			phases: []phase{
				healthy(3),
				{length: 6 * time.Minute, say: "OpenAI's origin answers 503 to everything; Cloudflare relays it",
					apply: func(e *demoEnv) { e.inject("openai", providertest.Fault{Kind: providertest.Origin500}) },
					expect: append([]expectation{{provider: "openai", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOrigin5xx}},
						allOK("anthropic", "gemini")...)},
				{length: 6 * time.Minute, say: "the control plane is back (model list answers), inference still fails",
					apply: func(e *demoEnv) {
						e.clear()
						e.inject("openai", providertest.Fault{Kind: providertest.Origin503, Scope: providertest.ScopeInference})
					},
					expect: append([]expectation{
						{provider: "openai", kinds: []probe.Kind{probe.KindReach}, outcome: probe.OutcomeSuccess},
						{provider: "openai", kinds: inference, outcome: probe.OutcomeOriginError, reason: probe.ReasonOverloaded},
					}, allOK("anthropic", "gemini")...)},
				{length: 4 * time.Minute, say: "inference recovers", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
		},
		{
			name:    "anthropic-overload",
			title:   "Anthropic 529 overload wave",
			summary: "Anthropic answers 529 overloaded_error; the probes back off instead of adding to the herd.",
			phases: []phase{
				healthy(3),
				{length: 8 * time.Minute, say: "Anthropic is overloaded: 529 on every request",
					apply: func(e *demoEnv) { e.inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529}) },
					expect: append([]expectation{{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOverloaded}},
						allOK("openai", "gemini")...)},
				{length: 8 * time.Minute, say: "the wave passes", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
		},
		{
			name:    "region-network",
			title:   "Network failure in one region",
			summary: "eu-west loses its route out: every provider and the control target fail from there only; the other regions see nothing.",
			phases: []phase{
				healthy(3),
				{length: 6 * time.Minute, say: "eu-west's network fails (connections refused)",
					apply: func(e *demoEnv) { e.regionDown("eu-west") },
					expect: []expectation{
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeSuccess, regions: []string{"us-east", "ap-south"}},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeSuccess, regions: []string{"us-east", "ap-south"}},
					}},
				{length: 4 * time.Minute, say: "eu-west's network is back", apply: func(e *demoEnv) { e.regionUp("eu-west") }, expect: allOK("openai", "anthropic", "gemini")},
			},
		},
	}
}

// ListScenarios writes each scenario's name, title and summary.
func ListScenarios(w io.Writer) {
	for _, sc := range scenarios() {
		fmt.Fprintf(w, "%-20s %s\n%-20s %s\n", sc.name, sc.title, "", sc.summary)
	}
}
