package demo

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// What Alertmanager does with the pages, without a server: the generated
// configuration's route tree decides each alert's group and group_wait,
// and its inhibit rules which alerts never reach a receiver. Matchers are
// Alertmanager's own (pkg/labels); the tree walk and the inhibition follow
// Alertmanager's dispatch and inhibit packages, whose config packages link
// every notifier integration (a tenth more memory for `llmprobe run`). The
// tests check the routes against amtool.

// amConfig is the part of an Alertmanager configuration the simulation reads.
type amConfig struct {
	Route        amRoute `yaml:"route"`
	InhibitRules []struct {
		Source []string `yaml:"source_matchers"`
		Target []string `yaml:"target_matchers"`
		Equal  []string `yaml:"equal"`
	} `yaml:"inhibit_rules"`
}

type amRoute struct {
	Receiver      string    `yaml:"receiver"`
	Matchers      []string  `yaml:"matchers"`
	GroupBy       []string  `yaml:"group_by"`
	GroupWait     string    `yaml:"group_wait"`
	GroupInterval string    `yaml:"group_interval"`
	Continue      bool      `yaml:"continue"`
	Routes        []amRoute `yaml:"routes"`
}

// route is a resolved route: what a matched alert gets.
type route struct {
	Receiver      string
	GroupBy       []string
	GroupWait     time.Duration
	GroupInterval time.Duration
}

// inhibitRule is a parsed inhibit rule.
type inhibitRule struct {
	source, target amlabels.Matchers
	equal          []string
}

// alertmanagerSim routes alerts and decides deliveries and inhibitions.
type alertmanagerSim struct {
	root    amRoute
	inhibit []inhibitRule
	groups  map[string]*amGroup
	firing  map[string]*amAlert // by alert key, while firing
}

type amGroup struct {
	route     route
	nextFlush time.Time
	notified  bool // a notification went out: later ones update the same incident
	alerts    map[string]*amAlert
}

// amAlert is an alert Alertmanager holds.
type amAlert struct {
	key       string
	labels    map[string]string
	firedAt   time.Time
	resolved  bool
	delivered time.Time // zero until a notification carried it
	newPage   bool      // that notification was its group's first: a new incident, not an update
	inhibited string    // the alert that inhibited it, when it did
}

func newAlertmanagerSim(config []byte) (*alertmanagerSim, error) {
	var c amConfig
	if err := yaml.Unmarshal(config, &c); err != nil {
		return nil, fmt.Errorf("parse Alertmanager config: %w", err)
	}
	am := &alertmanagerSim{root: c.Route, groups: map[string]*amGroup{}, firing: map[string]*amAlert{}}
	for _, r := range c.InhibitRules {
		src, err := parseMatchers(r.Source)
		if err != nil {
			return nil, err
		}
		tgt, err := parseMatchers(r.Target)
		if err != nil {
			return nil, err
		}
		am.inhibit = append(am.inhibit, inhibitRule{src, tgt, r.Equal})
	}
	if _, err := am.route(map[string]string{}); err != nil {
		return nil, err
	}
	return am, nil
}

