package worker

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/net/netutil"
)

// The worker's HTTP server answers whoever reaches its port. Clients that
// send a request slowly, never send its body, never read the answer or
// keep idle connections open must not hold goroutines and file
// descriptors without end: a thousand of them would take the descriptors
// the probes need, and every probe would fail as if the network were down.
// So every phase of a connection has a deadline, and only so many
// connections are served at once (LLMPROBE_MAX_CONNECTIONS); the rest wait
// in the kernel's accept queue, holding no descriptor of this process.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 15 * time.Second // the whole request; the worker's requests carry no body
	serverWriteTimeout      = time.Minute      // /metrics of 1,000 checks is ~15 MiB
	serverIdleTimeout       = time.Minute
	serverMaxHeaderBytes    = 16 << 10
	defaultMaxConnections   = 256
)

// newServer is the worker's HTTP server with every phase bounded.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
		MaxHeaderBytes:    serverMaxHeaderBytes,
		// Clients that time out or hang up are the server's everyday
		// business, not the worker's log's.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}

// limitConnections serves at most max connections of ln at once (0: the
// default).
func limitConnections(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		max = defaultMaxConnections
	}
	return netutil.LimitListener(ln, max)
}

// maxScrapesInFlight bounds the /metrics requests served at once: a
// rendering of 1,000 checks costs most of a tenth of a second of CPU, and
// clients asking for one after another would otherwise starve the probes.
// Two is a pair of Prometheus servers scraping together; more get 503 at
// once.
const maxScrapesInFlight = 2

// MetricsHandler serves reg at /metrics: what promhttp.HandlerFor(reg,
// HandlerOpts{EnableOpenMetrics: true, Registry: reg,
// MaxRequestsInFlight: maxScrapesInFlight}) serves, byte for byte (the
// tests compare), with three differences in how:
//
//   - The per-check families are written and encoded one at a time, in
//     messages reused from one family to the next (Registry.each), where
//     promhttp needs every family's messages at once: about 41,000
//     messages for 1,000 checks (32,332 of them llmprobe_probes_total's).
//     Between scrapes the messages sit in a sync.Pool, so the collector
//     frees them rather than the worker keeping them.
//
//   - It gzips at gzip.BestSpeed when the scraper accepts gzip. promhttp
//     compresses at gzip's default level: on 1,000 checks' page (13 MB of
//     text, 7 MB of protobuf) that was an eighth of the worker's CPU
//     (bench/README.md). BestSpeed takes about half as long for a page
//     about 15 % larger, and a scrape travels a LAN or loopback.
//
//   - In the protobuf and text formats (text 0.0.4, OpenMetrics 0.0.1
//     and 1.0.0), the per-check families are encoded from the series
//     themselves, without messages (protobuf.go, text.go): a scrape of
//     1,000 checks then allocates 1.3 MiB (protobuf) or 0.3 MiB (text),
//     was 21 and 19 MiB, and takes a quarter to a third of the CPU. The
//     messages above serve only the formats left (OpenMetrics 2.0, the
//     protobuf text formats) and families an escaping scheme would rename.
//
// Format negotiation and every other encoding are client_golang's and
// prometheus/common's (expfmt), as in promhttp; so are the handler's
// promhttp_metric_handler_errors_total and the name[] filter.
func MetricsHandler(reg *Registry) http.Handler {
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "promhttp_metric_handler_errors_total",
		Help: "Total number of internal errors encountered by the promhttp metric handler.",
	}, []string{"cause"})
	errs.WithLabelValues("gathering")
	errs.WithLabelValues("encoding")
	if err := reg.Register(errs); err != nil {
		are := &prometheus.AlreadyRegisteredError{}
		if !errors.As(err, are) {
			panic(err)
		}
		errs = are.ExistingCollector.(*prometheus.CounterVec)
	}
	inFlight := make(chan struct{}, maxScrapesInFlight)
	buffers := sync.Pool{New: func() any { return &familyBuffer{} }}
	// The largest protobuf family built whole so far (a histogram family:
	// counters and gauges are streamed): a scrape whose pooled buffer the
	// collector took allocates one of that size and an eighth (its counts
	// grow), not a series of doublings.
	var protoSize atomic.Int64
	accepted := expfmt.DefaultOpenMetricsAcceptedFormats()
	return gzipped(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", maxScrapesInFlight), http.StatusServiceUnavailable)
			return
		}
		mfs, err := reg.Registry.Gather()
		if err != nil {
			errs.WithLabelValues("gathering").Inc()
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		var only map[string]bool
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			only = map[string]bool{}
			for _, n := range names {
				only[n] = true
			}
		}
		format := expfmt.NegotiateAccept(r.Header, accepted...)
		w.Header().Add("Vary", "Accept")
		w.Header().Set("Content-Type", string(format))
		enc := expfmt.NewEncoder(w, format)
		direct := format.FormatType() == expfmt.TypeProtoDelim
		buf := buffers.Get().(*familyBuffer)
		defer buffers.Put(buf)
		if c := int(protoSize.Load()); direct && cap(buf.proto) < c {
			buf.proto = make([]byte, 0, c+c/8) // at once, not by doubling
		}
		var encErr error
		if err := reg.each(mfs, func(mf *dto.MetricFamily, pc *perCheck) bool {
			name := mf.GetName()
			if pc != nil {
				name = pc.family.name
			}
			if only != nil && !only[name] {
				return true
			}
			if pc != nil {
				if direct && pc.family.protoEncodable(pc.entries) {
					encErr = pc.family.writeProto(w, pc.entries, buf)
					return encErr == nil
				}
				if pc.family.textEncodable(pc.entries, format) {
					encErr = pc.family.writeText(w, pc.entries, format, buf)
					return encErr == nil
				}
				mf = pc.write(buf)
			}
			encErr = enc.Encode(mf)
			return encErr == nil
		}); err != nil {
			errs.WithLabelValues("gathering").Inc() // a name collision: a bug, after the page's start
		}
		if direct && int64(buf.protoMax) > protoSize.Load() {
			protoSize.Store(int64(buf.protoMax))
		}
		if encErr == nil {
			if c, ok := enc.(expfmt.Closer); ok {
				encErr = c.Close() // OpenMetrics' final "# EOF"
			}
		}
		if encErr != nil {
			errs.WithLabelValues("encoding").Inc()
		}
	}))
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: never an error
	return w
}}

// gzipped serves h's response gzipped to a client that accepts gzip.
func gzipped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Values("Accept-Encoding")) {
			h.ServeHTTP(w, r)
			return
		}
		gz := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(gz)
		gz.Reset(w)
		w.Header().Set("Content-Encoding", "gzip")
		h.ServeHTTP(gzipResponse{w, gz}, r)
		_ = gz.Close() // the client hung up: nothing to tell it
	})
}

type gzipResponse struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (g gzipResponse) Write(p []byte) (int, error) { return g.gz.Write(p) }

// acceptsGzip reports whether Accept-Encoding values accept gzip: named
// with a weight above zero, or not named and * accepted.
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(coding, ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
