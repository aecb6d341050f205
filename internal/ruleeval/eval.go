// Package ruleeval evaluates Prometheus rule files in a process, in any
// time you give it: Prometheus' own PromQL engine over an in-memory series
// store, recording rules writing their series back (with staleness markers
// when a series goes away), alerting rules going pending and firing after
// their `for` as Prometheus' rule manager does, annotations expanded with
// Prometheus' template package. The demo runs llmprobe's generated rules on
// its workers' samples in incident time with it; its tests check it
// against promtool on the same series.
//
// It uses the engine and model/rulefmt rather than Prometheus' rules
// package, which links service discovery and cloud clients.
package ruleeval

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
)

// State is an alert's state.
type State string

// Alert states, as Prometheus names them.
const (
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Alert is one active (or just resolved) alert of a rule.
type Alert struct {
	Name        string
	Labels      labels.Labels // with alertname and the rule's labels
	Annotations map[string]string
	Value       float64
	State       State
	ActiveAt    time.Time
	FiredAt     time.Time // zero until firing
	ResolvedAt  time.Time // zero until resolved
	// KeptSince is when the condition stopped while keep_firing_for
	// keeps the alert firing; zero otherwise.
	KeptSince time.Time
}

// Event is a change of an alert's state at an evaluation.
type Event struct {
	At    time.Time
	Alert Alert // a copy, in its new state
}

// Evaluator runs rule groups over a Store.
type Evaluator struct {
	Store  *Store
	engine *promql.Engine
	groups []*group
	// Every, when set, evaluates every group at every multiple of it (as
	// promtool test rules does); otherwise each group at multiples of its
	// own interval (as Prometheus does), Default when it has none.
	Every   time.Duration
	Default time.Duration
}

type group struct {
	name     string
	interval time.Duration
	rules    []*rule
}

type rule struct {
	record, alert string
	expr          parser.Expr
	exprText      string
	forDur        time.Duration
	keepFiring    time.Duration
	labels        labels.Labels
	annotations   map[string]string
	active        map[string]*Alert // alerts by label set
	written       map[string]labels.Labels
}

// New returns an evaluator for the rule files (in the order given; groups
// run in file order at each time, as promtool's group_eval_order would).
func New(store *Store, files ...[]byte) (*Evaluator, error) {
	e := &Evaluator{
		Store:   store,
		Default: time.Minute,
		engine: promql.NewEngine(promql.EngineOpts{
			Logger: slog.New(slog.DiscardHandler), MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
			NoStepSubqueryIntervalFn: func(int64) int64 { return 60_000 },
		}),
	}
	p := parser.NewParser(parser.Options{})
	for i, f := range files {
		rgs, errs := rulefmt.Parse(f, false, model.UTF8Validation, p, nil)
		if len(errs) > 0 {
			return nil, fmt.Errorf("rule file %d: %w", i+1, errs[0])
		}
		for _, rg := range rgs.Groups {
			g := &group{name: rg.Name, interval: time.Duration(rg.Interval)}
			for _, r := range rg.Rules {
				expr, err := p.ParseExpr(r.Expr)
				if err != nil {
					return nil, fmt.Errorf("group %s rule %s%s: %w", rg.Name, r.Record, r.Alert, err)
				}
				g.rules = append(g.rules, &rule{record: r.Record, alert: r.Alert, expr: expr, exprText: r.Expr, forDur: time.Duration(r.For), keepFiring: time.Duration(r.KeepFiringFor),
					labels: labels.FromMap(r.Labels), annotations: r.Annotations, active: map[string]*Alert{}, written: map[string]labels.Labels{}})
			}
			e.groups = append(e.groups, g)
		}
	}
	return e, nil
}

// Groups lists the group names in evaluation order.
func (e *Evaluator) Groups() []string {
	var out []string
	for _, g := range e.groups {
		out = append(out, g.name)
	}
	return out
}

// due reports whether g is evaluated at ts.
func (e *Evaluator) due(g *group, ts time.Time) bool {
	every := e.Every
	if every == 0 {
		every = g.interval
		if every == 0 {
			every = e.Default
		}
	}
	return ts.UnixMilli()%every.Milliseconds() == 0
}

// Eval evaluates the groups due at ts, in order, and returns the alert
// state changes. Call it with increasing times, at least every Every (or
// the shortest group interval).
func (e *Evaluator) Eval(ctx context.Context, ts time.Time) ([]Event, error) {
	var events []Event
	for _, g := range e.groups {
		if !e.due(g, ts) {
			continue
		}
		for _, r := range g.rules {
			vec, err := e.query(ctx, r.expr, ts)
			if err != nil {
				return events, fmt.Errorf("group %s rule %s%s at %s: %w", g.name, r.record, r.alert, ts.UTC().Format(time.RFC3339), err)
			}
			if r.record != "" {
				e.record(r, vec, ts)
				continue
			}
			ev, err := e.alert(ctx, r, vec, ts)
			if err != nil {
				return events, err
			}
			events = append(events, ev...)
		}
	}
	return events, nil
}

func (e *Evaluator) query(ctx context.Context, expr parser.Expr, ts time.Time) (promql.Vector, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.Store, nil, expr.String(), ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{promql.Sample{T: v.T, F: v.V}}, nil
	}
	return nil, fmt.Errorf("rule result is a %s, not a vector", res.Value.Type())
}

