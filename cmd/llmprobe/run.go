package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/ui"
)

// runWorker is `llmprobe run`: the regional worker. Configuration comes from
// LLMPROBE_* variables (envconfig); with none set it probes reach for every
// catalog provider.
func runWorker(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checkConfig := fs.Bool("check-config", false, "validate the configuration, print the checks it yields, and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: llmprobe run [--check-config]\n\nRun the regional worker. It is configured by environment variables:")
		_ = envconfig.Usagef(envPrefix, &runConfig{}, stderr, "  {{range .}}{{usage_key . | printf \"%-34s\"}} {{usage_default .| printf \"%-10s\"}} {{usage_description .}}\n  {{end}}\n")
		fmt.Fprintln(stderr, "Per provider: LLMPROBE_<ID>_BASE_URL, LLMPROBE_<ID>_MODEL, its API key variable (llmprobe providers).")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadRunConfig(env)
	if err != nil {
		return err
	}
	checks, skipped, err := buildChecks(cfg, env)
	if err != nil {
		return usageError{err}
	}
	var roots *x509.CertPool // nil: the system's
	if cfg.CAFile != "" {
		if roots, err = probe.LoadCAFile(cfg.CAFile); err != nil {
			return usagef("LLMPROBE_CA_FILE: %v", err)
		}
	}
	if *checkConfig {
		printChecks(stdout, cfg, checks, skipped)
		return nil
	}
	logger, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return usagef("LLMPROBE_LOG_LEVEL: %v", err)
	}
	for _, s := range skipped {
		logger.Info("provider not probed", "why", s)
	}
	return serveWorker(ctx, cfg, checks, roots, logger, env, nil)
}

func printChecks(w io.Writer, cfg runConfig, checks []probe.Check, skipped []string) {
	fmt.Fprintf(w, "configuration ok: region %s, interval %s, timeout %s, listen %s, %d checks\n\n", cfg.Region, cfg.Interval, cfg.Timeout, cfg.Listen, len(checks))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tCHECK\tMODEL\tBASE URL\tKEY")
	for _, c := range checks {
		key := "-"
		if c.APIKey.Set() {
			key = c.Provider.KeyEnv + " (set)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Provider.ID, c.Kind, orDash(c.Model), c.BaseURL, key)
	}
	tw.Flush()
	for _, s := range skipped {
		fmt.Fprintf(w, "not probed: %s\n", s)
	}
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// serveWorker runs the scheduler, control targets, status pages and the
// HTTP server until ctx is done, then shuts down within the configured bound.
// ln, when not nil, is the listener to serve on instead of cfg.Listen
// (`llmprobe demo` binds its workers itself).
func serveWorker(ctx context.Context, cfg runConfig, checks []probe.Check, roots *x509.CertPool, logger *slog.Logger, env func(string) string, ln net.Listener) error {
	version, revision, goVersion := buildVersion()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := probe.NewMetrics(reg)
	metrics.SetBuildInfo(version, revision, goVersion)
	pol := &probe.Politeness{Interval: cfg.Interval, DailyRequests: cfg.DailyRequestBudget, DailyTokens: cfg.DailyTokenBudget}
	status := probe.NewStatusStore(cfg.Region, checks, cfg.History, nil, pol)
	for _, c := range checks {
		metrics.InitCheck(c)
	}
	tp, shutdownTracing, err := probe.NewTracerProvider(ctx, env, version, cfg.Region)
	if err != nil {
		return usageError{err}
	}
	prober := &probe.Prober{UserAgent: userAgent(), RootCAs: roots}
	worker := &probe.Worker{Metrics: metrics, Status: status, Tracer: tp.Tracer(probe.TracerName), Logger: logger, Politeness: pol}
	sched := &probe.Scheduler{Checks: checks, Interval: cfg.Interval, Concurrency: cfg.Concurrency, Probe: prober.Probe, Recorder: worker, Politeness: pol}

	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return usagef("LLMPROBE_LISTEN: %v", err)
		}
	}
	srv := &http.Server{Handler: workerMux(reg, status), ReadHeaderTimeout: 10 * time.Second}
	logger.Info("llmprobe worker started", "version", version, "region", cfg.Region, "checks", len(checks), "interval", cfg.Interval,
		"listen", "http://"+ln.Addr().String())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return sched.Run(gctx) })
	if targets, _ := probe.ParseControlTargets(cfg.ControlTargets); len(targets) > 0 {
		loop := &probe.ControlLoop{Targets: targets, Interval: cfg.Interval, Timeout: min(cfg.Timeout, 10*time.Second), RootCAs: prober.RootCAs,
			Region: cfg.Region, Metrics: metrics, Status: status, Logger: logger}
		g.Go(func() error { return loop.Run(gctx) })
	}
	if cfg.StatusPages {
		if pages := statusPages(checks); len(pages) > 0 {
			poller := &probe.StatusPagePoller{Pages: pages, Interval: cfg.StatusPageInterval, Client: &http.Client{Timeout: 20 * time.Second},
				Region: cfg.Region, Metrics: metrics, Status: status, Logger: logger}
			g.Go(func() error { return poller.Run(gctx) })
		}
	}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", cfg.Listen, err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer scancel()
		return srv.Shutdown(sctx)
	})

	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		logger.Info("shutting down", "bound", cfg.ShutdownTimeout)
		select {
		case runErr = <-done:
		case <-time.After(cfg.ShutdownTimeout):
			runErr = fmt.Errorf("shutdown did not finish within LLMPROBE_SHUTDOWN_TIMEOUT %s", cfg.ShutdownTimeout)
		}
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer tcancel()
	if err := shutdownTracing(tctx); err != nil {
		logger.Warn("flush traces", "err", err)
	}
	if runErr != nil {
		return runErr
	}
	logger.Info("llmprobe worker stopped")
	return nil
}

// statusPages maps the probed providers to their public status pages.
func statusPages(checks []probe.Check) map[string]string {
	pages := map[string]string{}
	for _, c := range checks {
		if c.Provider.StatusPage != "" && !c.Provider.Custom {
			pages[c.Provider.ID] = c.Provider.StatusPage
		}
	}
	return pages
}

// workerMux serves /metrics, /healthz, /readyz, /api/status and the status page at /.
func workerMux(reg *prometheus.Registry, status *probe.StatusStore) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !status.Ready() {
			http.Error(w, "first round of probes not done yet", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		if r.URL.Query().Has("pretty") {
			enc.SetIndent("", "  ")
		}
		_ = enc.Encode(status.Report())
	})
	mux.Handle("GET /{$}", ui.Handler(status)) // the status page, over the same report as /api/status
	return mux
}
