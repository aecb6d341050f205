package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// runDemo is `llmprobe demo`. With --serve it only serves the providertest
// fakes (two simulated edges and a fault-injection API), for the compose
// stack, benchmarks and end-to-end tests.
func runDemo(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serve := fs.Bool("serve", false, "serve the fake providers only, until interrupted")
	cfListen := fs.String("cloudflare-listen", "127.0.0.1:8081", "address of the simulated Cloudflare edge (openai, anthropic and the other OpenAI-compatible ids)")
	gfeListen := fs.String("google-listen", "127.0.0.1:8082", "address of the simulated Google Front End (gemini)")
	adminListen := fs.String("admin-listen", "127.0.0.1:8080", "address of the fault-injection API")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a CA made at start")
	caOut := fs.String("ca-out", "", "with --tls, write the CA certificate (PEM) to this file")
	key := fs.String("key", "demo-key", "the API key the fake origins accept")
	hosts := fs.String("hosts", "", "extra comma-separated host names for the TLS certificate (e.g. compose service names)")
	var sf scenarioFlags
	fs.StringVar(&sf.names, "scenario", "all", "scenarios to play, comma-separated, or all (see --list-scenarios)")
	list := fs.Bool("list-scenarios", false, "list the scenarios and exit")
	fs.Float64Var(&sf.speed, "speed", 30, "how much faster than real time incidents replay (30: an incident minute takes 2 s)")
	fs.DurationVar(&sf.interval, "interval", time.Second, "probe interval of the demo workers")
	fs.StringVar(&sf.listen, "listen", "127.0.0.1:9469", "address of the first region's worker; the others take the next ports (port 0: any free port)")
	fs.BoolVar(&sf.exit, "exit", false, "exit when the scenarios end instead of serving until interrupted")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: llmprobe demo [--scenario NAME] [--list-scenarios] [--serve]\n\nReplays scripted incidents against fake providers on loopback, with a worker per region,\nand prints what the probes concluded. Offline: nothing leaves 127.0.0.1.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		for _, sc := range scenarios() {
			fmt.Fprintf(stdout, "%-20s %s\n%-20s %s\n", sc.name, sc.title, "", sc.summary)
		}
		return nil
	}
	if !*serve {
		return runScenarios(ctx, sf, stdout, stderr)
	}
	if *caOut != "" && !*useTLS {
		return usagef("--ca-out needs --tls")
	}
	var extra []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			extra = append(extra, h)
		}
	}
	start := func(edge providertest.Edge, addr string) (*providertest.Server, error) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("--%s-listen: %v", edge, err)
		}
		// providertest panics when it cannot listen, as httptest does; try
		// the address first so a taken port is a usage error.
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("--%s-listen: %v", edge, err)
		}
		l.Close()
		opts := providertest.Options{Edge: edge, APIKey: *key, Addr: addr, Hosts: extra}
		s := providertest.NewUnstartedServer(opts)
		if *useTLS {
			s.StartTLS()
		} else {
			s.Start()
		}
		return s, nil
	}
	cf, err := start(providertest.EdgeCloudflare, *cfListen)
	if err != nil {
		return usageError{err}
	}
	defer cf.Close()
	gfe, err := start(providertest.EdgeGoogle, *gfeListen)
	if err != nil {
		return usageError{err}
	}
	defer gfe.Close()
	if *caOut != "" {
		if err := os.WriteFile(*caOut, cf.CACertPEM(), 0o644); err != nil {
			return usagef("--ca-out: %v", err)
		}
	}
	edges := map[string]*providertest.Server{"gemini": gfe}
	edgeFor := func(provider string) *providertest.Server {
		if s, ok := edges[provider]; ok {
			return s
		}
		return cf
	}
	ln, err := net.Listen("tcp", *adminListen)
	if err != nil {
		return usagef("--admin-listen: %v", err)
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

func faultNames() string {
	var names []string
	for _, k := range providertest.FaultKinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// faultAPI serves POST /faults?provider=&kind=&for=&n=&delay=&format=&scope= and
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
