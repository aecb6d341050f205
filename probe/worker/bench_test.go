package worker_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// BenchmarkWorkerRecord is the worker's cost per finished probe besides the
// exchange itself: metrics, status store and log, over 1,000 checks.
func BenchmarkWorkerRecord(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	var checks []probe.Check
	for i := 0; i < 1000; i++ {
		p := probe.CustomProvider(fmt.Sprintf("b%04d", i), "http://127.0.0.1:1/v1", "m")
		c := probe.Check{Provider: p, Kind: probe.Kinds[i%3], Region: "bench"}
		if c.Kind != probe.KindReach {
			c.Model = "m"
		}
		checks = append(checks, c)
		m.InitCheck(c)
	}
	pol := &worker.Politeness{Interval: 15 * time.Second}
	w := &worker.Fanout{Metrics: m, Status: worker.NewStatusStore("bench", checks, 60, nil, pol), Politeness: pol,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	results := make([]probe.Result, len(checks))
	for i, c := range checks {
		ms := time.Duration(i%200+1) * time.Millisecond
		results[i] = probe.Result{Provider: c.Provider.ID, Check: c.Kind, Model: c.Model, Region: "bench", Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK,
			StatusCode: 200, StartedAt: time.Now(), Edge: probe.EdgeCloudflare,
			Timings: probe.Timings{DNS: ms / 10, Connect: ms / 5, TLS: ms / 3, TTFB: ms, TTFT: ms, Transfer: ms / 4, Total: 2 * ms}}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(checks)
		w.Record(checks[k], results[k])
	}
}

// BenchmarkScrape is one Prometheus scrape of a worker with 1,000 checks
// that have all probed: what a 15 s scrape costs the worker.
func BenchmarkScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := worker.NewMetrics(reg)
	for i := 0; i < 1000; i++ {
		p := probe.CustomProvider(fmt.Sprintf("b%04d", i), "http://127.0.0.1:1/v1", "m")
		c := probe.Check{Provider: p, Kind: probe.Kinds[i%3], Region: "bench"}
		m.InitCheck(c)
		ms := time.Duration(i%200+1) * time.Millisecond
		m.Observe(probe.Result{Provider: p.ID, Check: c.Kind, Region: "bench", Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK, StatusCode: 200,
			StartedAt: time.Now(), Timings: probe.Timings{DNS: ms, Connect: ms, TLS: ms, TTFB: ms, Transfer: ms, Total: 2 * ms}})
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB/scrape")
}