func parseMatchers(ss []string) (amlabels.Matchers, error) {
	var out amlabels.Matchers
	for _, s := range ss {
		m, err := amlabels.ParseMatcher(s)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", s, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func matchAll(ms amlabels.Matchers, l map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}

// route walks the tree as Alertmanager's dispatcher does: a route matches
// when all its matchers do; the deepest matching route wins, the first
// matching child in order (no child of ours continues); options inherit.
func (am *alertmanagerSim) route(l map[string]string) (route, error) {
	r := route{}
	var walk func(n amRoute, parent route) (route, error)
	walk = func(n amRoute, parent route) (route, error) {
		cur := parent
		if n.Receiver != "" {
			cur.Receiver = n.Receiver
		}
		if n.GroupBy != nil {
			cur.GroupBy = n.GroupBy
		}
		for _, d := range []struct {
			s   string
			dst *time.Duration
		}{{n.GroupWait, &cur.GroupWait}, {n.GroupInterval, &cur.GroupInterval}} {
			if d.s == "" {
				continue
			}
			v, err := model.ParseDuration(d.s)
			if err != nil {
				return cur, fmt.Errorf("route duration %q: %w", d.s, err)
			}
			*d.dst = time.Duration(v)
		}
		for _, child := range n.Routes {
			ms, err := parseMatchers(child.Matchers)
			if err != nil {
				return cur, err
			}
			if matchAll(ms, l) {
				return walk(child, cur)
			}
		}
		return cur, nil
	}
	return walk(am.root, r)
}

func alertKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// fire receives a firing alert at t: it joins its group, which flushes
// group_wait after its first alert and every group_interval after that.
func (am *alertmanagerSim) fire(l map[string]string, t time.Time) (*amAlert, error) {
	key := alertKey(l)
	if a := am.firing[key]; a != nil {
		return a, nil
	}
	r, err := am.route(l)
	if err != nil {
		return nil, err
	}
	var gk strings.Builder
	gk.WriteString(r.Receiver + "|")
	for _, n := range r.GroupBy {
		gk.WriteString(n + "=" + l[n] + ",")
	}
	g := am.groups[gk.String()]
	if g == nil || len(g.alerts) == 0 {
		g = &amGroup{route: r, nextFlush: t.Add(r.GroupWait), alerts: map[string]*amAlert{}}
		am.groups[gk.String()] = g
	}
	a := &amAlert{key: key, labels: l, firedAt: t}
	g.alerts[key] = a
	am.firing[key] = a
	return a, nil
}

// resolve receives an alert's resolution.
func (am *alertmanagerSim) resolve(l map[string]string) {
	key := alertKey(l)
	if a := am.firing[key]; a != nil {
		a.resolved = true
		delete(am.firing, key)
	}
	for _, g := range am.groups {
		delete(g.alerts, key)
	}
}

// inhibitor is the firing alert that inhibits target, if any: an inhibit
// rule whose target matchers match it, and a firing alert other than it
// that matches the source matchers with equal values of the equal labels.
func (am *alertmanagerSim) inhibitor(target *amAlert) string {
	for _, r := range am.inhibit {
		if !matchAll(r.target, target.labels) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(am.firing)) {
			src := am.firing[k]
			if src == target || !matchAll(r.source, src.labels) {
				continue
			}
			same := true
			for _, e := range r.equal {
				if src.labels[e] != target.labels[e] {
					same = false
					break
				}
			}
			if same {
				return src.labels["alertname"]
			}
		}
	}
	return ""
}

// flush sends every group due by t: each firing alert not yet notified is
// delivered then, unless inhibited at that moment. It returns the alerts
// that changed (delivered or first inhibited).
func (am *alertmanagerSim) flush(t time.Time) []*amAlert {
	var changed []*amAlert
	for _, gk := range slices.Sorted(maps.Keys(am.groups)) {
		g := am.groups[gk]
		for !g.nextFlush.After(t) && len(g.alerts) > 0 {
			for _, k := range slices.Sorted(maps.Keys(g.alerts)) {
				a := g.alerts[k]
				// An alert that arrived after the flush was due (this
				// step's evaluation fired it) waits for the next one, as
				// it would in Alertmanager, which flushes on time.
				if !a.delivered.IsZero() || a.firedAt.After(g.nextFlush) {
					continue
				}
				if by := am.inhibitor(a); by != "" {
					if a.inhibited == "" {
						a.inhibited = by
						changed = append(changed, a)
					}
					continue
				}
				a.delivered, a.newPage = g.nextFlush, !g.notified
				changed = append(changed, a)
			}
			for _, a := range g.alerts {
				g.notified = g.notified || !a.delivered.IsZero()
			}
			g.nextFlush = g.nextFlush.Add(g.route.GroupInterval)
		}
	}
	return changed
}
