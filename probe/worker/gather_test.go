package worker_test

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// The worker's Registry gathers the per-check series itself; what it
// returns must be what client_golang's Registry returns for the same
// metrics: the same families, series, values and order.
func TestWorkerRegistryGathersWhatClientGolangGathers(t *testing.T) {
	plain := prometheus.NewRegistry()
	own := worker.NewRegistry()
	metrics := []*worker.Metrics{worker.NewMetrics(plain), worker.NewMetrics(own)}
	checks := benchChecks()[:30]
	results := make([]probe.Result, len(checks))
	for i, c := range checks {
		r := benchResult(c, i)
		if i%4 == 1 {
			r.Outcome, r.Reason, r.StatusCode = probe.OutcomeOriginError, probe.ReasonOverloaded, 529
		}
		rl := float64(i)
		r.RateLimit.Requests = &rl
		r.EdgeOverhead = time.Millisecond
		results[i] = r
	}
	for _, m := range metrics {
		m.NetworkControl = true
		for _, c := range checks {
			m.InitCheck(c)
		}
		for i, c := range checks {
			r := results[i]
			m.Observe(r)
			m.Skipped(c, probe.SkipReasonBackoff)
			m.SetBackoff(c, time.Duration(i)*time.Second)
			if i%5 == 0 {
				m.Unmeasured(r)
			}
		}
	}
	text := func(mfs []*dto.MetricFamily) string {
		var b bytes.Buffer
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	want, err := plain.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := own.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if g, w := text(got), text(want); g != w {
		t.Fatalf("Gather differs from client_golang's:\n%s", firstDiff(g, w))
	}
}

// /metrics writes the per-check families one at a time into reused
// messages; what it serves must be what promhttp serves from the same
// registry's Gather, byte for byte, in every format a scraper may ask for,
// and on every scrape, not only the first.
func TestMetricsHandlerServesWhatPromhttpServes(t *testing.T) {
	checks := benchChecks()[:40]
	reg, m := initMetrics(checks)
	// Several probes per check, spread from 1 to 200 ms, some with a trace
	// (exemplars) and some failed: histograms with several native spans,
	// families of different sizes sharing the handler's reused messages.
	for i, c := range checks {
		for k := range 6 {
			r := benchResult(c, i*7+k*41)
			if k%2 == 0 {
				r.TraceID = fmt.Sprintf("%032x", i*10+k)
			}
			if k == 5 && i%3 == 0 {
				r.Outcome, r.Reason, r.StatusCode = probe.OutcomeOriginError, probe.ReasonOverloaded, 529
			}
			m.Observe(r)
		}
	}
	// A check whose labels need escaping, gauges that format in their own
	// way, a counter past 2^53 and a negative duration.
	odd := benchResult(probe.Check{Provider: probe.Provider{ID: `we\ird"pro` + "\nvider"}, Kind: probe.KindChat, Model: "модель-ü", Region: "eu"}, 3)
	odd.TraceID = "0af7651916cd43dd8448eb211c80319c"
	nan, inf := math.NaN(), math.Inf(-1)
	odd.RateLimit.Requests, odd.RateLimit.Tokens = &nan, &inf
	odd.Tokens.Input = 1 << 60
	odd.Timings.Total = -time.Second
	m.Observe(odd)
	ours := worker.MetricsHandler(reg)
	ref := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: reg})
	serve := func(h http.Handler, target, accept string) (string, string) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s (Accept %q): status %d: %s", target, accept, rec.Code, rec.Body)
		}
		return rec.Header().Get("Content-Type"), rec.Body.String()
	}
	for _, tc := range []struct{ target, accept string }{
		{"/metrics", ""},
		{"/metrics", "text/plain;version=0.0.4"},
		{"/metrics", "application/openmetrics-text;version=1.0.0"},
		{"/metrics", "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"},
		{"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5"},
		{"/metrics", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8"},
		{"/metrics", "application/openmetrics-text;version=1.0.0;escaping=underscores"},
		{"/metrics", "application/openmetrics-text;version=0.0.1;escaping=dots"},
		{"/metrics", "application/openmetrics-text"},
		{"/metrics", "text/plain;version=0.0.4;escaping=values"},
		{"/metrics", "application/openmetrics-text;version=2.0.0"},
		{"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"},
		{"/metrics", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text"},
		{"/metrics?name[]=llmprobe_probes_total&name[]=llmprobe_phase_duration_seconds", ""},
		{"/metrics?name[]=llmprobe_probes_total&name[]=llmprobe_phase_duration_seconds", "application/openmetrics-text;version=1.0.0"},
	} {
		wantType, want := serve(ref, tc.target, tc.accept)
		for i := range 2 {
			gotType, got := serve(ours, tc.target, tc.accept)
			if gotType != wantType {
				t.Errorf("%s (Accept %q): Content-Type %q, promhttp's %q", tc.target, tc.accept, gotType, wantType)
			}
			if got != want {
				t.Fatalf("%s (Accept %q), scrape %d: %d bytes differ from promhttp's %d:\n%s", tc.target, tc.accept, i+1, len(got), len(want), firstDiff(got, want))
			}
		}
		if len(want) < 10_000 && tc.target == "/metrics" {
			t.Fatalf("Accept %q: a %d-byte page for 40 checks", tc.accept, len(want))
		}
	}
}

func firstDiff(got, want string) string {
	g, w := bytes.Split([]byte(got), []byte("\n")), bytes.Split([]byte(want), []byte("\n"))
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d: got  %s\n        want %s", i+1, g[i], w[i])
		}
	}
	return "one is a prefix of the other"
}

