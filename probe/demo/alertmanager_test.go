package demo

import (
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/slo"
)

// The simulator on the demo's generated routing: the first page of a
// provider's origin outage goes out group_wait after it fired, carrying the
// checks that fired by then; a check that fires after that flush was due is
// an update at group_interval, not a second incident, even when the
// evaluation that fired it ran after the flush time.
func TestAlertmanagerSimGroupsAPagesChecks(t *testing.T) {
	rules, err := newRules(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	am, err := newAlertmanagerSim(rules.alertmanager)
	if err != nil {
		t.Fatal(err)
	}
	wait := slo.PageGroupWait(slo.DefaultProfile())
	page := func(check string) map[string]string {
		return map[string]string{"alertname": "LLMProbeProviderDown", "severity": "page", "provider": "openai", "check": check, "layer": "origin", "edge": "cloudflare"}
	}
	t0 := time.Unix(0, 0)
	chat, err := am.fire(page("chat"), t0)
	if err != nil {
		t.Fatal(err)
	}
	// The next evaluation is 15s later, after the flush was due.
	step := t0.Add(15 * time.Second)
	if step.Sub(t0) <= wait {
		t.Fatalf("the test needs the step (15s) after the page group_wait (%v)", wait)
	}
	stream, err := am.fire(page("stream"), step)
	if err != nil {
		t.Fatal(err)
	}
	changed := am.flush(step)
	if len(changed) != 1 || changed[0] != chat {
		t.Fatalf("first flush delivered %d alerts, want the chat page only", len(changed))
	}
	if !chat.delivered.Equal(t0.Add(wait)) || !chat.newPage {
		t.Errorf("chat page delivered at %v (new %v), want %v as a new page", chat.delivered.Sub(t0), chat.newPage, wait)
	}
	if !stream.delivered.IsZero() {
		t.Errorf("stream page delivered at %v by the flush due before it fired", stream.delivered.Sub(t0))
	}
	r, err := am.route(page("stream"))
	if err != nil {
		t.Fatal(err)
	}
	next := t0.Add(wait + r.GroupInterval)
	if changed := am.flush(next.Add(-time.Second)); len(changed) != 0 {
		t.Errorf("%d alerts delivered before group_interval", len(changed))
	}
	if changed := am.flush(next); len(changed) != 1 || changed[0] != stream {
		t.Fatalf("second flush delivered %d alerts, want the stream page", len(changed))
	}
	if !stream.delivered.Equal(next) || stream.newPage {
		t.Errorf("stream page delivered at %v (new %v), want %v as an update of the same incident", stream.delivered.Sub(t0), stream.newPage, next.Sub(t0))
	}
	// Another layer of the same provider is another incident.
	edge := page("chat")
	edge["layer"] = "edge"
	other, err := am.fire(edge, next)
	if err != nil {
		t.Fatal(err)
	}
	am.flush(next.Add(time.Hour))
	if !other.newPage {
		t.Errorf("an edge page grouped with the origin incident")
	}
}
