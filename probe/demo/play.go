package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// Options are `llmprobe demo`'s settings.
type Options struct {
	Scenarios string        // comma-separated names, or "all" or ""
	Speed     float64       // how much faster than real time incidents replay
	Interval  time.Duration // probe interval of the demo's workers
	Listen    string        // the first region's worker; the others take the next ports (port 0: any free port)
	Exit      bool          // return when the scenarios end instead of serving until ctx is done
}

// ErrWrongVerdict says a scenario ended with a verdict the probes got wrong.
var ErrWrongVerdict = errors.New("a scenario ended with a wrong verdict")

// demoKey is the key the demo's fake origins accept.
const demoKey = "demo-key"

// demoEnv is the demo's world: two fake edges, one worker per region, and
// each region's network path to the edges as forwarders it can cut.
type demoEnv struct {
	cf, gfe *providertest.Server
	control *http.Server
	fwd     map[string]map[string]*forwarder // region -> cloudflare|google|control -> path
	workers map[string]string                // region -> worker URL
}

func (e *demoEnv) edge(provider string) *providertest.Server {
	for _, p := range demoProviders {
		if p.id == provider && p.edge == providertest.EdgeGoogle {
			return e.gfe
		}
	}
	return e.cf
}

func (e *demoEnv) inject(provider string, f providertest.Fault) { e.edge(provider).Inject(provider, f) }

func (e *demoEnv) clear() {
	e.cf.Clear()
	e.gfe.Clear()
	for r := range e.fwd {
		e.regionUp(r)
	}
}

func (e *demoEnv) regionDown(region string) {
	for _, f := range e.fwd[region] {
		f.down()
	}
}

func (e *demoEnv) regionUp(region string) {
	for _, f := range e.fwd[region] {
		_ = f.up()
	}
}

func (e *demoEnv) close() {
	for _, m := range e.fwd {
		for _, f := range m {
			f.close()
		}
	}
	e.cf.Close()
	e.gfe.Close()
	if e.control != nil {
		e.control.Close()
	}
}

// pickScenarios resolves --scenario.
func pickScenarios(names string) ([]scenario, error) {
	all := scenarios()
	if names == "" || names == "all" {
		return all, nil
	}
	var out []scenario
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, sc := range all {
			if sc.name == n {
				out, found = append(out, sc), true
			}
		}
		if !found {
			var valid []string
			for _, sc := range all {
				valid = append(valid, sc.name)
			}
			return nil, fmt.Errorf("--scenario: unknown scenario %q (valid: %s)", n, strings.Join(valid, ", "))
		}
	}
	return out, nil
}

