package deploy_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/slo"
)

// Addresses in the shipped agent.yml that a deployment replaces: the worker
// beside the agent and the central Prometheus.
const (
	agentWorkerTarget = `"localhost:9469"`
	agentRemoteWrite  = "http://prometheus-central.monitoring.svc:9090/api/v1/write"
)

// TestProductionTopologyRegionalAgentsAndACentralPrometheus runs the
// deployment the README recommends, on loopback: a worker per region with
// `prometheus --agent` beside it, configured by deploy/prometheus/agent.yml
// as shipped (only the two addresses changed, so its 15s scrape, protobuf
// and native-histogram settings are the real ones), remote-writing to a
// central Prometheus 3 with the remote-write receiver that evaluates the
// generated rules (test profile) and sends to Alertmanager with the
// generated configuration. The central Prometheus gets both histogram
// kinds and the probes' trace IDs as exemplars; when one region's agent
// stops, LLMProbeWorkerDown fires for that region only and reaches the
// webhook.
func TestProductionTopologyRegionalAgentsAndACentralPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: about two minutes")
	}
	testkit.Prometheus3Tool(t, "prometheus")
	testkit.Binary(t, []string{"prometheus-alertmanager", "alertmanager"}, "prometheus-alertmanager")
	shipped, err := os.ReadFile("prometheus/agent.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{agentWorkerTarget, agentRemoteWrite} {
		if n := strings.Count(string(shipped), addr); n != 1 {
			t.Fatalf("prometheus/agent.yml has %s %d times, want once: update this test with the file", addr, n)
		}
	}
	bin := buildBinary(t)
	hook := testkit.NewWebhook(t)
	regions := []string{"eu-west", "us-east"}

	// Workers probe every 10s: the agents scrape every 15s (agent.yml), so
	// the newest probe the central Prometheus holds is up to ~30s old, well
	// within the 50s (five intervals) after which a worker counts as down.
	gen := t.TempDir()
	spec := filepath.Join(gen, "slo.yaml")
	os.WriteFile(spec, []byte("apiVersion: llmprobe/v1\nprobeInterval: 10s\nregions: 2\nregionNames: [eu-west, us-east]\nproviders: [openai]\nalertmanager:\n  webhookURL: "+hook.URL+"/alerts\n"), 0o644)
	if out, err := exec.Command(bin, "generate", "--profile", "test", "--slo", spec, "--out", gen).CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	amConfig, err := os.ReadFile(filepath.Join(gen, slo.FileAlertmanager))
	if err != nil {
		t.Fatal(err)
	}
	am := testkit.StartAlertmanager(t, string(amConfig))
	central := testkit.StartPrometheus(t, testkit.PrometheusOptions{
		EvaluationInterval: time.Second,
		RuleFiles:          []string{filepath.Join(gen, slo.FileSLIRules), filepath.Join(gen, slo.FileAlertRules)},
		AlertmanagerURL:    am.URL,
		ExtraArgs:          []string{"--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage"},
	})

	cf := providertest.NewServer(providertest.Options{APIKey: e2eKey})
	t.Cleanup(cf.Close)
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(control.Close)
	collector := testkit.TraceCollector(t) // the workers trace their probes: exemplars

	agents := map[string]*testkit.Prometheus{}
	for _, region := range regions {
		addr := freeAddr(t)
		startProcess(t, bin, []string{"LLMPROBE_REGION=" + region, "LLMPROBE_LISTEN=" + addr, "LLMPROBE_INTERVAL=10s", "LLMPROBE_TIMEOUT=5s",
			"LLMPROBE_PROVIDERS=openai", "LLMPROBE_CHECKS=reach,chat", "LLMPROBE_STATUS_PAGES=false", "LLMPROBE_CONTROL_TARGETS=local=" + control.URL,
			"LLMPROBE_OPENAI_BASE_URL=" + cf.BaseURL("openai"), "OPENAI_API_KEY=" + e2eKey,
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector, "OTEL_BSP_SCHEDULE_DELAY=200"}, "run")
		waitHTTP(t, "http://"+addr+"/readyz")
		config := strings.Replace(string(shipped), agentWorkerTarget, `"`+addr+`"`, 1)
		config = strings.Replace(config, agentRemoteWrite, central.URL+"/api/v1/write", 1)
		agents[region] = testkit.StartPrometheus(t, testkit.PrometheusOptions{Agent: true, Config: config})
	}

	// Both regions arrive by remote write: their newest probes, the duration
	// histogram as native and classic series, and exemplars.
	last := probe.MetricCheckLastRun
	if v, ok := central.WaitFor(t, "count by (region) ("+last+")", 2*time.Minute, func(v model.Vector) bool { return len(v) == len(regions) }); !ok {
		t.Fatalf("the central Prometheus has %s from %d regions, want %d", last, len(v), len(regions))
	}
	for _, series := range []string{probe.MetricProbeDuration, probe.MetricProbeDuration + "_bucket"} {
		if v, ok := central.WaitFor(t, "count("+series+")", time.Minute, func(v model.Vector) bool { return len(v) == 1 }); !ok {
			t.Errorf("the central Prometheus has no %s: %v", series, v)
		}
	}
	central.CheckTraceExemplars(t, `{__name__=~"`+probe.MetricProbeDuration+`(_bucket)?"}`, probe.ExemplarTraceIDLabel)
	// Healthy: no region is reported down (the rules did, for a region
	// named in the spec, until its first samples arrived).
	down := `ALERTS{alertname="` + slo.AlertWorkerDown + `"}`
	if v, ok := central.WaitFor(t, down, time.Minute, func(v model.Vector) bool { return len(v) == 0 }); !ok {
		t.Fatalf("%s on a healthy baseline: %v", slo.AlertWorkerDown, v)
	}

	stopped := time.Now()
	agents["eu-west"].Stop()
	firing := `ALERTS{alertname="` + slo.AlertWorkerDown + `",alertstate="firing"}`
	v, ok := central.WaitFor(t, firing, 3*time.Minute, func(v model.Vector) bool { return len(v) > 0 })
	if !ok {
		t.Fatalf("%s never fired after eu-west's agent stopped", slo.AlertWorkerDown)
	}
	if len(v) != 1 || v[0].Metric["region"] != "eu-west" {
		t.Errorf("%s fires for %v, want eu-west only", slo.AlertWorkerDown, v)
	}
	testkit.Eventually(t, "the webhook to get "+slo.AlertWorkerDown, func() bool {
		_, n := hook.Find("firing", stopped, map[string]string{"alertname": slo.AlertWorkerDown, "region": "eu-west"})
		return n > 0
	})
	if _, n := hook.Find("firing", stopped, map[string]string{"alertname": slo.AlertWorkerDown, "region": "us-east"}); n > 0 {
		t.Errorf("us-east, whose agent still runs, was reported down: %s", hook.String())
	}
}
