package worker_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/llmprobe/llmprobe/probe/worker"
)

// TestMetricsAreGzippedWhenTheScraperAcceptsGzip: /metrics is gzipped for
// a client that accepts gzip (as Prometheus does), plain otherwise, and the
// gzipped page is the plain one.
func TestMetricsAreGzippedWhenTheScraperAcceptsGzip(t *testing.T) {
	checks := benchChecks()[:30]
	reg, m := initMetrics(checks)
	for i, c := range checks {
		m.Observe(benchResult(c, i))
	}
	h := worker.MetricsHandler(reg)
	get := func(acceptEncoding string) (body []byte, encoding string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: status %d", acceptEncoding, rec.Code)
		}
		if v := rec.Header().Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q, want Accept-Encoding", acceptEncoding, v)
		}
		return rec.Body.Bytes(), rec.Header().Get("Content-Encoding")
	}
	plain, enc := get("")
	if enc != "" || !bytes.Contains(plain, []byte("llmprobe_probes_total{")) {
		t.Fatalf("no Accept-Encoding: Content-Encoding %q, page of %d bytes without llmprobe_probes_total", enc, len(plain))
	}
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"GZIP ; q=0.5, identity", true},
		{"deflate, *", true},
		{"identity", false},
		{"gzip;q=0", false},
		{"gzip;q=0, *", false},
		{"br, *;q=0", false},
	} {
		body, enc := get(tc.accept)
		if got := enc == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want gzip %v", tc.accept, enc, tc.gzip)
			continue
		}
		if tc.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: %v", tc.accept, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("Accept-Encoding %q: %v", tc.accept, err)
			}
		}
		if !bytes.Equal(body, plain) {
			t.Errorf("Accept-Encoding %q: the page (%d bytes) is not the plain one (%d bytes)", tc.accept, len(body), len(plain))
		}
	}
}
