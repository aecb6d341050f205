package slo

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

// alertmanagerFile returns the generated Alertmanager configuration of res.
func alertmanagerFile(t *testing.T, res Result) []byte {
	t.Helper()
	for _, f := range res.Files {
		if f.Path == FileAlertmanager {
			return f.Data
		}
	}
	t.Fatal("no Alertmanager configuration generated")
	return nil
}

func TestAlertmanagerConfigReceivesAtTheSpecsWebhook(t *testing.T) {
	var cfg struct {
		Route struct {
			Receiver string   `yaml:"receiver"`
			GroupBy  []string `yaml:"group_by"`
			Routes   []struct {
				Matchers []string `yaml:"matchers"`
				Receiver string   `yaml:"receiver"`
			} `yaml:"routes"`
		} `yaml:"route"`
		InhibitRules []struct {
			Equal []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
		Receivers []struct {
			Name     string `yaml:"name"`
			Webhooks []struct {
				URL string `yaml:"url"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(alertmanagerFile(t, goldenCases()[2].generate(t)), &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.Route.GroupBy, "provider") || !slices.Contains(cfg.Route.GroupBy, "layer") {
		t.Errorf("group_by %v does not group by provider and layer", cfg.Route.GroupBy)
	}
	if len(cfg.Receivers) != 2 {
		t.Fatalf("receivers %+v, want page and ticket", cfg.Receivers)
	}
	for _, r := range cfg.Receivers {
		if len(r.Webhooks) != 1 || r.Webhooks[0].URL != "https://hooks.example.com/llmprobe" {
			t.Errorf("receiver %s webhooks %+v, want the spec's URL", r.Name, r.Webhooks)
		}
	}
	if len(cfg.InhibitRules) != 4 || !slices.Equal(cfg.InhibitRules[0].Equal, []string{"edge"}) || !slices.Equal(cfg.InhibitRules[1].Equal, []string{"provider", "check", "layer"}) ||
		!slices.Equal(cfg.InhibitRules[2].Equal, []string{"region"}) {
		t.Errorf("inhibit rules %+v", cfg.InhibitRules)
	}
}

func TestAlertmanagerConfigPassesAmtoolCheckConfig(t *testing.T) {
	amtool := testkit.Binary(t, []string{"amtool"}, "prometheus-alertmanager")
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(p, alertmanagerFile(t, c.generate(t)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(amtool, "check-config", p).CombinedOutput()
			if err != nil || !bytes.Contains(out, []byte("SUCCESS")) || !bytes.Contains(out, []byte("4 inhibit rules")) {
				t.Errorf("amtool check-config: %v\n%s", err, out)
			}
		})
	}
}

func TestAlertmanagerRoutesPageAndTicketAlertsToTheirReceivers(t *testing.T) {
	amtool := testkit.Binary(t, []string{"amtool"}, "prometheus-alertmanager")
	p := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(p, alertmanagerFile(t, goldenCases()[0].generate(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   string
	}{
		{"a paging burn reaches the page receiver", []string{"alertname=LLMProbeErrorBudgetBurn", "severity=page", "provider=openai", "check=reach", "layer=origin", "slo=availability"}, ReceiverPage},
		{"a ticket burn reaches the ticket receiver", []string{"alertname=LLMProbeErrorBudgetBurn", "severity=ticket", "provider=openai", "check=reach", "layer=origin", "slo=availability"}, ReceiverTicket},
		{"an edge-layer page reaches the page receiver after its longer wait", []string{"alertname=LLMProbeErrorBudgetBurn", "severity=page", "provider=openai", "check=chat", "layer=edge", "edge=cloudflare", "slo=availability"}, ReceiverPage},
		{"a latency page reaches the page receiver", []string{"alertname=LLMProbeLatencyBudgetBurn", "severity=page", "provider=openai", "check=chat", "layer=origin", "slo=latency"}, ReceiverPage},
		{"a shared-edge incident pages", []string{"alertname=LLMProbeSharedEdgeIncident", "severity=page", "edge=cloudflare"}, ReceiverPage},
		{"a provider down now pages", []string{"alertname=LLMProbeProviderDown", "severity=page", "provider=openai", "check=chat", "layer=origin"}, ReceiverPage},
		{"a provider down at the edge pages after the edge wait", []string{"alertname=LLMProbeProviderDown", "severity=page", "provider=openai", "check=chat", "layer=edge", "edge=cloudflare"}, ReceiverPage},
		{"a slow provider is a ticket", []string{"alertname=LLMProbeDegraded", "severity=ticket", "provider=gemini", "check=chat", "phase=ttfb"}, ReceiverTicket},
		{"a regional failure is a ticket", []string{"alertname=LLMProbeRegionalFailure", "severity=ticket", "region=eu-west", "cause=network"}, ReceiverTicket},
		{"a silent worker is a ticket", []string{"alertname=LLMProbeWorkerDown", "severity=ticket", "region=eu-west"}, ReceiverTicket},
		{"a misconfiguration is a ticket", []string{"alertname=LLMProbeMisconfigured", "severity=ticket", "provider=openai", "check=chat", "region=eu-west", "reason=auth"}, ReceiverTicket},
		{"an alert without severity falls back to tickets", []string{"alertname=SomethingElse"}, ReceiverTicket},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"config", "routes", "test", "--config.file=" + p, "--verify.receivers=" + tc.want}, tc.labels...)
			// amtool warns on stderr that --config.file wins over
			// --alertmanager.url; the receiver is on stdout.
			out, err := exec.Command(amtool, args...).Output()
			if err != nil || strings.TrimSpace(string(out)) != tc.want {
				t.Errorf("amtool config routes test %s: %v\n%s", strings.Join(tc.labels, " "), err, out)
			}
		})
	}
}

// alertKey names an alert by its alertname and the labels that tell the
// test's alerts apart.
func alertKey(labels map[string]string) string {
	k := labels["alertname"]
	for _, l := range []string{"severity", "provider", "layer", "edge", "region", "cause"} {
		if v := labels[l]; v != "" {
			k += " " + l + "=" + v
		}
	}
	return k
}

// TestAlertmanagerDeliversWhatNoIncidentExplains runs a real Alertmanager on
// loopback with the generated routing (test profile timings), posts a set of
// alerts, and checks which reach the webhook: the per-provider edge alerts
// behind the failing CDN, the burn-rate page under a fast page for the same
// provider, check and layer, the ticket under a page for the same SLO and
// the regional alert of a region whose own network is down are inhibited;
// the rest are delivered.
func TestAlertmanagerDeliversWhatNoIncidentExplains(t *testing.T) {
	hook := testkit.NewWebhook(t)
	spec := DefaultSpec(TestProfile())
	spec.Alertmanager.WebhookURL = hook.URL + "/alerts"
	res, err := Generate(spec, TestProfile())
	if err != nil {
		t.Fatal(err)
	}
	base := testkit.StartAlertmanager(t, string(alertmanagerFile(t, res))).URL
	// delivered names the firing alerts that reached the webhook.
	delivered := func() []string {
		seen := map[string]bool{}
		for _, a := range hook.Alerts("firing") {
			seen[alertKey(a.Labels)] = true
		}
		out := make([]string, 0, len(seen))
		for k := range seen {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}

	type alert map[string]string
	common := func(a alert) alert { a["check"] = "reach"; return a }
	posted := []alert{
		{"alertname": AlertSharedEdgeIncident, "severity": "page", "edge": "cloudflare"},
		common(alert{"alertname": AlertErrorBudgetBurn, "severity": "page", "slo": "availability", "provider": "openai", "layer": "edge", "edge": "cloudflare"}),
		common(alert{"alertname": AlertErrorBudgetBurn, "severity": "page", "slo": "availability", "provider": "gemini", "layer": "edge", "edge": "google"}),
		common(alert{"alertname": AlertErrorBudgetBurn, "severity": "page", "slo": "availability", "provider": "anthropic", "layer": "origin", "edge": "cloudflare"}),
		common(alert{"alertname": AlertErrorBudgetBurn, "severity": "ticket", "slo": "availability", "provider": "anthropic", "layer": "origin", "edge": "cloudflare"}),
		common(alert{"alertname": AlertProviderDown, "severity": "page", "provider": "anthropic", "layer": "origin"}),
		common(alert{"alertname": AlertProviderDown, "severity": "page", "provider": "openai", "layer": "edge", "edge": "cloudflare"}),
		common(alert{"alertname": AlertProviderDown, "severity": "page", "provider": "gemini", "layer": "edge", "edge": "google"}),
		{"alertname": AlertDegraded, "severity": "ticket", "provider": "gemini", "check": "chat", "phase": "ttfb"},
		{"alertname": AlertRegionalFailure, "severity": "ticket", "cause": "network", "region": "eu-west"},
		{"alertname": AlertRegionalFailure, "severity": "ticket", "cause": "providers", "region": "eu-west"},
		{"alertname": AlertRegionalFailure, "severity": "ticket", "cause": "providers", "region": "us-east"},
		{"alertname": AlertWorkerDown, "severity": "ticket", "region": "eu-west"},
	}
	var body []map[string]any
	for _, a := range posted {
		// Without endsAt the alerts would resolve after resolve_timeout,
		// 5s in the test profile.
		body = append(body, map[string]any{"labels": a, "annotations": map[string]string{"summary": "test"},
			"endsAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}
	data, _ := json.Marshal(body)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}

	want := []string{
		"LLMProbeDegraded severity=ticket provider=gemini",
		"LLMProbeProviderDown severity=page provider=anthropic layer=origin",
		"LLMProbeProviderDown severity=page provider=gemini layer=edge edge=google",
		"LLMProbeRegionalFailure severity=ticket region=eu-west cause=network",
		"LLMProbeRegionalFailure severity=ticket region=us-east cause=providers",
		"LLMProbeSharedEdgeIncident severity=page edge=cloudflare",
		"LLMProbeWorkerDown severity=ticket region=eu-west",
	}
	// Test profile timings: group_wait 1s for pages, 2s for tickets. Wait
	// for the expected deliveries, then a little longer for any that
	// should not come.
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for time.Now().Before(deadline) && len(delivered()) < len(want) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	if got := delivered(); !slices.Equal(got, want) {
		t.Errorf("delivered:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	// The API says who inhibits what.
	resp, err = http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var got []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var inhibited []string
	for _, a := range got {
		if len(a.Status.InhibitedBy) > 0 {
			inhibited = append(inhibited, alertKey(a.Labels))
		}
	}
	sort.Strings(inhibited)
	wantInhibited := []string{
		"LLMProbeErrorBudgetBurn severity=page provider=anthropic layer=origin edge=cloudflare",
		"LLMProbeErrorBudgetBurn severity=page provider=gemini layer=edge edge=google",
		"LLMProbeErrorBudgetBurn severity=page provider=openai layer=edge edge=cloudflare",
		"LLMProbeErrorBudgetBurn severity=ticket provider=anthropic layer=origin edge=cloudflare",
		"LLMProbeProviderDown severity=page provider=openai layer=edge edge=cloudflare",
		"LLMProbeRegionalFailure severity=ticket region=eu-west cause=providers",
	}
	if !slices.Equal(inhibited, wantInhibited) {
		t.Errorf("inhibited:\n  %s\nwant:\n  %s", strings.Join(inhibited, "\n  "), strings.Join(wantInhibited, "\n  "))
	}
}
