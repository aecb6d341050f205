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

// scenario is a scripted incident, told in incident time. The first phase
// is healthy; the incident starts with the second, and every time the demo
// prints is counted from there.
type scenario struct {
	name    string
	title   string
	summary string
	phases  []phase
	// official is what the public record (../shared/incidents.md) says of
	// the provider's own first post.
	official official
	// pages are the alerts the rules must raise (each must fire; delivered
	// or inhibited as it says); any other page that reaches a receiver is a
	// failure.
	pages []pageExpectation
}

// official is the public record's first timed official post about an
// incident.
type official struct {
	// ackAfter is the first timed official post after the recorded start,
	// or 0 when the record gives no such pair (the lead is then unknown).
	ackAfter time.Duration
	post     string
	source   string
}

// pageExpectation is an alert a scenario must raise: its name and some of
// its labels, and whether it reaches a receiver (false: it must fire and be
// inhibited, never delivered).
type pageExpectation struct {
	alert     string
	labels    map[string]string
	delivered bool
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

func page(alert string, delivered bool, kv ...string) pageExpectation {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return pageExpectation{alert: alert, labels: l, delivered: delivered}
}

// The record gives no timed official post for these: no lead is claimed.
var (
	recordIncidents = "../shared/incidents.md (public news reports of the 2026 outages)"
	noTimedPost     = official{post: "the record gives no time for the first official post", source: recordIncidents}
)

func scenarios() []scenario {
	cf500 := func(e *demoEnv) {
		e.inject("openai", providertest.Fault{Kind: providertest.CF500})
		e.inject("anthropic", providertest.Fault{Kind: providertest.CF500})
	}
	return []scenario{
		{
			name:    "cloudflare-edge",
			title:   "Shared Cloudflare edge outage",
			summary: "Cloudflare fails in front of OpenAI and Anthropic together; Gemini, behind Google's front end, stays up.",
			phases: []phase{
				healthy(4),
				{length: 8 * time.Minute, say: "Cloudflare's edge fails: its own 500s for every OpenAI and Anthropic request", apply: cf500,
					expect: []expectation{
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeEdgeError, reason: probe.ReasonEdge5xx},
						{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeEdgeError, reason: probe.ReasonEdge5xx},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeSuccess},
					}},
				{length: 5 * time.Minute, say: "Cloudflare recovers", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: noTimedPost,
			pages: []pageExpectation{
				page("LLMProbeSharedEdgeIncident", true, "edge", "cloudflare"),
				page("LLMProbeProviderDown", false, "provider", "openai", "layer", "edge"),
				page("LLMProbeProviderDown", false, "provider", "anthropic", "layer", "edge"),
			},
		},
		{
			name:    "openai-origin",
			title:   "OpenAI origin outage with a staged recovery",
			summary: "OpenAI's servers fail behind a healthy Cloudflare; the control plane (model list) comes back before inference.",
			phases: []phase{
				healthy(4),
				{length: 6 * time.Minute, say: "OpenAI's origin answers 500 to everything; Cloudflare relays it",
					apply: func(e *demoEnv) { e.inject("openai", providertest.Fault{Kind: providertest.Origin500}) },
					expect: append([]expectation{{provider: "openai", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOrigin5xx}},
						allOK("anthropic", "gemini")...)},
				{length: 6 * time.Minute, say: "the control plane is back (model list answers), inference is overloaded",
					apply: func(e *demoEnv) {
						e.clear()
						e.inject("openai", providertest.Fault{Kind: providertest.Origin503, Scope: providertest.ScopeInference})
					},
					expect: append([]expectation{
						{provider: "openai", kinds: []probe.Kind{probe.KindReach}, outcome: probe.OutcomeSuccess},
						{provider: "openai", kinds: inference, outcome: probe.OutcomeOriginError, reason: probe.ReasonOverloaded},
					}, allOK("anthropic", "gemini")...)},
				{length: 5 * time.Minute, say: "inference recovers", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: noTimedPost,
			pages:    []pageExpectation{page("LLMProbeProviderDown", true, "provider", "openai", "layer", "origin")},
		},
		{
			name:    "anthropic-overload",
			title:   "Anthropic 529 overload wave",
			summary: "Anthropic answers 529 overloaded_error; the probes back off instead of adding to the herd.",
			phases: []phase{
				healthy(4),
				{length: 8 * time.Minute, say: "Anthropic is overloaded: 529 on every request",
					apply: func(e *demoEnv) { e.inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529}) },
					expect: append([]expectation{{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOverloaded}},
						allOK("openai", "gemini")...)},
				{length: 6 * time.Minute, say: "the wave passes", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: noTimedPost,
			pages:    []pageExpectation{page("LLMProbeProviderDown", true, "provider", "anthropic", "layer", "origin")},
		},
		{
			name:    "region-network",
			title:   "Network failure in one region",
			summary: "eu-west loses its route out: every provider and the control target fail from there only; nobody is paged.",
			phases: []phase{
				healthy(4),
				{length: 8 * time.Minute, say: "eu-west's network fails (connections refused)",
					apply: func(e *demoEnv) { e.regionDown("eu-west") },
					expect: []expectation{
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeNetworkError, reason: probe.ReasonConnectRefused, regions: []string{"eu-west"}},
						{provider: "openai", kinds: allKinds, outcome: probe.OutcomeSuccess, regions: []string{"us-east", "ap-south"}},
						{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeSuccess, regions: []string{"us-east", "ap-south"}},
					}},
				{length: 5 * time.Minute, say: "eu-west's network is back", apply: func(e *demoEnv) { e.regionUp("eu-west") }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: official{post: "not a provider incident: no official post", source: "a scripted failure of this demo"},
		},
		{
			name:  "2026-04-20-cloudflare",
			title: "2026-04-20: ChatGPT, Claude and the OpenAI API down together behind Cloudflare (14:00-15:30 UTC)",
			summary: "Cloudflare degraded: OpenAI and Anthropic fail intermittently at the edge (about half their probes, an assumption: the record says " +
				"\"some API integrations appeared to work intermittently\"), Gemini is slow, not down; Claude recovers a little before OpenAI.",
			phases: []phase{
				healthy(4),
				{length: 14 * time.Minute, say: "Cloudflare degrades: half of OpenAI's and Anthropic's requests get its 502; Gemini's inference answers after 150 ms instead of at once",
					apply: func(e *demoEnv) {
						e.inject("openai", providertest.Fault{Kind: providertest.CF502Unbranded, Share: 0.5})
						e.inject("anthropic", providertest.Fault{Kind: providertest.CF502Unbranded, Share: 0.5})
						e.inject("gemini", providertest.Fault{Kind: providertest.Healthy, Delay: 150 * time.Millisecond, Scope: providertest.ScopeInference})
					},
					expect: []expectation{{provider: "gemini", kinds: allKinds, outcome: probe.OutcomeSuccess}}},
				{length: 4 * time.Minute, say: "Claude recovers first; OpenAI still fails intermittently, Gemini is still slow",
					apply: func(e *demoEnv) {
						e.clear()
						e.inject("openai", providertest.Fault{Kind: providertest.CF502Unbranded, Share: 0.5})
						e.inject("gemini", providertest.Fault{Kind: providertest.Healthy, Delay: 150 * time.Millisecond, Scope: providertest.ScopeInference})
					},
					expect: allOK("anthropic", "gemini")},
				{length: 5 * time.Minute, say: "Cloudflare recovers for everyone", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: official{post: "Cloudflare's status page reported degraded performance (Workers, Zero Trust, WARP); the record gives no time for it", source: recordIncidents},
			pages: []pageExpectation{
				page("LLMProbeSharedEdgeIncident", true, "edge", "cloudflare"),
				page("LLMProbeDegraded", true, "provider", "gemini"),
			},
		},
		{
			name:  "2026-04-20-openai",
			title: "2026-04-20: OpenAI, from ChatGPT Business to the whole platform",
			summary: "OpenAI's origin fails for ChatGPT, Codex and the API behind a healthy Cloudflare; a fix lands 67 minutes after the official acknowledgment " +
				"(replayed here in 12 minutes: the record does not say when the platform-wide outage began).",
			phases: []phase{
				healthy(4),
				{length: 12 * time.Minute, say: "OpenAI's origin fails: 500s and overload for every request, relayed by Cloudflare",
					apply: func(e *demoEnv) { e.inject("openai", providertest.Fault{Kind: providertest.Origin500}) },
					expect: append([]expectation{{provider: "openai", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOrigin5xx}},
						allOK("anthropic", "gemini")...)},
				{length: 5 * time.Minute, say: "a fix is implemented", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: official{post: "11:44 ET (15:44 UTC): major disruption of ChatGPT, Codex and API access, the acknowledgment; the record gives no start for it", source: recordIncidents},
			pages:    []pageExpectation{page("LLMProbeProviderDown", true, "provider", "openai", "layer", "origin")},
		},
		{
			name:  "2026-02-04-openai",
			title: "2026-02-04: OpenAI elevated error rates, the US mostly (from 20:32 UTC)",
			summary: "Errors at OpenAI's origin, heaviest from the US: us-east loses 60% of its probes, eu-west 25% (an assumption: the record names " +
				"only the US and India), ap-south 2% (Indian users: minimal issues).",
			phases: []phase{
				healthy(4),
				{length: 12 * time.Minute, say: "OpenAI's origin answers 500 to 60% of us-east's probes, 25% of eu-west's, 2% of ap-south's",
					apply: func(e *demoEnv) {
						e.regionFault("openai", providertest.Fault{Kind: providertest.Origin500}, map[string]float64{"us-east": 0.6, "eu-west": 0.25, "ap-south": 0.02})
					},
					expect: allOK("anthropic", "gemini")},
				{length: 5 * time.Minute, say: "mitigations applied: the errors stop", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: official{ackAfter: 49 * time.Minute,
				post:   "16:21 ET (21:21 UTC), 49 minutes after the 12:32 PST start: \"identified the issue, applied the necessary mitigations and are monitoring the recovery\"",
				source: recordIncidents},
			pages: []pageExpectation{page("LLMProbeProviderDown", true, "provider", "openai", "layer", "origin")},
		},
		{
			name:  "2026-03-02-anthropic",
			title: "2026-03-02: Anthropic global outage of chat and API, staged recovery",
			summary: "Claude fails worldwide, consumer and API; recovery is staged (an assumption the record suggests: the control plane first, then " +
				"rate-limited access, then everything).",
			phases: []phase{
				healthy(4),
				{length: 10 * time.Minute, say: "Anthropic's origin fails everywhere: 500 for every request",
					apply: func(e *demoEnv) { e.inject("anthropic", providertest.Fault{Kind: providertest.Origin500}) },
					expect: append([]expectation{{provider: "anthropic", kinds: allKinds, outcome: probe.OutcomeOriginError, reason: probe.ReasonOrigin5xx}},
						allOK("openai", "gemini")...)},
				{length: 5 * time.Minute, say: "stage 1: the model list answers, inference is overloaded (529)",
					apply: func(e *demoEnv) {
						e.clear()
						e.inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529, Scope: providertest.ScopeInference})
					},
					expect: append([]expectation{
						{provider: "anthropic", kinds: []probe.Kind{probe.KindReach}, outcome: probe.OutcomeSuccess},
						{provider: "anthropic", kinds: inference, outcome: probe.OutcomeOriginError, reason: probe.ReasonOverloaded},
					}, allOK("openai", "gemini")...)},
				{length: 5 * time.Minute, say: "stage 2: access is back, rate-limited (429)",
					apply: func(e *demoEnv) {
						e.clear()
						e.inject("anthropic", providertest.Fault{Kind: providertest.RateLimit429, Scope: providertest.ScopeInference})
					},
					expect: append([]expectation{{provider: "anthropic", kinds: inference, outcome: probe.OutcomeOriginError, reason: probe.ReasonRateLimited}},
						allOK("openai", "gemini")...)},
				{length: 5 * time.Minute, say: "Anthropic recovers fully", apply: func(e *demoEnv) { e.clear() }, expect: allOK("openai", "anthropic", "gemini")},
			},
			official: official{post: "Anthropic acknowledged the outage without a root cause or an ETA; the record gives no time", source: recordIncidents},
			pages:    []pageExpectation{page("LLMProbeProviderDown", true, "provider", "anthropic", "layer", "origin")},
		},
	}
}

// ListScenarios writes each scenario's name, title and summary.
func ListScenarios(w io.Writer) {
	for _, sc := range scenarios() {
		fmt.Fprintf(w, "%-20s %s\n%-20s %s\n", sc.name, sc.title, "", sc.summary)
	}
}