// blockingWriter is a scraper that stops reading: its first Write signals
// and then waits for release.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writing chan<- struct{}
	release <-chan struct{}
	once    sync.Once
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() {
		b.writing <- struct{}{}
		<-b.release
	})
	return b.ResponseRecorder.Write(p)
}

// Two scrapes are served at once; a third, while both are being written,
// is refused with 503 at once, and served once one of them is done.
func TestMetricsHandlerServesTwoScrapesAtOnce(t *testing.T) {
	reg, _ := initMetrics(benchChecks()[:10])
	h := worker.MetricsHandler(reg)
	writing, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			w := &blockingWriter{ResponseRecorder: httptest.NewRecorder(), writing: writing, release: release}
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		})
	}
	<-writing
	<-writing
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Limit of concurrent requests reached (2)") {
		t.Fatalf("a third scrape while two are written: %d %q, want 503 and the limit", rec.Code, rec.Body)
	}
	close(release)
	wg.Wait()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), probe.MetricProbesTotal) {
		t.Fatalf("a scrape after the two: %d, want 200 and the page", rec.Code)
	}
}

// A family registered on the embedded registry under a per-check family's
// name is a bug: Gather says so, as client_golang's Registry says so of
// two collectors with one name, and serves the family once; /metrics
// counts it in promhttp_metric_handler_errors_total{cause="gathering"}.
func TestRegistryReportsAPerCheckFamilyRegisteredTwice(t *testing.T) {
	reg, _ := initMetrics(benchChecks()[:3])
	dup := prometheus.NewCounter(prometheus.CounterOpts{Name: probe.MetricProbesTotal, Help: "registered twice"})
	reg.MustRegister(dup)
	mfs, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), probe.MetricProbesTotal+" registered twice") {
		t.Fatalf("Gather with %s registered twice: error %v", probe.MetricProbesTotal, err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() == probe.MetricProbesTotal {
			n++
			if mf.GetHelp() != "registered twice" {
				t.Fatalf("served the per-check family, want the registry's: %q", mf.GetHelp())
			}
		}
	}
	if n != 1 {
		t.Fatalf("%s served %d times, want once", probe.MetricProbesTotal, n)
	}
	h := worker.MetricsHandler(reg)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/metrics", nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// The first scrape's error is counted after its page: the second shows it.
	if !strings.Contains(rec.Body.String(), `promhttp_metric_handler_errors_total{cause="gathering"} 1`) {
		t.Fatalf("a second scrape with a family registered twice: the first's gathering error not counted:\n%s", grepLines(rec.Body.String(), "promhttp_metric_handler_errors_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
