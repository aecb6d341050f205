package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmprobe/llmprobe/slo"
	"github.com/llmprobe/llmprobe/slo/grafana"
)

// exists says whether generate wrote the file at the deploy-relative path.
func exists(t *testing.T, dir, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestGenerateAlertingPicksPrometheusGrafanaOrBoth(t *testing.T) {
	grafanaFiles := []string{grafana.FileRules, grafana.FileContactPoints, grafana.FilePolicies}
	prometheusFiles := []string{slo.FileAlertRules, slo.FileAlertmanager}
	for _, tc := range []struct {
		name                string
		args                []string
		prometheus, grafana bool
	}{
		{name: "the default ships Prometheus alerting only", prometheus: true},
		{name: "prometheus ships Prometheus alerting only", args: []string{"--alerting", "prometheus"}, prometheus: true},
		{name: "grafana ships Grafana alerting instead", args: []string{"--alerting", "grafana"}, grafana: true},
		{name: "both ships both", args: []string{"--alerting", "both"}, prometheus: true, grafana: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, stderr, err := generateInto(t, dir, tc.args...); err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			// The Grafana rules read the recorded series: they are always written.
			if !exists(t, dir, slo.FileSLIRules) {
				t.Errorf("%s not written", slo.FileSLIRules)
			}
			for _, f := range prometheusFiles {
				if got := exists(t, dir, f); got != tc.prometheus {
					t.Errorf("%s written: %v, want %v", f, got, tc.prometheus)
				}
			}
			for _, f := range grafanaFiles {
				if got := exists(t, dir, f); got != tc.grafana {
					t.Errorf("%s written: %v, want %v", f, got, tc.grafana)
				}
			}
		})
	}
}

func TestGenerateGrafanaAlertingFollowsTheProfile(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := generateInto(t, dir, "--alerting", "grafana", "--profile", "test"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	p := slo.TestProfile()
	res, err := slo.Generate(slo.DefaultSpec(p), p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := grafana.Generate(slo.DefaultSpec(p), p, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(f.Data) {
			t.Errorf("%s is not the test profile's", f.Path)
		}
	}
}

func TestGenerateRejectsAnUnknownAlerting(t *testing.T) {
	_, _, err := generateInto(t, t.TempDir(), "--alerting", "pagerduty")
	if !errors.As(err, new(usageError)) {
		t.Errorf("--alerting pagerduty: %v, want a usage error", err)
	}
}
