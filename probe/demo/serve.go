package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// ServeOptions are `llmprobe demo --serve`'s settings.
type ServeOptions struct {
	CloudflareListen string   // the simulated Cloudflare edge (openai, anthropic, the other OpenAI-compatible ids)
	GoogleListen     string   // the simulated Google Front End (gemini)
	AdminListen      string   // the fault-injection API
	TLS              bool     // serve HTTPS with a CA made at start
	CAOut            string   // with TLS, write the CA certificate (PEM) here
	Key              string   // the API key the fake origins accept
	Hosts            []string // extra host names for the TLS certificate (compose service names)
}

// Serve serves only the providertest fakes, two simulated edges and a
// fault-injection API, until ctx is done: for the compose stack,
// benchmarks and end-to-end tests. Bad options are a *worker.ConfigError.
func Serve(ctx context.Context, o ServeOptions, stdout io.Writer) error {
	if o.CAOut != "" && !o.TLS {
		return configErrorf("--ca-out needs --tls")
	}
	start := func(edge providertest.Edge, addr string) (*providertest.Server, error) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, configErrorf("--%s-listen: %v", edge, err)
		}
		// providertest panics when it cannot listen, as httptest does; try
		// the address first so a taken port is a usage error.
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, configErrorf("--%s-listen: %v", edge, err)
		}
		l.Close()
		s := providertest.NewUnstartedServer(providertest.Options{Edge: edge, APIKey: o.Key, Addr: addr, Hosts: o.Hosts})
		if o.TLS {
			s.StartTLS()
		} else {
			s.Start()
		}
		return s, nil
	}
	cf, err := start(providertest.EdgeCloudflare, o.CloudflareListen)
	if err != nil {
		return err
	}
	defer cf.Close()
	gfe, err := start(providertest.EdgeGoogle, o.GoogleListen)
	if err != nil {
		return err
	}
	defer gfe.Close()
	if o.CAOut != "" {
		if err := os.WriteFile(o.CAOut, cf.CACertPEM(), 0o644); err != nil {
			return configErrorf("--ca-out: %v", err)
		}
	}
	edges := map[string]*providertest.Server{"gemini": gfe}
	edgeFor := func(provider string) *providertest.Server {
		if s, ok := edges[provider]; ok {
			return s
		}
		return cf
	}
	ln, err := net.Listen("tcp", o.AdminListen)
	if err != nil {
		return configErrorf("--admin-listen: %v", err)
	}
	admin := &http.Server{Handler: faultAPI(edgeFor, cf, gfe), ReadHeaderTimeout: 5 * time.Second}
	go admin.Serve(ln)
	defer admin.Close()

	fmt.Fprintf(stdout, "fake providers serving; point workers at them with:\n")
	var lines []string
	for _, id := range probe.ProviderIDs() {
		if id == "azure" {
			continue
		}
		lines = append(lines, fmt.Sprintf("  %s=%s", probe.EnvName(id, "BASE_URL"), edgeFor(id).BaseURL(id)))
	}
	sort.Strings(lines)
	fmt.Fprintln(stdout, strings.Join(lines, "\n"))
	fmt.Fprintf(stdout, "fault injection: curl -X POST 'http://%s/faults?provider=openai&kind=cf_520&for=60s' (kinds: %s)\n", ln.Addr(), faultNames())
	<-ctx.Done()
	return nil
}

// configErrorf is a bad demo option: `llmprobe` exits 2 on it, as on a bad
// worker setting.
func configErrorf(format string, args ...any) error {
	return &worker.ConfigError{Err: fmt.Errorf(format, args...)}
}

func faultNames() string {
	var names []string
	for _, k := range providertest.FaultKinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// faultAPI serves POST /faults?provider=&kind=&for=&n=&delay=&format=&scope=&share= and
// DELETE /faults on the fake edges.
func faultAPI(edgeFor func(string) *providertest.Server, all ...*providertest.Server) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		kind, err := providertest.ParseFault(q.Get("kind"))
		if err != nil {
			http.Error(w, "kind: "+err.Error(), http.StatusBadRequest)
			return
		}
		f := providertest.Fault{Kind: kind}
		if v := q.Get("delay"); v != "" {
			if f.Delay, err = time.ParseDuration(v); err != nil {
				http.Error(w, "delay: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if v := q.Get("format"); v != "" {
			if f.Format, err = providertest.ParseFormat(v); err != nil {
				http.Error(w, "format: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if v := q.Get("share"); v != "" {
			if f.Share, err = strconv.ParseFloat(v, 64); err != nil || f.Share <= 0 || f.Share > 1 {
				http.Error(w, "share: not a fraction in (0, 1]", http.StatusBadRequest)
				return
			}
		}
		if f.Scope, err = providertest.ParseScope(q.Get("scope")); err != nil {
			http.Error(w, "scope: "+err.Error(), http.StatusBadRequest)
			return
		}
		provider := q.Get("provider")
		targets := all
		if provider != "" {
			targets = []*providertest.Server{edgeFor(provider)}
		}
		for _, s := range targets {
			switch {
			case q.Get("for") != "":
				d, err := time.ParseDuration(q.Get("for"))
				if err != nil || d <= 0 {
					http.Error(w, "for: not a positive duration", http.StatusBadRequest)
					return
				}
				s.InjectFor(provider, f, d)
			case q.Get("n") != "":
				var n int
				if _, err := fmt.Sscan(q.Get("n"), &n); err != nil || n <= 0 {
					http.Error(w, "n: not a positive count", http.StatusBadRequest)
					return
				}
				s.InjectN(provider, f, n)
			default:
				s.Inject(provider, f)
			}
		}
		fmt.Fprintf(w, "injected %s for provider %q\n", f, provider)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		for _, s := range all {
			s.Clear()
		}
		io.WriteString(w, "cleared\n")
	})
	return mux
}
