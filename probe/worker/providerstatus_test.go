package worker

import "testing"

func TestStatusPageParsing(t *testing.T) {
	body := `{"page":{"id":"x"},"components":[
		{"name":"API","status":"partial_outage"},{"name":"ChatGPT","status":"operational"},
		{"name":"Claude API (api.anthropic.com)","status":"degraded_performance"},{"name":"Group","status":"operational","group":true}]}`
	comps, err := ParseStatusPage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 2 || comps[0].Name != "API" || comps[0].Level != 2 || comps[1].Level != 1 {
		t.Fatalf("components %+v, want the two API components with levels 2 and 1", comps)
	}
	if _, err := ParseStatusPage([]byte("<html>moved</html>")); err == nil {
		t.Fatal("an HTML page must be an error, not a degraded status")
	}
}
