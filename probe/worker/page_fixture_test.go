package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// fixtureNow is the fixed clock of the synthetic store.
var fixtureNow = time.Date(2026, 4, 20, 15, 44, 0, 0, time.UTC)

// secretLike is key-shaped; a fixture error message carries it, and no page
// may show it.
const secretLike = "sk-proj-LEAKEDkey0123456789abcdef"

func check(t *testing.T, provider string, kind probe.Kind) probe.Check {
	t.Helper()
	p, ok := probe.LookupProvider(provider)
	if !ok {
		p = probe.CustomProvider(provider, "http://127.0.0.1:1/v1", "m")
	}
	model := ""
	if kind != probe.KindReach {
		model = p.DefaultModel
	}
	return probe.Check{Provider: p, Kind: kind, Model: model, Region: "eu-west"}
}

// result builds a classified result as the prober would.
func result(c probe.Check, at time.Time, o probe.Outcome, reason probe.Reason, code int, edge, author, msg string) probe.Result {
	return probe.Result{Provider: c.Provider.ID, Check: c.Kind, Model: c.Model, Region: c.Region, Outcome: o, Reason: reason,
		StatusCode: code, Edge: edge, EdgePOP: "FRA", AuthoredBy: author, Error: msg, StartedAt: at,
		Timings: probe.Timings{DNS: time.Millisecond, Connect: 2 * time.Millisecond, TTFB: time.Duration(80+at.Second()) * time.Millisecond, Total: 150 * time.Millisecond}}
}

// fixtureStore is a store with every state the page draws: a healthy check,
// an edge outage, an origin outage that started well, a network failure,
// a probe misconfiguration with a key-shaped message, a check never run,
// a failed control target and a degraded status page.
func fixtureStore(t *testing.T) *StatusStore {
	t.Helper()
	var (
		oaReach  = check(t, "openai", probe.KindReach)
		oaChat   = check(t, "openai", probe.KindChat)
		anChat   = check(t, "anthropic", probe.KindChat)
		geChat   = check(t, "gemini", probe.KindChat)
		miReach  = check(t, "mistral", probe.KindReach)
		grChat   = check(t, "groq", probe.KindChat)
		dsReach  = check(t, "deepseek", probe.KindReach)
		weird    = check(t, "gw_<b>", probe.KindReach)
		checks   = []probe.Check{oaReach, oaChat, anChat, geChat, miReach, grChat, dsReach, weird}
		pol      = &Politeness{Interval: 30 * time.Second, DailyRequests: 100, DailyTokens: 1000}
		s        = NewStatusStore("eu-west", checks, 60, newFakeClockAt(fixtureNow), pol)
		minute   = func(i int) time.Time { return fixtureNow.Add(-time.Duration(i) * time.Minute) }
		cfOrigin = "origin"
	)
	for i := 45; i >= 1; i-- {
		at := minute(i)
		s.Record(oaReach, result(oaReach, at, probe.OutcomeSuccess, probe.ReasonOK, 401, "cloudflare", cfOrigin, ""))
		if i > 5 {
			s.Record(oaChat, result(oaChat, at, probe.OutcomeSuccess, probe.ReasonOK, 200, "cloudflare", cfOrigin, ""))
		} else {
			s.Record(oaChat, result(oaChat, at, probe.OutcomeEdgeError, probe.ReasonEdge5xx, 502, "cloudflare", "edge", "HTTP 502: cloudflare page: Bad gateway"))
		}
		switch {
		case i%9 == 0:
			s.Record(anChat, result(anChat, at, probe.OutcomeOriginError, probe.ReasonOverloaded, 529, "cloudflare", cfOrigin, "HTTP 529: overloaded_error: Overloaded"))
		case i < 3:
			s.Record(anChat, result(anChat, at, probe.OutcomeOriginError, probe.ReasonOriginBadResponse, 520, "cloudflare", "edge", "HTTP 520: cloudflare page: Web server is returning an unknown error"))
		default:
			s.Record(anChat, result(anChat, at, probe.OutcomeSuccess, probe.ReasonOK, 200, "cloudflare", cfOrigin, ""))
		}
		s.Record(geChat, result(geChat, at, probe.OutcomeSuccess, probe.ReasonOK, 200, "google", cfOrigin, ""))
		if i < 20 {
			s.Record(miReach, result(miReach, at, probe.OutcomeNetworkError, probe.ReasonConnectRefused, 0, "cloudflare", "none", "dial tcp 127.0.0.1:9: connect: connection refused"))
		} else {
			s.Record(miReach, result(miReach, at, probe.OutcomeSuccess, probe.ReasonOK, 401, "cloudflare", cfOrigin, ""))
		}
	}
	for i := 3; i >= 1; i-- {
		s.Record(grChat, result(grChat, minute(i), probe.OutcomeProbeError, probe.ReasonAuth, 401, "cloudflare", cfOrigin,
			fmt.Sprintf("HTTP 401: invalid_api_key: Incorrect API key provided: %s <script>alert(1)</script>", secretLike)))
	}
	s.Record(weird, result(weird, minute(1), probe.OutcomeOriginError, probe.ReasonOrigin5xx, 500, "none", cfOrigin, `HTTP 500: "<img src=x onerror=alert(1)>"`))
	s.SetControl(ControlReport{Target: "cloudflare", URL: "https://1.1.1.1/cdn-cgi/trace", Success: true, CheckedAt: minute(1)})
	s.SetControl(ControlReport{Target: "google", URL: "https://www.google.com/generate_204", Success: false, Error: "dial tcp: i/o timeout", CheckedAt: minute(1)})
	s.SetStatusPage("openai", []StatusComponent{{Name: "API", Status: "operational"}, {Name: "Chat Completions", Status: "partial_outage", Level: 2}})
	s.SetStatusPage("anthropic", []StatusComponent{{Name: "Claude API", Status: "operational"}})
	return s
}
