package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// SchemaFile is the JSON Schema (draft 2020-12) of the /api/status
// document. cmd/llmprobe validates the worker's own endpoint with it too.
const schemaFile = "testdata/status.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time and uri are checked, not just annotated
	s, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return s
}

func validate(s *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// realReport runs the real scheduler, prober and worker against
// providertest fakes for a few rounds, so the report holds what real probes
// produce: successes with answers, a Cloudflare edge failure, an origin
// overload with back-off and skips, a network failure, a rejected key, a
// stalled stream, budgets, a control target and a status page, and one check
// that never ran.
func realReport(t *testing.T) []byte {
	t.Helper()
	const key = "sk-llmprobe-schema-test-key"
	cf := providertest.NewServer(providertest.Options{APIKey: key})
	t.Cleanup(cf.Close)
	gfe := providertest.NewServer(providertest.Options{APIKey: key, Edge: providertest.EdgeGoogle})
	t.Cleanup(gfe.Close)
	cf.Inject("mistral", providertest.Fault{Kind: providertest.CF502Unbranded})
	cf.Inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529})
	cf.Inject("openrouter", providertest.Fault{Kind: providertest.CF521})
	cf.Inject("xai", providertest.Fault{Kind: providertest.StallMidStream})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/v1" // closed at once: connections are refused
	ln.Close()

	mk := func(id string, kind probe.Kind, base, k string) probe.Check {
		p, ok := probe.LookupProvider(id)
		if !ok {
			t.Fatalf("no provider %s", id)
		}
		model := ""
		if kind != probe.KindReach {
			model = p.DefaultModel
		}
		return probe.Check{Provider: p, Kind: kind, Model: model, BaseURL: base, APIKey: probe.Secret(k), Region: "eu-west", Timeout: time.Minute} // only catches a hang
	}
	// The stalled stream ends by its timeout: long enough that the headers
	// and first event always come first, even on a loaded machine.
	stalled := func(c probe.Check) probe.Check { c.Timeout = 3 * time.Second; return c }
	run := []probe.Check{
		mk("openai", probe.KindReach, cf.BaseURL("openai"), ""),
		mk("openai", probe.KindChat, cf.BaseURL("openai"), key),
		mk("openai", probe.KindStream, cf.BaseURL("openai"), key),
		mk("anthropic", probe.KindChat, cf.BaseURL("anthropic"), key),
		mk("gemini", probe.KindStream, gfe.BaseURL("gemini"), key),
		mk("mistral", probe.KindReach, cf.BaseURL("mistral"), ""),
		mk("openrouter", probe.KindChat, cf.BaseURL("openrouter"), key),
		stalled(mk("xai", probe.KindStream, cf.BaseURL("xai"), key)),
		mk("deepseek", probe.KindReach, refused, ""),
		mk("groq", probe.KindChat, cf.BaseURL("groq"), "sk-wrong-key-0000"),
	}
	never := mk("azure", probe.KindReach, cf.BaseURL("azure"), "")
	// The back-off after anthropic's 529 lasts hours (politeness counts in
	// its own interval), so it is still active when the report is taken,
	// however long a loaded machine takes to get there.
	pol := &Politeness{Interval: time.Hour, DailyRequests: 1000, DailyTokens: 100000}
	status := NewStatusStore("eu-west", append(slices.Clone(run), never), 60, nil, pol)
	fan := &Fanout{Metrics: NewMetrics(prometheus.NewRegistry()), Status: status, Logger: slog.New(slog.DiscardHandler), Politeness: pol}
	sched := &Scheduler{Checks: run, Interval: 100 * time.Millisecond, Probe: (&probe.Prober{}).Probe, Recorder: fan, Politeness: pol}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute) // only catches a hang
	for {
		rep := status.Report()
		enough := true
		for _, c := range rep.Checks {
			if c.Provider == "anthropic" {
				enough = enough && c.Skipped[probe.SkipReasonBackoff] > 0
			} else if c.Provider != "azure" {
				enough = enough && len(c.Recent) >= 2
			}
		}
		if enough {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probes did not record in time: %+v", rep.Checks)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(control.Close)
	targets, err := ParseControlTargets("local=" + control.URL + ",gone=" + refused)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		status.SetControl(ProbeControl(context.Background(), tg, time.Minute, nil, nil))
	}
	comps, err := ParseStatusPage([]byte(`{"components":[{"name":"API","status":"operational"},{"name":"Chat API","status":"partial_outage"},{"name":"Files API","status":"degraded_performance"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	status.SetStatusPage("openai", comps)

	doc, err := json.Marshal(status.Report())
	if err != nil {
		t.Fatal(err)
	}
	// The run covered what the schema constrains.
	for _, want := range []string{`"state":"edge_error"`, `"state":"origin_error"`, `"state":"network_error"`, `"state":"probe_error"`,
		`"state":"success"`, `"state":""`, `"canary_ok":true`, `"active":true`, `"budget":`, `"reason":"stream_error"`, `"reason":"origin_down"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the real report lacks %s", want)
		}
	}
	if strings.Contains(string(doc), key) {
		t.Errorf("the report shows the API key")
	}
	return doc
}

