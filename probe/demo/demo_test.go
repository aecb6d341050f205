package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// playJSON plays the named scenarios as fast as the machine goes and
// returns each one's result, by name.
func playJSON(t *testing.T, names string) map[string]Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), Options{Scenarios: names, Exit: true, JSON: true, Listen: "127.0.0.1:0", Interval: 30 * time.Second}, &stdout, &stderr)
	if err != nil && !errors.Is(err, ErrWrongVerdict) {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	out := map[string]Result{}
	dec := json.NewDecoder(&stdout)
	for {
		var r Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode the JSON output: %v", err)
		}
		out[r.Scenario] = r
	}
	if want := len(strings.Split(names, ",")); names != "all" && len(out) != want {
		t.Fatalf("got %d results, want %d", len(out), want)
	}
	return out
}

// firstPage is the first page (not ticket) that reached a receiver.
func firstPage(r Result) *Page {
	var first *Page
	for i := range r.Pages {
		pg := &r.Pages[i]
		if pg.Severity == "page" && pg.DeliveredAfterS != nil && (first == nil || *pg.DeliveredAfterS < *first.DeliveredAfterS) {
			first = pg
		}
	}
	return first
}

// demoChecks are what each scenario must show beyond its own page
// expectations (which Result.PagesOK already holds), written out here so
// that a scenario edited into passing still fails the test.
var demoChecks = map[string]func(t *testing.T, r Result){
	"cloudflare-edge": func(t *testing.T, r Result) {
		// One page says "Cloudflare edge"; the providers' own pages are
		// inhibited by it.
		first := firstPage(r)
		if first == nil || first.Alert != "LLMProbeSharedEdgeIncident" || first.Labels["edge"] != "cloudflare" || *first.DeliveredAfterS > 120 {
			t.Errorf("first page %+v, want LLMProbeSharedEdgeIncident{edge=cloudflare} within 2 minutes", first)
		}
		for _, pg := range r.Pages {
			if pg.Alert == "LLMProbeProviderDown" && pg.InhibitedBy != "LLMProbeSharedEdgeIncident" {
				t.Errorf("%s %v: inhibited by %q, want the shared-edge incident", pg.Alert, pg.Labels, pg.InhibitedBy)
			}
		}
	},
	"openai-origin":        pagedWithin("openai", "origin", 120),
	"anthropic-overload":   pagedWithin("anthropic", "origin", 120),
	"2026-04-20-openai":    pagedWithin("openai", "origin", 120),
	"2026-03-02-anthropic": pagedWithin("anthropic", "origin", 120),
	"region-network": func(t *testing.T, r Result) {
		if pg := firstPage(r); pg != nil {
			t.Errorf("%s %v paged for one region's network", pg.Alert, pg.Labels)
		}
	},
	"2026-04-20-cloudflare": func(t *testing.T, r Result) {
		var degraded bool
		for _, pg := range r.Pages {
			degraded = degraded || pg.Alert == "LLMProbeDegraded" && pg.Labels["provider"] == "gemini" && pg.Severity == "ticket"
		}
		if !degraded {
			t.Errorf("no LLMProbeDegraded ticket for the slow gemini")
		}
	},
	"2026-02-04-openai": func(t *testing.T, r Result) {
		// Intermittent failures, heaviest in one region: a page before the
		// official acknowledgment, and one incident however the alert flaps.
		pagedWithin("openai", "origin", 600)(t, r)
		if r.LeadS == nil || *r.LeadS <= 0 {
			t.Errorf("lead %v, want a page before the official acknowledgment", r.LeadS)
		}
		// Alerts delivered by one notification share its time.
		newPages := map[float64][]string{}
		for _, pg := range r.Pages {
			if pg.Severity == "page" && pg.NewPage {
				newPages[*pg.DeliveredAfterS] = append(newPages[*pg.DeliveredAfterS], pg.Alert+"/"+pg.Labels["check"])
			}
		}
		if len(newPages) != 1 {
			t.Errorf("%d new page notifications, want 1: %v", len(newPages), newPages)
		}
	},
}

