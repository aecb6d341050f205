package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/dashboards"
	"github.com/llmprobe/llmprobe/slo"
)

// generateInto runs `llmprobe generate` with args and --out dir.
func generateInto(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = runGenerate(context.Background(), append([]string{"--out", dir}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// The committed deploy/ files are exactly what `llmprobe generate` writes:
// CI fails here when a change to the generator was not followed by
// `go run ./cmd/llmprobe generate --out deploy`.
func TestGenerateOutputMatchesTheCommittedDeployFiles(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := generateInto(t, dir); err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr)
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rel, _ := filepath.Rel(dir, p)
		got, _ := os.ReadFile(p)
		want, err := os.ReadFile(filepath.Join("..", "..", "deploy", rel))
		if err != nil {
			t.Errorf("deploy/%s: %v: run go run ./cmd/llmprobe generate --out deploy and commit it", filepath.ToSlash(rel), err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/%s is not what llmprobe generate writes: run go run ./cmd/llmprobe generate --out deploy and commit it", filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 9 {
		t.Errorf("generate wrote %d files, want at least the rules, the PrometheusRule, the Alertmanager config, three dashboards and two Grafana provisioning files", n)
	}
}

func TestGenerateWritesTheRulesAlertmanagerAndPrometheusRule(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := generateInto(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" {
		t.Errorf("the default spec warned: %s", stderr)
	}
	for _, rel := range []string{
		"prometheus/rules/llmprobe-sli.rules.yml",
		"prometheus/rules/llmprobe-alerts.rules.yml",
		"alertmanager/alertmanager.yml",
		"kubernetes/base/prometheusrule.yaml",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		if !strings.Contains(stdout, "wrote "+p) {
			t.Errorf("stdout does not report %s:\n%s", p, stdout)
		}
	}
}

func TestGenerateWritesTheDashboardsAndGrafanaProvisioning(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := generateInto(t, dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, uid := range []string{slo.DashboardOverview, slo.DashboardProvider, slo.DashboardSLO} {
		p := filepath.Join(dir, filepath.FromSlash(dashboards.DashboardFile(uid)))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("dashboard %s: %v", uid, err)
			continue
		}
		var d struct {
			UID    string            `json:"uid"`
			Panels []json.RawMessage `json:"panels"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.UID != uid || len(d.Panels) == 0 {
			t.Errorf("%s is not the %s dashboard (uid %q, %d panels, %v)", p, uid, d.UID, len(d.Panels), err)
		}
		if !strings.Contains(stdout, "wrote "+p) {
			t.Errorf("stdout does not report %s", p)
		}
	}
	ds, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(dashboards.FileDatasource)))
	if err != nil || !bytes.Contains(ds, []byte("uid: "+slo.DatasourceUID)) {
		t.Errorf("datasource provisioning without uid %s: %v\n%s", slo.DatasourceUID, err, ds)
	}
	provider, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(dashboards.FileDashboardProvider)))
	if err != nil || !bytes.Contains(provider, []byte("path: "+dashboards.DashboardsPath)) {
		t.Errorf("dashboard provider does not read %s: %v\n%s", dashboards.DashboardsPath, err, provider)
	}
}

// The dashboards follow the spec: another SLO window names other recorded
// series.
func TestGenerateDashboardsReadTheSpecsSLOWindow(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "slo.yaml")
	if err := os.WriteFile(spec, []byte("apiVersion: llmprobe/v1\nwindow: 28d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, err := generateInto(t, out, "--slo", spec); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(out, filepath.FromSlash(dashboards.DashboardFile(slo.DashboardSLO))))
	if !bytes.Contains(data, []byte(":ratio28d")) || bytes.Contains(data, []byte(":ratio30d")) {
		t.Error("the SLO dashboard does not read the 28d window's series")
	}
}

func TestGenerateLeavesOtherFilesInTheDirectoryAlone(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "prometheus", "prometheus.yml")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := generateInto(t, dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(other); string(got) != "keep me\n" {
		t.Errorf("generate changed %s: %q", other, got)
	}
}

func TestGenerateTestProfileCompressesTimeAndWarns(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := generateInto(t, dir, "--profile", "test")
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := os.ReadFile(filepath.Join(dir, "prometheus", "rules", "llmprobe-sli.rules.yml"))
	if !bytes.Contains(rules, []byte("interval: 1s")) || !bytes.Contains(rules, []byte("[5s]")) || bytes.Contains(rules, []byte("[5m]")) {
		t.Error("test profile rules are not evaluated every second over 5s windows")
	}
	am, _ := os.ReadFile(filepath.Join(dir, "alertmanager", "alertmanager.yml"))
	if !bytes.Contains(am, []byte("group_wait: 1s")) {
		t.Error("test profile Alertmanager config does not wait 1s")
	}
	if !strings.Contains(stderr, "llmprobe generate: warning: availability objective 0.999 for reach") {
		t.Errorf("no measurability warning on stderr: %q", stderr)
	}
}

func TestGenerateReadsAnSLOFile(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "slo.yaml")
	if err := os.WriteFile(spec, []byte("apiVersion: llmprobe/v1\nalertmanager:\n  webhookURL: http://127.0.0.1:19095/hook\nproviders: [openai]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, err := generateInto(t, out, "--slo", spec); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	am, _ := os.ReadFile(filepath.Join(out, "alertmanager", "alertmanager.yml"))
	if !bytes.Contains(am, []byte("url: http://127.0.0.1:19095/hook")) {
		t.Error("the spec's webhook URL is not in the Alertmanager config")
	}
	rules, _ := os.ReadFile(filepath.Join(out, "prometheus", "rules", "llmprobe-sli.rules.yml"))
	if bytes.Contains(rules, []byte("provider: anthropic")) || !bytes.Contains(rules, []byte("provider: openai")) {
		t.Error("the objectives are not the spec's providers")
	}
}

func TestGenerateUsageErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: llmprobe/v1\nchecks:\n  reach:\n    availability: 1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"an unknown flag", []string{"--outt", dir}, "flag provided but not defined: -outt"},
		{"an unknown profile", []string{"--out", dir, "--profile", "fast"}, `--profile: unknown profile "fast"`},
		{"a positional argument", []string{"--out", dir, "deploy"}, `unexpected argument "deploy"`},
		{"an empty output directory", []string{"--out", ""}, "--out must name a directory"},
		{"a missing SLO file", []string{"--out", dir, "--slo", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file"},
		{"an invalid SLO file", []string{"--out", dir, "--slo", bad}, "bad.yaml:4: checks.reach.availability: objective 1.5 is outside (0, 1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"generate"}, tc.args...), &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.want)
			}
			err := runGenerate(context.Background(), tc.args, &stdout, &stderr)
			if !errors.As(err, new(usageError)) {
				t.Errorf("runGenerate error %v is not a usage error", err)
			}
		})
	}
}

func TestGenerateHelpIsNotAnError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runGenerate(context.Background(), []string{"-h"}, &stdout, &stderr); err != nil {
		t.Fatalf("generate -h: %v", err)
	}
	if !strings.Contains(stderr.String(), "usage: llmprobe generate") || !strings.Contains(stderr.String(), "-profile") {
		t.Errorf("help text: %q", stderr.String())
	}
}