// Run starts the fakes and a worker per region, plays the scenarios and
// reports whether the probes blamed the right layer: ErrWrongVerdict when
// they did not. Bad options are a *worker.ConfigError.
func Run(ctx context.Context, f Options, stdout, stderr io.Writer) error {
	list, err := pickScenarios(f.Scenarios)
	if err != nil {
		return &worker.ConfigError{Err: err}
	}
	if !(f.Speed > 0 && f.Speed <= 10000) {
		return configErrorf("--speed: %v is outside (0, 10000]", f.Speed)
	}
	if f.Interval < 100*time.Millisecond || f.Interval > time.Hour {
		return configErrorf("--interval: %s is outside 100ms to 1h", f.Interval)
	}
	host, portText, err := net.SplitHostPort(f.Listen)
	if err != nil {
		return configErrorf("--listen: %v", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return configErrorf("--listen: port %q is not a number", portText)
	}

	e := &demoEnv{fwd: map[string]map[string]*forwarder{}, workers: map[string]string{}}
	e.cf = providertest.NewServer(providertest.Options{Edge: providertest.EdgeCloudflare, APIKey: demoKey})
	e.gfe = providertest.NewServer(providertest.Options{Edge: providertest.EdgeGoogle, APIKey: demoKey})
	controlLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.control = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })}
	go e.control.Serve(controlLn)
	defer e.close()

	workCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	g, gctx := errgroup.WithContext(workCtx)
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	for i, region := range demoRegions {
		paths := map[string]*forwarder{}
		for name, target := range map[string]string{"cloudflare": hostPort(e.cf.URL()), "google": hostPort(e.gfe.URL()), "control": controlLn.Addr().String()} {
			fw, err := newForwarder(target)
			if err != nil {
				return err
			}
			paths[name] = fw
		}
		e.fwd[region] = paths
		addr := net.JoinHostPort(host, strconv.Itoa(port+i))
		if port == 0 {
			addr = net.JoinHostPort(host, "0")
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return configErrorf("--listen: %v", err)
		}
		e.workers[region] = "http://" + ln.Addr().String()
		targets, err := worker.ParseControlTargets("local=http://" + paths["control"].addr + "/")
		if err != nil {
			return err
		}
		cfg := worker.Settings{Region: region, Interval: f.Interval, Timeout: demoProbeTimeout, Concurrency: 64, History: 60,
			ControlTargets: targets, ShutdownTimeout: 5 * time.Second}
		var checks []probe.Check
		for _, dp := range demoProviders {
			p, _ := probe.LookupProvider(dp.id)
			edge := e.cf
			path := paths["cloudflare"]
			if dp.edge == providertest.EdgeGoogle {
				edge, path = e.gfe, paths["google"]
			}
			base := "http://" + path.addr + strings.TrimPrefix(edge.BaseURL(dp.id), edge.URL())
			for _, kind := range probe.Kinds {
				c := probe.Check{Provider: p, Kind: kind, BaseURL: base, APIKey: demoKey, Region: region, Timeout: cfg.Timeout}
				if kind != probe.KindReach {
					c.Model = p.DefaultModel
				}
				checks = append(checks, c)
			}
		}
		g.Go(func() error {
			return worker.Run(gctx, cfg, worker.Options{Checks: checks, Logger: logger, Listener: ln})
		})
	}

	fmt.Fprintf(stdout, "llmprobe demo: fake OpenAI and Anthropic behind a simulated Cloudflare edge, Gemini behind Google's front end,\n")
	fmt.Fprintf(stdout, "a worker in each of %d regions probing every %s; one incident minute replays in %s.\n\nWhere to look:\n", len(demoRegions), f.Interval, scaled(time.Minute, f.Speed, 0))
	for _, r := range demoRegions {
		fmt.Fprintf(stdout, "  %-9s status page %s/   metrics %s/metrics   JSON %s/api/status\n", r, e.workers[r], e.workers[r], e.workers[r])
	}
	fmt.Fprintln(stdout)

	failed := 0
	for _, sc := range list {
		ok, err := playScenario(ctx, e, sc, f, stdout)
		if err != nil {
			return err
		}
		if !ok {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d scenarios ended with a wrong verdict\n", failed, len(list))
	} else {
		fmt.Fprintf(stdout, "all %d scenarios: the probes blamed the right layer in every phase\n", len(list))
	}
	if !f.Exit && ctx.Err() == nil {
		fmt.Fprintln(stdout, "the workers keep probing the healthy fakes; press Ctrl-C to stop")
		<-ctx.Done()
	}
	stopWorkers()
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if failed > 0 {
		return ErrWrongVerdict
	}
	return nil
}

func hostPort(u string) string {
	return strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
}

// demoProbeTimeout bounds one probe of the demo's workers. No scenario
// waits for a timeout (faults answer at once, a cut link refuses), so it
// is roomy and independent of the compressed interval: a probe a loaded
// machine slows down is still a probe of what the scenario does, never a
// timeout it did not script. A probe that overruns its slot skips the
// next one (the scheduler never overlaps a check with itself).
const demoProbeTimeout = 30 * time.Second

// scaled turns incident time into replay time, never shorter than min.
func scaled(d time.Duration, speed float64, min time.Duration) time.Duration {
	return max(time.Duration(float64(d)/speed), min)
}

// playScenario replays one scenario and checks each phase's expectations
// against the workers' /api/status at the end of the phase.
func playScenario(ctx context.Context, e *demoEnv, sc scenario, f Options, w io.Writer) (bool, error) {
	fmt.Fprintf(w, "== %s: %s\n   %s\n", sc.name, sc.title, sc.summary)
	ok := true
	var at time.Duration
	for i, ph := range sc.phases {
		fmt.Fprintf(w, "[t+%s] %s\n", clockText(at), ph.say)
		ph.apply(e)
		// long enough for every check to probe a few times, back-offs included
		real := scaled(ph.length, f.Speed, 8*f.Interval)
		end := time.Now().Add(real)
		tick := time.NewTicker(max(real/3, f.Interval))
		for time.Now().Before(end) {
			select {
			case <-ctx.Done():
				tick.Stop()
				return ok, nil
			case <-tick.C:
				fmt.Fprintf(w, "   %s\n", liveLine(e))
			case <-time.After(time.Until(end)):
			}
		}
		tick.Stop()
		phaseOK := checkPhase(e, ph, end.Add(-real/2), w)
		ok = ok && phaseOK
		at += ph.length
		if i == len(sc.phases)-1 {
			break
		}
	}
	verdict := "blame correct in every phase"
	if !ok {
		verdict = "WRONG verdict in some phase (see ✗ above)"
	}
	fmt.Fprintf(w, "== %s: %s\n\n", sc.name, verdict)
	e.clear()
	return ok, nil
}

