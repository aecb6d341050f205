package worker

import (
	"log/slog"
	"sync"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"go.opentelemetry.io/otel/trace"
)

// Fanout is the scheduler's Recorder in a running worker: it sends each
// finished probe to every sink (trace first, so the metrics' exemplars carry
// its ID, then metrics, the status store and the log).
type Fanout struct {
	Metrics    *Metrics
	Status     *StatusStore
	Tracer     trace.Tracer
	Logger     *slog.Logger
	Politeness *Politeness
	Network    *NetworkState // nil: the network is taken to be up
	Clock      probe.Clock

	mu   sync.Mutex
	last map[string]string // check -> last outcome or skip reason, to log changes once
}

func (w *Fanout) now() time.Time {
	if w.Clock == nil {
		return time.Now()
	}
	return w.Clock.Now()
}

// changed records state for the check and reports whether it differs from
// the previous one.
func (w *Fanout) changed(c probe.Check, state string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]string{}
	}
	key := checkKey(c)
	prev, seen := w.last[key]
	w.last[key] = state
	return !seen || prev != state
}

// Record sends a finished probe to the sinks.
func (w *Fanout) Record(c probe.Check, r probe.Result) {
	if w.Tracer != nil {
		RecordSpan(w.Tracer, &r)
	}
	w.Metrics.Observe(r)
	if w.Network.Down() {
		w.Metrics.Unmeasured(r)
		w.Status.RecordUnmeasured(c, r)
	} else {
		w.Status.Record(c, r)
	}
	now := w.now()
	b := w.Politeness.Backoff(c, now)
	if b.Active {
		w.Metrics.SetBackoff(c, b.Until.Sub(now))
	} else {
		w.Metrics.SetBackoff(c, 0)
	}
	if c.Kind != probe.KindReach && w.Politeness != nil {
		req, tok := w.Politeness.Budget(c.Provider.ID, now).Remaining()
		w.Metrics.SetBudget(c.Provider.ID, c.Region, req, tok)
	}
	attrs := []any{"provider", r.Provider, "check", r.Check, "model", r.Model, "outcome", r.Outcome, "reason", r.Reason,
		"status", r.StatusCode, "edge", r.Edge, "ttfb_ms", probe.Milliseconds(r.Timings.TTFB), "total_ms", probe.Milliseconds(r.Timings.Total)}
	if r.RequestID != "" {
		attrs = append(attrs, "request_id", r.RequestID)
	}
	if r.EdgeRay != "" {
		attrs = append(attrs, "edge_ray", r.EdgeRay)
	}
	if r.TraceID != "" {
		attrs = append(attrs, "trace_id", r.TraceID)
	}
	if b.Active {
		attrs = append(attrs, "backoff_until", b.Until.UTC().Format(time.RFC3339))
	}
	// A verdict is logged at info or warn when it changes, at debug while it
	// stays the same: a long outage does not flood the log.
	changed := w.changed(c, string(r.Outcome)+"/"+string(r.Reason))
	switch {
	case r.Success() && changed:
		w.Logger.Info("probe ok", attrs...)
	case r.Success():
		w.Logger.Debug("probe ok", attrs...)
	case changed:
		w.Logger.Warn("probe failed", append(attrs, "err", r.Error)...)
	default:
		w.Logger.Debug("probe failed", append(attrs, "err", r.Error)...)
	}
}

// Skip records a scheduled probe that was not sent.
func (w *Fanout) Skip(c probe.Check, reason string) {
	w.Metrics.Skipped(c, reason)
	w.Status.Skip(c, reason)
	now := w.now()
	if b := w.Politeness.Backoff(c, now); b.Active {
		w.Metrics.SetBackoff(c, b.Until.Sub(now))
	}
	attrs := []any{"provider", c.Provider.ID, "check", c.Kind, "model", c.Model, "reason", reason}
	if w.changed(c, "skip:"+reason) {
		switch reason {
		case probe.SkipReasonBudget:
			b := w.Politeness.Budget(c.Provider.ID, now)
			w.Logger.Warn("daily probe budget spent: inference checks paused until midnight UTC, reach goes on",
				append(attrs, "requests", b.Requests, "request_budget", b.RequestBudget, "tokens", b.Tokens, "token_budget", b.TokenBudget)...)
		case probe.SkipReasonBackoff:
			w.Logger.Info("backing off after 429/529", append(attrs, "until", w.Politeness.Backoff(c, now).Until.UTC().Format(time.RFC3339))...)
		default:
			w.Logger.Warn("probe skipped", attrs...)
		}
	}
}

// Late records how late a probe started.
func (w *Fanout) Late(_ probe.Check, d time.Duration) { w.Metrics.ObserveLateness(d) }
