package testkit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	for _, v := range []struct {
		name    string
		version testkit.PrometheusVersion
		want    string // in prometheus_build_info's version label
	}{
		{"prometheus-2.42", testkit.Prometheus2, "2."},
		{"prometheus-3", testkit.Prometheus3, "3."},
	} {
		t.Run(v.name, func(t *testing.T) {
			p := testkit.StartPrometheus(t, testkit.PrometheusOptions{Version: v.version, ScrapeTargets: []string{strings.TrimPrefix(target.URL, "http://")}})
			vec, ok := p.WaitFor(t, `testkit_up{region="x"}`, 30*time.Second, func(v model.Vector) bool { return len(v) == 1 })
			if !ok || vec[0].Value != 42 {
				t.Fatalf("got %v", vec)
			}
			// The server is the version asked for (the Prometheus 3 build
			// is stamped with its version by scripts/test.sh).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			info, err := p.API().Buildinfo(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(info.Version, v.want) {
				t.Errorf("build info version %q, want %s*", info.Version, v.want)
			}
		})
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

// skipRecorder stands in for a test to see what a helper skips with.
type skipRecorder struct {
	testing.TB
	skipped string
}

func (s *skipRecorder) Helper() {}
func (s *skipRecorder) Skipf(format string, args ...any) {
	s.skipped = fmt.Sprintf(format, args...)
}

func TestPrometheus3IsFoundWhereTheEnvironmentSays(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(testkit.Prometheus3DirEnv, dir)
	rec := &skipRecorder{TB: t}
	if got := testkit.Prometheus3Tool(rec, "promtool"); got != "" {
		t.Fatalf("found %q in an empty directory", got)
	}
	// A missing build names the directory and how to build into it.
	for _, want := range []string{dir, "scripts/test.sh", "go install github.com/prometheus/prometheus/cmd/promtool@" + testkit.Prometheus3Version, testkit.Prometheus3DirEnv} {
		if !strings.Contains(rec.skipped, want) {
			t.Errorf("skip message %q does not say %q", rec.skipped, want)
		}
	}
	tool := filepath.Join(dir, "promtool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec = &skipRecorder{TB: t}
	if got := testkit.Prometheus3Tool(rec, "promtool"); got != tool || rec.skipped != "" {
		t.Errorf("got %q (skipped: %q), want %s", got, rec.skipped, tool)
	}
	t.Setenv(testkit.Prometheus3DirEnv, "")
	if got := testkit.Prometheus3Dir(); !strings.HasSuffix(got, filepath.Join("llmprobe", "prometheus-"+testkit.Prometheus3Version)) {
		t.Errorf("default directory %q is not the llmprobe cache", got)
	}
}