func clockText(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// statusOf reads a worker's /api/status.
func statusOf(url string) (worker.StatusReport, error) {
	var rep worker.StatusReport
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url + "/api/status")
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	return rep, json.NewDecoder(resp.Body).Decode(&rep)
}

// liveLine is one compact line: per provider, the chat check's state from
// each region (✓ success, E edge, O origin, N network, P probe).
func liveLine(e *demoEnv) string {
	reps := map[string]worker.StatusReport{}
	for _, r := range demoRegions {
		rep, _ := statusOf(e.workers[r])
		reps[r] = rep
	}
	var parts []string
	for _, dp := range demoProviders {
		marks := ""
		for _, r := range demoRegions {
			m := "·"
			for _, c := range reps[r].Checks {
				if c.Provider == dp.id && c.Check == probe.KindChat {
					m = c.State.Style().Symbol
				}
			}
			marks += m
		}
		parts = append(parts, fmt.Sprintf("%-9s %s", dp.id, marks))
	}
	return strings.Join(parts, "   ") + "   (regions " + strings.Join(demoRegions, ", ") + "; ✓ ok E edge O origin N network P probe)"
}

// verdictSince is what a check concluded over the second half of a phase:
// the most frequent outcome and reason of its probes since then (a lone
// timeout on a loaded machine does not flip it), else its last state.
func verdictSince(c worker.CheckReport, since time.Time) (probe.Outcome, probe.Reason) {
	type pair struct {
		o probe.Outcome
		r probe.Reason
	}
	counts := map[pair]int{}
	var best pair
	for _, s := range c.Recent {
		if s.At.Before(since) {
			continue
		}
		p := pair{s.Outcome, s.Reason}
		counts[p]++
		if counts[p] > counts[best] {
			best = p
		}
	}
	if counts[best] == 0 {
		return c.State, c.Reason
	}
	return best.o, best.r
}

// checkPhase prints what the probes concluded for each expectation and
// whether it is what the scenario says.
func checkPhase(e *demoEnv, ph phase, since time.Time, w io.Writer) bool {
	reps := map[string]worker.StatusReport{}
	for _, r := range demoRegions {
		rep, err := statusOf(e.workers[r])
		if err != nil {
			fmt.Fprintf(w, "   ✗ %s: /api/status: %v\n", r, err)
			return false
		}
		reps[r] = rep
	}
	ok := true
	for _, x := range ph.expect {
		regions := x.regions
		if len(regions) == 0 {
			regions = demoRegions
		}
		var wrong []string
		edges := map[string]bool{}
		for _, r := range regions {
			for _, kind := range x.kinds {
				for _, c := range reps[r].Checks {
					if c.Provider != x.provider || c.Check != kind {
						continue
					}
					if c.Edge != "" && c.Edge != probe.EdgeNone {
						edges[c.Edge] = true
					}
					o, reason := verdictSince(c, since)
					if o != x.outcome || x.reason != "" && reason != x.reason {
						wrong = append(wrong, fmt.Sprintf("%s %s from %s was %s/%s", x.provider, kind, r, dash(string(o)), dash(string(reason))))
					}
				}
			}
		}
		want := string(x.outcome)
		if x.reason != "" {
			want += "/" + string(x.reason)
		}
		via := ""
		if x.outcome != probe.OutcomeSuccess && x.outcome != probe.OutcomeNetworkError && len(edges) > 0 {
			for e := range edges {
				via = " via " + e
			}
		}
		kinds := make([]string, len(x.kinds))
		for i, k := range x.kinds {
			kinds[i] = string(k)
		}
		if len(wrong) == 0 {
			fmt.Fprintf(w, "   ✓ %s %s: %s%s from %s\n", x.provider, strings.Join(kinds, "+"), want, via, strings.Join(regions, ", "))
		} else {
			ok = false
			fmt.Fprintf(w, "   ✗ %s %s: want %s from %s; %s\n", x.provider, strings.Join(kinds, "+"), want, strings.Join(regions, ", "), strings.Join(wrong, "; "))
		}
	}
	return ok
}

// dash is s, or "-" when s is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
