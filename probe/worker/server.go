package worker

import (
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
// rendering of 1,000 checks costs most of a second of CPU, and clients
// asking for one after another would otherwise starve the probes. Two is
// a pair of Prometheus servers scraping together; more get 503 at once.
const maxScrapesInFlight = 2

// metricsHandlerOpts are /metrics' options: OpenMetrics (for exemplars),
// concurrent scrapes sharing one gathering, and at most
// maxScrapesInFlight at once.
func metricsHandlerOpts(reg prometheus.Registerer) promhttp.HandlerOpts {
	return promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: reg, CoalesceGather: true, MaxRequestsInFlight: maxScrapesInFlight}
}

// MetricsHandler serves reg at /metrics as the worker does: its
// transactional gatherer (messages reused between scrapes, released when
// the page is written) with metricsHandlerOpts.
func MetricsHandler(reg *Registry) http.Handler {
	return promhttp.HandlerForTransactional(reg.TransactionalGatherer(), metricsHandlerOpts(reg))
}