func TestStatusReportFromRealProbesMatchesTheSchema(t *testing.T) {
	s := compileSchema(t)
	doc := realReport(t)
	if err := validate(s, doc); err != nil {
		t.Fatalf("/api/status document does not match %s:\n%v\n\n%s", schemaFile, err, doc)
	}
	// And the page renders that very report.
	var rep StatusReport
	if err := json.Unmarshal(doc, &rep); err != nil {
		t.Fatal(err)
	}
	if len(newView(rep).Groups) == 0 {
		t.Errorf("no rows from a real report")
	}

	// The schema is strict: each change below must fail it.
	for _, tt := range []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"an unknown top-level field", func(m map[string]any) { m["extra"] = 1 }},
		{"an unknown outcome as state", func(m map[string]any) { firstCheck(m, "openai", "chat")["state"] = "cdn_error" }},
		{"a reason that belongs to another outcome", func(m map[string]any) { firstCheck(m, "openai", "chat")["reason"] = "edge_5xx" }},
		{"a result outcome and reason that disagree", func(m map[string]any) {
			firstCheck(m, "mistral", "reach")["last"].(map[string]any)["reason"] = "overloaded"
		}},
		{"an unknown field in a result", func(m map[string]any) { firstCheck(m, "openai", "reach")["last"].(map[string]any)["body"] = "<html>" }},
		{"a missing outcome count", func(m map[string]any) {
			delete(firstCheck(m, "openai", "reach")["availability"].(map[string]any)["1h"].(map[string]any)["by_outcome"].(map[string]any), "edge_error")
		}},
		{"a ratio above one", func(m map[string]any) {
			firstCheck(m, "openai", "reach")["availability"].(map[string]any)["24h"].(map[string]any)["ratio"] = 1.5
		}},
		{"a time that is not RFC 3339", func(m map[string]any) { m["generated_at"] = "20 April 2026" }},
		{"a success recorded as the last failure", func(m map[string]any) {
			c := firstCheck(m, "openai", "reach")
			c["last_failure"] = c["last"]
		}},
		{"a pending check with a result", func(m map[string]any) {
			firstCheck(m, "azure", "reach")["last"] = firstCheck(m, "openai", "reach")["last"]
		}},
		{"a reach check with a budget", func(m map[string]any) {
			firstCheck(m, "openai", "reach")["budget"] = firstCheck(m, "openai", "chat")["budget"]
		}},
		{"an unknown skip reason", func(m map[string]any) { firstCheck(m, "openai", "reach")["skipped"] = map[string]any{"tired": 1} }},
		{"a status-page level that disagrees with its status", func(m map[string]any) {
			m["status_pages"].([]any)[0].(map[string]any)["components"].([]any)[0].(map[string]any)["level"] = 3.0
		}},
		{"a successful chat without its answer", func(m map[string]any) {
			delete(firstCheck(m, "openai", "chat")["last"].(map[string]any), "answer")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			b, _ := json.Marshal(m)
			if err := validate(s, b); err == nil {
				t.Errorf("the schema accepts %s", tt.name)
			}
		})
	}
}

// firstCheck returns the check object of provider and kind in a decoded report.
func firstCheck(m map[string]any, provider, kind string) map[string]any {
	for _, c := range m["checks"].([]any) {
		c := c.(map[string]any)
		if c["provider"] == provider && c["check"] == kind {
			return c
		}
	}
	panic("no check " + provider + "/" + kind)
}

func TestSchemaListsExactlyTheOutcomesAndReasons(t *testing.T) {
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, o := range probe.Outcomes {
		outcomes = append(outcomes, string(o))
		var want []string
		for _, r := range probe.Reasons {
			if r.Outcome == o {
				want = append(want, string(r.Reason))
			}
		}
		if got := s.Defs["reasons_"+string(o)].Enum; !slices.Equal(got, want) {
			t.Errorf("schema reasons of %s = %v, probe.Reasons has %v", o, got, want)
		}
	}
	if got := s.Defs["outcome"].Enum; !slices.Equal(got, outcomes) {
		t.Errorf("schema outcomes %v, probe.Outcomes %v", got, outcomes)
	}
}
