package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// runWorker is `llmprobe run`: the regional worker (package worker),
// configured by LLMPROBE_* variables; with none set it probes reach for
// every catalog provider.
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checkConfig := fs.Bool("check-config", false, "validate the configuration, print the checks it yields, and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: llmprobe run [--check-config]\n\nRun the regional worker. It is configured by environment variables:")
		_ = envconfig.Usagef(worker.EnvPrefix, &worker.Settings{}, stderr, "  {{range .}}{{usage_key . | printf \"%-34s\"}} {{usage_default .| printf \"%-10s\"}} {{usage_description .}}\n  {{end}}\n")
		fmt.Fprintln(stderr, "Per provider: LLMPROBE_<ID>_BASE_URL, LLMPROBE_<ID>_MODEL or _MODELS, LLMPROBE_<ID>_MAX_TOKENS, its API key variable (llmprobe providers).")
		fmt.Fprintf(stderr, "Go's own: GOGC (default %d here, not Go's 100), GOMEMLIMIT, GOMAXPROCS.\n", worker.DefaultGOGC)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := worker.LoadSettings()
	if err != nil {
		return err
	}
	checks, skipped, err := s.Checks()
	if err != nil {
		return err
	}
	if _, err := s.RootCAs(); err != nil {
		return err
	}
	if *checkConfig {
		printChecks(stdout, s, checks, skipped)
		return nil
	}
	logger := worker.NewLogger(stderr, s)
	if worker.SetGCDefault(os.LookupEnv) {
		logger.Debug("GOGC not set: the worker's default", "gogc", worker.DefaultGOGC)
	}
	for _, why := range skipped {
		logger.Info("provider not probed", "why", why)
	}
	return worker.Run(ctx, s, worker.Options{Checks: checks, Logger: logger})
}

// printChecks is --check-config's report: the settings and every check,
// keys shown only as the variable that is set.
func printChecks(w io.Writer, s worker.Settings, checks []probe.Check, skipped []string) {
	fmt.Fprintf(w, "configuration ok: region %s, interval %s, timeout %s, listen %s, %d checks\n\n", s.Region, s.Interval, s.Timeout, s.Listen, len(checks))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tCHECK\tMODEL\tBASE URL\tKEY")
	for _, c := range checks {
		key := "-"
		switch {
		case c.APIKey.Set():
			key = c.Provider.KeyEnv + " (set)"
		case c.Signer != nil && c.Kind != probe.KindReach:
			key = fmt.Sprint(c.Signer) // names the credential source, never a secret
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Provider.ID, c.Kind, orDash(c.Model), c.BaseURL, key)
	}
	tw.Flush()
	for _, s := range skipped {
		fmt.Fprintf(w, "not probed: %s\n", s)
	}
}
