package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/ruleeval"
	"github.com/llmprobe/llmprobe/probe/worker"
	"github.com/llmprobe/llmprobe/slo"
)

// Options are `llmprobe demo`'s settings.
type Options struct {
	Scenarios string        // comma-separated names, or "all" or ""
	Speed     float64       // incident time per real time (60: an incident minute takes a second); 0 as fast as the machine goes
	Interval  time.Duration // probe interval of the demo's workers, in incident time
	Listen    string        // the first region's worker; the others take the next ports (port 0: any free port)
	Exit      bool          // return when the scenarios end instead of serving until ctx is done
	JSON      bool          // one JSON object per scenario on stdout instead of the narrative
}

// ErrWrongVerdict says a scenario ended with a verdict the probes got wrong,
// a page missing or naming the wrong layer, or a page nobody should get.
var ErrWrongVerdict = errors.New("a scenario ended with a wrong verdict or page")

// incidentEpoch is where incident time starts: 2026-04-20 13:00 UTC, an
// hour before the shared Cloudflare outage. Each scenario's time is
// printed from its own incident start.
var incidentEpoch = time.Date(2026, 4, 20, 13, 0, 0, 0, time.UTC)

// evalStep is the rule evaluator's step: every group interval is a multiple.
const evalStep = 15 * time.Second

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