// record writes a recording rule's result under its name and labels, and
// marks stale the series it wrote before and not now.
func (e *Evaluator) record(r *rule, vec promql.Vector, ts time.Time) {
	now := map[string]labels.Labels{}
	for _, s := range vec {
		b := labels.NewBuilder(s.Metric)
		b.Set(labels.MetricName, r.record)
		r.labels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		l := b.Labels()
		now[l.String()] = l
		e.Store.Append(l, ts, s.F)
	}
	for k, l := range r.written {
		if _, ok := now[k]; !ok {
			e.Store.MarkStale(l, ts)
		}
	}
	r.written = now
}

// alert moves the rule's alerts through pending, firing and resolved, as
// Prometheus' AlertingRule.Eval does (keep_firing_for included), and
// expands their annotations.
func (e *Evaluator) alert(ctx context.Context, r *rule, vec promql.Vector, ts time.Time) ([]Event, error) {
	var events []Event
	seen := map[string]bool{}
	for _, s := range vec {
		b := labels.NewBuilder(s.Metric)
		b.Del(labels.MetricName)
		r.labels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		b.Set(labels.AlertName, r.alert)
		l := b.Labels()
		key := l.String()
		seen[key] = true
		ann, err := e.expand(ctx, r, l, s, ts)
		if err != nil {
			return events, err
		}
		a := r.active[key]
		if a == nil || a.State == StateResolved {
			a = &Alert{Name: r.alert, Labels: l, State: StatePending, ActiveAt: ts}
			r.active[key] = a
			if r.forDur > 0 {
				a.Value, a.Annotations = s.F, ann
				events = append(events, Event{At: ts, Alert: *a})
			}
		}
		a.Value, a.Annotations, a.KeptSince = s.F, ann, time.Time{}
		if a.State == StatePending && ts.Sub(a.ActiveAt) >= r.forDur {
			a.State, a.FiredAt = StateFiring, ts
			events = append(events, Event{At: ts, Alert: *a})
		}
	}
	keys := make([]string, 0, len(r.active))
	for k := range r.active {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := r.active[k]
		if seen[k] {
			continue
		}
		if a.State == StateFiring && r.keepFiring > 0 {
			if a.KeptSince.IsZero() {
				a.KeptSince = ts
			}
			if ts.Sub(a.KeptSince) < r.keepFiring {
				continue // keep_firing_for: still firing
			}
		}
		delete(r.active, k)
		if a.State == StateFiring {
			a.State, a.ResolvedAt = StateResolved, ts
			events = append(events, Event{At: ts, Alert: *a})
		}
	}
	return events, nil
}

// Active lists the alerts active now (pending or firing), sorted by labels.
func (e *Evaluator) Active() []Alert {
	var out []Alert
	for _, g := range e.groups {
		for _, r := range g.rules {
			for _, a := range r.active {
				out = append(out, *a)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return out
}

// expand renders an alert's annotations as Prometheus does, with $labels,
// $value and the query function on this store.
func (e *Evaluator) expand(ctx context.Context, r *rule, l labels.Labels, s promql.Sample, ts time.Time) (map[string]string, error) {
	if len(r.annotations) == 0 {
		return nil, nil
	}
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(l.Map(), nil, "", s)
	query := func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
		if err != nil {
			return nil, err
		}
		return e.query(ctx, expr, t)
	}
	out := make(map[string]string, len(r.annotations))
	for k, text := range r.annotations {
		t := template.NewTemplateExpander(ctx, defs+text, "__alert_"+r.alert, data, model.Time(timestamp.FromTime(ts)), query, nil, nil)
		v, err := t.Expand()
		if err != nil {
			return nil, fmt.Errorf("alert %s annotation %s: %w", r.alert, k, err)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}
