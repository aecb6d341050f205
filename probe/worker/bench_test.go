package worker_test

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// benchChecks are the checks of bench/worker.sh: reach, chat and stream of
// OpenAI-compatible ids (chat and stream with a model), 1,000 in all.
func benchChecks() []probe.Check {
	var checks []probe.Check
	for i := 0; i < 1000; i++ {
		p := probe.CustomProvider(fmt.Sprintf("b%04d", i/3), "http://127.0.0.1:1/v1", "gpt-4o-mini")
		c := probe.Check{Provider: p, Kind: probe.Kinds[i%3], Region: "bench"}
		if c.Kind != probe.KindReach {
			c.Model = "gpt-4o-mini"
		}
		checks = append(checks, c)
	}
	return checks
}

// benchResult is a successful loopback probe of c, as bench/worker.sh's
// fakes answer: plain HTTP (no DNS, no TLS), tokens on chat and stream.
func benchResult(c probe.Check, i int) probe.Result {
	ms := time.Duration(i%200+1) * time.Millisecond
	r := probe.Result{Provider: c.Provider.ID, Check: c.Kind, Model: c.Model, Region: c.Region, Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK,
		StatusCode: 200, StartedAt: time.Now(), Edge: probe.EdgeCloudflare,
		Timings: probe.Timings{Connect: ms / 5, TTFB: ms, Transfer: ms / 4, Total: 2 * ms}}
	if c.Kind != probe.KindReach {
		r.Tokens = probe.Usage{Input: 12, Output: 1}
	}
	if c.Kind == probe.KindStream {
		r.Timings.TTFT = ms
	}
	return r
}

// initMetrics is a worker's registry and metrics with checks' series
// created, as before their first probe.
func initMetrics(checks []probe.Check) (*worker.Registry, *worker.Metrics) {
	reg := worker.NewRegistry()
	m := worker.NewMetrics(reg)
	for _, c := range checks {
		m.InitCheck(c)
	}
	return reg, m
}

// discard is a ResponseWriter that keeps nothing and counts the bytes, as a
// socket would take them: the page is never held whole in memory.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkScrape is one Prometheus scrape of a worker with the 1,000
// checks of bench/worker.sh after every check has probed 16 times with
// different durations: what a 15 s scrape costs the worker. text is what
// Prometheus asks for by default (OpenMetrics, for exemplars), protobuf what
// it asks for with native histograms on (deploy/prometheus's configs), gzip
// the page compressed as Prometheus accepts it. page-bytes is the page as
// written (compressed for gzip); cpu-ms/op the process's CPU time during
// the scrape, the collector's included.
func BenchmarkScrape(b *testing.B) {
	checks := benchChecks()
	reg, m := initMetrics(checks)
	// 16 rounds of durations from 1 to 200 ms: each histogram has some
	// spread of native buckets, as after minutes of loopback probes.
	for round := 0; round < 16; round++ {
		for i, c := range checks {
			m.Observe(benchResult(c, i*7+round*53))
		}
	}
	h := worker.MetricsHandler(reg)
	for _, format := range []struct{ name, accept, encoding string }{
		{"text", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", ""},
		{"protobuf", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", ""},
		{"text-gzip", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5", "gzip"},
		{"protobuf-gzip", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "gzip"},
	} {
		b.Run(format.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", format.accept)
			if format.encoding != "" {
				req.Header.Set("Accept-Encoding", format.encoding)
			}
			b.ReportAllocs()
			var size int
			var cpu time.Duration
			for b.Loop() {
				// Two collections between scrapes, as a running worker
				// makes in 15 s: the handler's pooled buffers are gone,
				// and each scrape allocates them again (the worst case
				// is the everyday one). Neither is timed or counted.
				b.StopTimer()
				runtime.GC()
				runtime.GC()
				b.StartTimer()
				cpu0 := cpuTime()
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, req)
				cpu += cpuTime() - cpu0
				size = w.n
			}
			b.ReportMetric(float64(size), "page-bytes")
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkWorkerHeap is the live heap of a worker with bench/worker.sh's
// 1,000 checks once its status history is full: metrics, status store and
// the buffers of a protobuf scrape, after 64 rounds of probes (16 minutes
// at 15 s) with every phase spread from 0.3 to 60 ms, scraped every round.
// It is measured after two GCs, so unlike RSS it does not depend on when
// the collector last ran: /metrics keeps its buffers in a sync.Pool, which
// the collector empties over two cycles, as it does between two scrapes of
// a running worker (it collects every few seconds). RSS is about one and a
// half times it and what is in flight (the worker's GOGC, 50) plus the
// binary's pages (about 21 MiB) and the runtime's (about 8).
// LLMPROBETEST_HEAPPROFILE=FILE writes the heap profile at the end.
func BenchmarkWorkerHeap(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		checks := benchChecks()
		reg, m := initMetrics(checks)
		pol := &worker.Politeness{Interval: 15 * time.Second}
		w := &worker.Fanout{Metrics: m, Status: worker.NewStatusStore("bench", checks, 60, nil, pol), Politeness: pol,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		h := worker.MetricsHandler(reg)
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
		r := rand.New(rand.NewPCG(1, 2))
		spread := func() time.Duration { return time.Duration(0.3e6 * math.Pow(200, r.Float64())) }
		for range 64 {
			for i, c := range checks {
				res := benchResult(c, i)
				res.Timings.Connect, res.Timings.TTFB, res.Timings.Transfer = spread(), spread(), spread()
				if c.Kind == probe.KindStream {
					res.Timings.TTFT = spread()
				}
				res.Timings.Total = res.Timings.Connect + res.Timings.TTFB + res.Timings.Transfer
				w.Record(c, res)
			}
			h.ServeHTTP(&discard{h: http.Header{}}, req)
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "heap-MiB")
		if f := os.Getenv("LLMPROBETEST_HEAPPROFILE"); f != "" {
			out, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(out); err != nil {
				b.Fatal(err)
			}
			out.Close()
		}
		runtime.KeepAlive(w)
		runtime.KeepAlive(h)
	}
}
