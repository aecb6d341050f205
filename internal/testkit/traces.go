package testkit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TraceCollector is an OTLP/HTTP trace endpoint on loopback that accepts
// every export, closed when the test ends: a worker whose
// OTEL_EXPORTER_OTLP_ENDPOINT is its URL traces its probes, and so puts
// their trace IDs on its histograms' exemplars.
func TraceCollector(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf") // an empty export response
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

var reTraceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// CheckTraceExemplars waits (a minute at most) for exemplars of the series
// selector matches, then checks that every one carries a trace ID (32 hex
// digits) under label.
func (p *Prometheus) CheckTraceExemplars(t testing.TB, selector, label string) {
	t.Helper()
	Eventually(t, "exemplars of "+selector, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := p.api.QueryExemplars(ctx, selector, time.Now().Add(-time.Hour), time.Now())
		if err != nil {
			t.Fatalf("query exemplars of %s: %v", selector, err)
		}
		n := 0
		for _, s := range res {
			n += len(s.Exemplars)
			for _, e := range s.Exemplars {
				if id := string(e.Labels[model.LabelName(label)]); !reTraceID.MatchString(id) {
					t.Errorf("exemplar of %v has %s=%q, want a trace ID", s.SeriesLabels, label, id)
				}
			}
		}
		return n > 0
	})
}
