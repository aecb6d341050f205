package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llmprobe/llmprobe/dashboards"
	"github.com/llmprobe/llmprobe/slo"
	"github.com/llmprobe/llmprobe/slo/grafana"
)

// runGenerate writes every generated artifact under --out, mirroring
// deploy/ (it is how deploy/ is produced): the SLO recording and alerting
// rules, the PrometheusRule, the Alertmanager configuration, the Grafana
// dashboards and their provisioning (datasource and dashboard provider).
// --alerting picks the alerting shipped: Prometheus alerting rules and the
// Alertmanager configuration (the default), Grafana-managed alerting
// provisioning (package slo/grafana), or both; the recording rules are
// always written, since the Grafana rules read their series too.
// It writes only its own files and leaves anything else in the directory
// alone.
// Warnings about objectives the probe rate cannot measure go to stderr.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "deploy", "directory to write under, laid out like deploy/")
	sloFile := fs.String("slo", "", "SLO spec file (apiVersion: llmprobe/v1) overriding the built-in defaults")
	alerting := fs.String("alerting", alertingPrometheus,
		"which alerting to ship: prometheus (rules and Alertmanager config), grafana (Grafana-managed rules, contact points and policies under grafana/provisioning/alerting), or both")
	profileName := fs.String("profile", slo.ProfileDefaultName,
		"default: production windows; test: every window, `for` and interval 60 times shorter, for end-to-end tests")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: llmprobe generate [--out DIR] [--slo FILE] [--profile default|test] [--alerting prometheus|grafana|both]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("--out must name a directory")
	}
	shipPrometheus, shipGrafana, err := parseAlerting(*alerting)
	if err != nil {
		return err
	}
	profile, err := slo.ParseProfile(*profileName)
	if err != nil {
		return usagef("--profile: %v", err)
	}
	spec := slo.DefaultSpec(profile)
	if *sloFile != "" {
		if spec, err = slo.Load(*sloFile, profile); err != nil {
			return usagef("%v", err)
		}
	}
	res, err := slo.Generate(spec, profile)
	if err != nil {
		return usagef("%v", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "llmprobe generate: warning: %s\n", w)
	}
	// The dashboards read the rules' series, named after the same spec's
	// SLO window.
	boards, err := dashboards.Generate(dashboards.Options{Spec: spec, Profile: profile})
	if err != nil {
		return fmt.Errorf("generate dashboards: %w", err)
	}
	var files []slo.File
	for _, f := range res.Files {
		if shipPrometheus || (f.Path != slo.FileAlertRules && f.Path != slo.FileAlertmanager && f.Path != slo.FileAlertmanagerSubtree) {
			files = append(files, f)
		}
	}
	files = append(files, boards...)
	if shipGrafana {
		alerting, err := grafana.Generate(spec, profile, res)
		if err != nil {
			return fmt.Errorf("generate Grafana alerting: %w", err)
		}
		files = append(files, alerting...)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(*out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create directory for %s: %w", path, err)
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	fmt.Fprint(stdout, spec.PagingReport(profile))
	return nil
}

// Values of generate --alerting.
const (
	alertingPrometheus = "prometheus"
	alertingGrafana    = "grafana"
	alertingBoth       = "both"
)

// parseAlerting says which alerting --alerting ships.
func parseAlerting(v string) (withPrometheus, withGrafana bool, err error) {
	switch v {
	case alertingPrometheus:
		return true, false, nil
	case alertingGrafana:
		return false, true, nil
	case alertingBoth:
		return true, true, nil
	}
	return false, false, usagef("--alerting: unknown value %q (want %s, %s or %s)", v, alertingPrometheus, alertingGrafana, alertingBoth)
}
