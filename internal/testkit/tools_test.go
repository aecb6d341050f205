package testkit_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

func TestPrometheusScrapesAndAnswersQueries(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte("# TYPE testkit_up gauge\ntestkit_up{region=\"x\"} 42\n"))
	}))
	defer target.Close()
	p := testkit.StartPrometheus(t, testkit.PrometheusOptions{ScrapeTargets: []string{strings.TrimPrefix(target.URL, "http://")}})
	vec, ok := p.WaitFor(t, `testkit_up{region="x"}`, 20*time.Second, func(v model.Vector) bool { return len(v) == 1 })
	if !ok || vec[0].Value != 42 {
		t.Fatalf("got %v", vec)
	}
}

func TestAlertmanagerStarts(t *testing.T) {
	am := testkit.StartAlertmanager(t, "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n")
	resp, err := http.Get(am.URL + "/api/v2/status")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status: %v %v", err, resp)
	}
	resp.Body.Close()
}
