package demo

import (
	"strings"
	"testing"
	"time"
)

// A scenario's pages are judged as incidents: when intermittent failures
// make the error-budget page fire before the fast page of the same
// provider and layer, it opens the expected incident; a page of another
// provider or layer is still a page for nothing, and the lead counts from
// the first delivered page.
func TestResultJudgesPagesByIncident(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	alert := func(name, provider, layer string, fired, delivered int, newPage bool) *playedAlert {
		a := &playedAlert{labels: map[string]string{"alertname": name, "severity": "page", "provider": provider, "check": "reach", "layer": layer},
			firedAt: at(fired), am: &amAlert{newPage: newPage}}
		if delivered > 0 {
			a.delivered, a.am.delivered = at(delivered), at(delivered)
		}
		return a
	}
	sc := scenario{name: "t", official: official{ackAfter: 49 * time.Minute},
		pages: []pageExpectation{page("LLMProbeProviderDown", true, "provider", "openai", "layer", "origin")}}
	r := &run{sc: sc, start: start, alerts: []*playedAlert{
		alert("LLMProbeErrorBudgetBurn", "openai", "origin", 180, 190, true),
		alert("LLMProbeProviderDown", "openai", "origin", 210, 490, false),
	}}
	res := r.result(true)
	if !res.PagesOK {
		t.Errorf("the budget page that opened the expected incident was judged a problem: %v", res.Problems)
	}
	if res.LeadS == nil || *res.LeadS != 49*60-190 {
		t.Errorf("lead %v, want %d s from the first delivered page", res.LeadS, 49*60-190)
	}

	r.alerts = append(r.alerts, alert("LLMProbeErrorBudgetBurn", "openai", "edge", 200, 210, true))
	res = r.result(true)
	if res.PagesOK || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "layer:edge") {
		t.Errorf("an edge page during an origin outage: problems %v, want it named", res.Problems)
	}

	r.alerts = []*playedAlert{alert("LLMProbeErrorBudgetBurn", "openai", "origin", 180, 190, true)}
	res = r.result(true)
	if res.PagesOK || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "LLMProbeProviderDown") {
		t.Errorf("the fast page never fired: problems %v, want it named", res.Problems)
	}
}
