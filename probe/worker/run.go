package worker

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace/noop"
	"golang.org/x/sync/errgroup"

	"github.com/llmprobe/llmprobe/internal/buildinfo"
	"github.com/llmprobe/llmprobe/probe"
)

// Options are what Run needs besides the settings. Every field but Checks
// may be left zero.
type Options struct {
	Checks   []probe.Check // from Settings.Checks, or built by the demo
	Logger   *slog.Logger  // nil discards the log
	Listener net.Listener  // nil listens on Settings.Listen
	Clock    probe.Clock   // the scheduler's and the sinks' time; nil is the wall clock
	// Probe runs one check; nil is a probe.Prober with the settings' roots.
	// Tests replace it to hold a probe past its context.
	Probe ProbeFunc
	Build buildinfo.Info // zero is buildinfo.Get()
}

// Run is one region's worker: it probes the checks on schedule, fans each
// result out to the metrics, the status store, traces and the log, runs the
// control-target and status-page loops, and serves /metrics, /healthz,
// /readyz, /api/status and the status page, until ctx is done. Then it
// shuts down within Settings.ShutdownTimeout, cancelling probes in flight,
// or returns an error saying the bound passed. Bad settings are a
// *ConfigError.
func Run(ctx context.Context, s Settings, o Options) error {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	build := o.Build
	if build == (buildinfo.Info{}) {
		build = buildinfo.Get()
	}
	roots, err := s.RootCAs()
	if err != nil {
		return err
	}
	reg := NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := NewMetrics(reg)
	metrics.NetworkControl = len(s.ControlTargets) > 0
	metrics.SetBuildInfo(build.Version, build.Revision, build.GoVersion)
	pol := &Politeness{Interval: s.Interval, DailyRequests: s.DailyRequestBudget, DailyTokens: s.DailyTokenBudget}
	status := NewStatusStore(s.Region, o.Checks, s.History, o.Clock, pol)
	for _, c := range o.Checks {
		metrics.InitCheck(c)
	}
	tp, shutdownTracing, err := NewTracerProvider(ctx, build.Version, s.Region)
	if err != nil {
		return &ConfigError{err}
	}
	probeFn := o.Probe
	if probeFn == nil {
		probeFn = (&probe.Prober{UserAgent: build.UserAgent(), RootCAs: roots, Clock: o.Clock}).Probe
	}
	network := &NetworkState{}
	fan := &Fanout{Metrics: metrics, Status: status, Logger: logger, Politeness: pol, Network: network, Clock: o.Clock}
	if _, off := tp.(noop.TracerProvider); !off {
		// Tracing off, no spans: not even the attributes a no-op span
		// would drop (about 5 % of what a probe allocates).
		fan.Tracer = tp.Tracer(TracerName)
	}
	sched := &Scheduler{Checks: o.Checks, Interval: s.Interval, Concurrency: s.Concurrency, Probe: probeFn, Recorder: fan, Politeness: pol, Clock: o.Clock}

	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", s.Listen); err != nil {
			return configErrorf("LLMPROBE_LISTEN: %v", err)
		}
	}
	ln = limitConnections(ln, s.MaxConnections)
	mux := Mux(reg, status)
	if s.PProf {
		HandlePProf(mux)
	}
	srv := newServer(mux)
	logger.Info("llmprobe worker started", "version", build.Version, "region", s.Region, "checks", len(o.Checks), "interval", s.Interval,
		"listen", "http://"+ln.Addr().String())

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return sched.Run(gctx) })
	if len(s.ControlTargets) > 0 {
		loop := &ControlLoop{Targets: s.ControlTargets, Interval: s.Interval, Timeout: min(s.Timeout, 10*time.Second), RootCAs: roots,
			Region: s.Region, Metrics: metrics, Status: status, Network: network, Logger: logger, Clock: o.Clock}
		g.Go(func() error { return loop.Run(gctx) })
	}
	if s.StatusPages {
		if pages := statusPages(o.Checks); len(pages) > 0 {
			poller := &StatusPagePoller{Pages: pages, Interval: s.StatusPageInterval, Client: &http.Client{Timeout: 20 * time.Second},
				Region: s.Region, Metrics: metrics, Status: status, Logger: logger, Clock: o.Clock}
			g.Go(func() error { return poller.Run(gctx) })
		}
	}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
		defer scancel()
		return srv.Shutdown(sctx)
	})

	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-ctx.Done():
		logger.Info("shutting down", "bound", s.ShutdownTimeout)
		select {
		case runErr = <-done:
		case <-time.After(s.ShutdownTimeout):
			runErr = fmt.Errorf("shutdown did not finish within LLMPROBE_SHUTDOWN_TIMEOUT %s", s.ShutdownTimeout)
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

// RootCAs loads LLMPROBE_CA_FILE: nil (the system's roots) when unset.
func (s Settings) RootCAs() (*x509.CertPool, error) {
	if s.CAFile == "" {
		return nil, nil
	}
	roots, err := probe.LoadCAFile(s.CAFile)
	if err != nil {
		return nil, configErrorf("LLMPROBE_CA_FILE: %v", err)
	}
	return roots, nil
}

// NewLogger is the worker's log on w, in LLMPROBE_LOG_FORMAT at
// LLMPROBE_LOG_LEVEL.
func NewLogger(w io.Writer, s Settings) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.Level(s.LogLevel)}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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

// Mux serves /metrics (from reg), /healthz, /readyz, /api/status and the
// status page at / (from status).
func Mux(reg *Registry, status *StatusStore) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", MetricsHandler(reg))
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
	mux.Handle("GET /{$}", PageHandler(status)) // the status page, over the same report as /api/status
	return mux
}