// Run starts the fakes and a worker per region on an incident clock, and
// plays each scenario: its faults, the workers' probes, and the rules that
// `llmprobe generate` writes, evaluated on the workers' samples by
// Prometheus' engine after six hours of healthy history, with the generated
// Alertmanager configuration deciding which pages reach someone and when.
// It prints what the probes concluded and every page, ticket and
// inhibition as it happens, in incident time, and returns ErrWrongVerdict
// when a verdict or a page is not what the scenario says. Bad options are a
// *worker.ConfigError.
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	list, err := pickScenarios(o.Scenarios)
	if err != nil {
		return &worker.ConfigError{Err: err}
	}
	if !(o.Speed >= 0 && o.Speed <= 10000) { // NaN too
		return configErrorf("--speed: want 0 (as fast as the machine goes) to 10000, got %v", o.Speed)
	}
	if o.Interval < time.Second || o.Interval > 10*time.Minute || o.Interval%time.Second != 0 {
		return configErrorf("--interval: want whole seconds from 1s to 10m, got %s", o.Interval)
	}
	rules, err := newRules(o.Interval)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	e, err := newEnv(ctx, o.Listen, o.Interval, incidentEpoch, logger)
	if err != nil {
		return err
	}
	text := stdout
	if o.JSON {
		text = io.Discard
	}
	fmt.Fprintf(text, "llmprobe demo: in each of %d regions, fake OpenAI and Anthropic behind a simulated Cloudflare edge, Gemini behind Google's front end,\n", len(demoRegions))
	fmt.Fprintf(text, "and a worker probing every %s of incident time. The rules llmprobe generate writes run on their samples in incident time.\n\nWhere to look:\n", o.Interval)
	for _, r := range demoRegions {
		u := e.regions[r].url
		fmt.Fprintf(text, "  %-9s status page %s/   metrics %s/metrics   JSON %s/api/status\n", r, u, u, u)
	}
	fmt.Fprintln(text)

	p := &player{env: e, rules: rules, speed: o.Speed, out: text}
	failed := 0
	for _, sc := range list {
		res, err := p.play(ctx, sc)
		if err != nil {
			e.close()
			return err
		}
		if !res.VerdictsOK || !res.PagesOK {
			failed++
		}
		if o.JSON {
			if err := json.NewEncoder(stdout).Encode(res); err != nil {
				e.close()
				return err
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(text, "%d of %d scenarios ended with a wrong verdict or page\n", failed, len(list))
	} else {
		fmt.Fprintf(text, "all %d scenarios: the probes blamed the right layer in every phase, and the pages were the right ones\n", len(list))
	}
	if !o.Exit && ctx.Err() == nil {
		fmt.Fprintln(text, "the workers keep their status pages up (incident time stands still); press Ctrl-C to stop")
		<-ctx.Done()
	}
	if err := e.close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if failed > 0 {
		return ErrWrongVerdict
	}
	return nil
}

// demoRules are the generated rules and Alertmanager configuration for the
// demo's deployment: its regions and providers, its probe interval.
type demoRules struct {
	sli, alerts, alertmanager []byte
	interval                  time.Duration
}

func newRules(interval time.Duration) (demoRules, error) {
	spec := slo.DefaultSpec(slo.DefaultProfile())
	spec.ProbeInterval = slo.Duration(interval)
	spec.ScrapeInterval = slo.Duration(scrapeInterval)
	spec.RegionNames = demoRegions
	spec.Regions = len(demoRegions)
	// The fakes answer on loopback in a few milliseconds, not the hundreds
	// a real provider takes; a scripted 150 ms slowdown is the demo's
	// "slow", so the ticket's floor comes down with it.
	spec.Degraded.MinLatency = slo.Duration(100 * time.Millisecond)
	spec.Providers = nil
	for _, p := range demoProviders {
		spec.Providers = append(spec.Providers, p.id)
	}
	res, err := slo.Generate(spec, slo.DefaultProfile())
	if err != nil {
		return demoRules{}, err
	}
	r := demoRules{interval: interval}
	for _, f := range res.Files {
		switch f.Path {
		case slo.FileSLIRules:
			r.sli = f.Data
		case slo.FileAlertRules:
			r.alerts = f.Data
		case slo.FileAlertmanager:
			r.alertmanager = f.Data
		}
	}
	return r, nil
}

// player plays scenarios one after the other on the env's incident clock.
type player struct {
	env   *demoEnv
	rules demoRules
	speed float64
	out   io.Writer
	// paced is the real and incident time pacing last started from.
	pacedReal     time.Time
	pacedIncident time.Time
}

// run is one scenario being played.
type run struct {
	sc       scenario
	start    time.Time // the incident's start: the end of the healthy phase
	store    *ruleeval.Store
	eval     *ruleeval.Evaluator
	am       *alertmanagerSim
	targets  []*scrapeTarget
	next     time.Time // the next scrape or evaluation, across phases
	alerts   []*playedAlert
	byKey    map[string]*playedAlert
	problems []string
}

// playedAlert is an alert as the scenario saw it.
type playedAlert struct {
	labels    map[string]string
	firedAt   time.Time
	resolved  time.Time
	am        *amAlert
	summary   string
	delivered time.Time
}

func (p *player) play(ctx context.Context, sc scenario) (Result, error) {
	e := p.env
	// Start on a two-minute boundary, so every rule group's evaluations
	// fall on its interval, after a quiet minute for the previous
	// scenario's back-offs to end.
	e.clear()
	if err := p.advance(ctx, e.clock.Now().Add(time.Minute).Truncate(2*time.Minute).Add(2*time.Minute), nil); err != nil {
		return Result{}, err
	}
	t0 := e.clock.Now()
	r := &run{sc: sc, start: t0.Add(sc.phases[0].length), store: ruleeval.NewStore(), byKey: map[string]*playedAlert{}}
	var err error
	for _, name := range demoRegions {
		first, err := scrape(ctx, e.regions[name].url)
		if err != nil {
			return Result{}, err
		}
		st := &scrapeTarget{url: e.regions[name].url, offsets: history(r.store, first, t0, p.rules.interval)}
		r.targets = append(r.targets, st)
	}
	if r.eval, err = ruleeval.New(r.store, p.rules.sli, p.rules.alerts); err != nil {
		return Result{}, err
	}
	if r.am, err = newAlertmanagerSim(p.rules.alertmanager); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(p.out, "== %s: %s\n   %s\n", sc.name, sc.title, sc.summary)
	verdictsOK := true
	at := t0
	for _, ph := range sc.phases {
		fmt.Fprintf(p.out, "[%s] %s\n", clockText(at.Sub(r.start)), ph.say)
		ph.apply(e)
		end := at.Add(ph.length)
		if err := p.advance(ctx, end, r); err != nil {
			return Result{}, err
		}
		// The verdict is what the probes of the phase's second half said.
		verdictsOK = checkPhase(e, ph, at.Add(ph.length/2), p.out) && verdictsOK
		at = end
	}
	res := r.result(verdictsOK)
	p.printOutcome(res)
	return res, nil
}

// advance moves incident time to end: to each next probe, scrape and rule
// evaluation in turn, waiting at each for the woken goroutines to finish.
// With a run, it scrapes the workers every scrapeInterval and evaluates the
// rules every evalStep, then lets Alertmanager deliver.
func (p *player) advance(ctx context.Context, end time.Time, r *run) error {
	e := p.env
	now := e.clock.Now()
	nextScrape, nextEval := ceilTime(now, scrapeInterval), ceilTime(now, evalStep)
	if r != nil && r.next.After(now) {
		nextScrape, nextEval = r.next, r.next
	}
	lastLive := now
	for {
		t := end
		if wake, ok := e.clock.nextWake(); ok && wake.Before(t) {
			t = wake
		}
		if r != nil {
			t = minTime(t, nextScrape, nextEval)
		}
		if t.After(end) {
			t = end
		}
		p.pace(t)
		e.clock.advanceTo(t)
		if err := e.idle(); err != nil {
			return err
		}
		if r != nil && !t.Before(nextScrape) {
			for _, st := range r.targets {
				if err := st.scrapeInto(ctx, r.store, t); err != nil {
					return err
				}
			}
			nextScrape = nextScrape.Add(scrapeInterval)
		}
		if r != nil && !t.Before(nextEval) {
			if err := p.evaluate(ctx, r, t); err != nil {
				return err
			}
			nextEval = nextEval.Add(evalStep)
			if t.Sub(lastLive) >= 2*time.Minute {
				fmt.Fprintf(p.out, "   [%s] %s\n", clockText(t.Sub(r.start)), liveLine(e))
				lastLive = t
			}
		}
		if !t.Before(end) {
			if r != nil {
				r.next = minTime(nextScrape, nextEval)
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// ceilTime is the first multiple of step at or after t.
func ceilTime(t time.Time, step time.Duration) time.Time {
	u := t.Truncate(step)
	if u.Before(t) {
		u = u.Add(step)
	}
	return u
}

func minTime(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.Before(t) {
			t = u
		}
	}
	return t
}

// pace sleeps so that incident time moves at most speed times as fast as
// real time; speed 0 does not wait.
func (p *player) pace(t time.Time) {
	if p.speed <= 0 {
		return
	}
	if p.pacedReal.IsZero() {
		p.pacedReal, p.pacedIncident = time.Now(), t
		return
	}
	due := p.pacedReal.Add(time.Duration(float64(t.Sub(p.pacedIncident)) / p.speed))
	if wait := time.Until(due); wait > 0 {
		time.Sleep(wait)
	}
}

// evaluate runs the rules due at t and hands their alerts to Alertmanager,
// printing each page, ticket and inhibition as it happens.
func (p *player) evaluate(ctx context.Context, r *run, t time.Time) error {
	events, err := r.eval.Eval(ctx, t)
	if err != nil {
		return err
	}
	for _, ev := range events {
		l := ev.Alert.Labels.Map()
		key := alertKey(l)
		switch ev.Alert.State {
		case ruleeval.StateFiring:
			a, err := r.am.fire(l, t)
			if err != nil {
				return err
			}
			pa := r.byKey[key]
			if pa == nil || !pa.resolved.IsZero() {
				pa = &playedAlert{labels: l, firedAt: t, am: a, summary: ev.Alert.Annotations["summary"]}
				r.byKey[key] = pa
				r.alerts = append(r.alerts, pa)
			}
			fmt.Fprintf(p.out, "   [%s] %-7s fires      %s\n             %s\n", clockText(t.Sub(r.start)), strings.ToUpper(l["severity"]), describe(l), pa.summary)
		case ruleeval.StateResolved:
			r.am.resolve(l)
			if pa := r.byKey[key]; pa != nil {
				pa.resolved = t
			}
			fmt.Fprintf(p.out, "   [%s] %-7s resolves   %s\n", clockText(t.Sub(r.start)), strings.ToUpper(l["severity"]), describe(l))
		}
	}
	for _, a := range r.am.flush(t) {
		pa := r.byKey[a.key]
		if pa == nil {
			continue
		}
		if !a.delivered.IsZero() && pa.delivered.IsZero() {
			pa.delivered = a.delivered
			how := "delivered"
			if !a.newPage {
				how = "updates  " // the incident its group already notified
			}
			fmt.Fprintf(p.out, "   [%s] %-7s %s  %s (fired %s)\n", clockText(a.delivered.Sub(r.start)), strings.ToUpper(a.labels["severity"]),
				how, describe(a.labels), clockText(pa.firedAt.Sub(r.start)))
		} else if a.inhibited != "" && a.delivered.IsZero() {
			fmt.Fprintf(p.out, "   [%s] %-7s inhibited  %s, by %s\n", clockText(t.Sub(r.start)), strings.ToUpper(a.labels["severity"]), describe(a.labels), a.inhibited)
		}
	}
	return nil
}

// describe names an alert by its name and the labels that tell it apart.
func describe(l map[string]string) string {
	var parts []string
	for _, k := range []string{"provider", "check", "layer", "edge", "region", "cause", "phase", "slo"} {
		if v := l[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return l["alertname"] + "{" + strings.Join(parts, ",") + "}"
}