// pagedWithin: the first page to reach a receiver names the provider and
// layer, within seconds of the incident's start (incident time).
func pagedWithin(provider, layer string, seconds float64) func(*testing.T, Result) {
	return func(t *testing.T, r Result) {
		t.Helper()
		first := firstPage(r)
		if first == nil || first.Labels["provider"] != provider || first.Labels["layer"] != layer || *first.DeliveredAfterS > seconds {
			t.Errorf("first page %+v, want provider=%s layer=%s within %gs", first, provider, layer, seconds)
		}
	}
}

// TestDemoScenariosBlameAndPage plays the scenarios with the generated
// rules and Alertmanager routing on incident time, and checks each one's
// verdicts and pages. Incident time moves only when every worker is idle,
// so the figures do not depend on the machine's speed. Under the race
// detector it plays the shared Cloudflare outage only (a scenario costs
// about two CPU-minutes there, 20 seconds without); scripts/test.sh plays
// them all again without it.
func TestDemoScenariosBlameAndPage(t *testing.T) {
	names := "all"
	switch {
	case testing.Short():
		names = "openai-origin"
	case testkit.Race:
		names = "cloudflare-edge"
		t.Log("race detector on: playing " + names + " only; scripts/test.sh plays every scenario without it")
	}
	results := playJSON(t, names)
	if names == "all" && len(results) != len(scenarios()) {
		t.Fatalf("got %d results, want one per scenario (%d)", len(results), len(scenarios()))
	}
	for _, sc := range scenarios() {
		r, ok := results[sc.name]
		if !ok {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			if !r.VerdictsOK || !r.PagesOK {
				t.Errorf("verdicts ok %v, pages ok %v: %s", r.VerdictsOK, r.PagesOK, strings.Join(r.Problems, "; "))
			}
			check, ok := demoChecks[sc.name]
			if !ok {
				t.Fatalf("no check for scenario %s: add one to demoChecks", sc.name)
			}
			check(t, r)
		})
	}
}

func TestDemoRejectsAnUnknownScenario(t *testing.T) {
	err := Run(context.Background(), Options{Scenarios: "meteor", Speed: 1, Interval: time.Second, Listen: "127.0.0.1:0"}, io.Discard, io.Discard)
	var ce *worker.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `--scenario: unknown scenario "meteor" (valid: cloudflare-edge, openai-origin, anthropic-overload, region-network, 2026-04-20-cloudflare,`) {
		t.Fatalf("got %v, want a configuration error naming the valid scenarios", err)
	}
}

func TestDemoRejectsOptionsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Speed: math.NaN(), Interval: time.Second}, "--speed: want 0"},
		{Options{Speed: -1, Interval: time.Second}, "--speed: want 0"},
		{Options{Speed: 1e9, Interval: time.Second}, "--speed: want 0"},
		{Options{Speed: 1, Interval: 500 * time.Millisecond}, "--interval: want whole seconds"},
		{Options{Speed: 1, Interval: time.Hour}, "--interval: want whole seconds"},
	} {
		c.o.Scenarios, c.o.Listen = "openai-origin", "127.0.0.1:0"
		err := Run(context.Background(), c.o, io.Discard, io.Discard)
		var ce *worker.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("speed %v interval %v: got %v, want a configuration error %q", c.o.Speed, c.o.Interval, err, c.want)
		}
	}
}

// TestDemoNarrative plays one scenario as `llmprobe demo` prints it: the
// links to each region's worker, the phases, every verdict, the ticket as
// it fires and reaches its receiver, and the closing line.
func TestDemoNarrative(t *testing.T) {
	if testing.Short() || testkit.Race {
		t.Skip("plays a 17-minute scenario: skipped with -short and under the race detector (scripts/test.sh runs it without)")
	}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), Options{Scenarios: "region-network", Exit: true, Listen: "127.0.0.1:0", Interval: 30 * time.Second}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"status page http://127.0.0.1:",
		"== region-network: ",
		"✓ openai reach+chat+stream: network_error/connect_refused from eu-west\n",
		"✓ gemini reach+chat+stream: success from us-east, ap-south\n",
		"TICKET  fires      LLMProbeRegionalFailure{region=eu-west,cause=network}",
		"TICKET  delivered  LLMProbeRegionalFailure{region=eu-west,cause=network}",
		"no page reached anyone.",
		"== region-network: verdicts and pages as the scenario says\n",
		"all 1 scenarios: the probes blamed the right layer in every phase, and the pages were the right ones\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}
