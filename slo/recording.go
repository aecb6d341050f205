package slo

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
)

// Label lists of the recording levels, as `by (...)` and `on (...)` write them.
const (
	byProviderCheck            = probe.LabelProvider + ", " + probe.LabelCheck
	byProviderCheckRegion      = byProviderCheck + ", " + probe.LabelRegion
	byProviderCheckLayer       = byProviderCheck + ", " + LabelLayer
	byProviderCheckLayerRegion = byProviderCheckLayer + ", " + probe.LabelRegion
)

// recordingGroups builds the SLI rule groups: metadata and inventory first
// (later rules read them), then every window at the region level and then
// summed over regions. Windows from 1d up go to a group evaluated less often,
// because their ranges read days of samples.
func (b *builder) recordingGroups() []RuleGroup {
	short := RuleGroup{Name: GroupSLI, Interval: FormatDuration(b.profile.ScaleAtLeast(30*time.Second, time.Second))}
	long := RuleGroup{Name: GroupSLILong, Interval: FormatDuration(b.profile.ScaleAtLeast(2*time.Minute, 2*time.Second))}
	short.Rules = append(short.Rules, b.metadataRules()...)
	short.Rules = append(short.Rules, b.inventoryRules()...)
	for _, w := range RecordingWindows(time.Duration(b.spec.Window)) {
		g := &short
		if w >= longWindowFrom {
			g = &long
		}
		g.Rules = append(g.Rules, b.regionWindowRules(w)...)
		g.Rules = append(g.Rules, b.globalWindowRules(w)...)
	}
	long.Rules = append(long.Rules, Rule{
		Record: RecordName(LevelProviderCheck, MetricBudgetRemaining, OperationRatio),
		Expr:   "1 - " + RatioName(LevelProviderCheck, MetricBurnRate, time.Duration(b.spec.Window)),
	})
	short.Rules = append(short.Rules, b.degradedRecent())
	long.Rules = append(long.Rules, b.degradedBaseline())
	return []RuleGroup{short, long}
}

// metadataRules record each SLO's objective and latency threshold as
// constant series, so burn rates, dashboards and alert annotations read
// them rather than repeating numbers.
func (b *builder) metadataRules() []Rule {
	var out []Rule
	for _, s := range b.slos {
		out = append(out, Rule{
			Record: RecordName(LevelProviderCheck, MetricObjective, OperationRatio),
			Expr:   "vector(" + promql.Num(s.Objective) + ")",
			Labels: map[string]string{probe.LabelProvider: s.Provider, probe.LabelCheck: s.Check, LabelSLO: s.SLI},
		})
	}
	for _, s := range b.slos {
		if s.SLI != SLOLatency {
			continue
		}
		out = append(out, Rule{
			Record: RecordName(LevelProviderCheck, MetricLatencyThreshold, OperationSeconds),
			Expr:   "vector(" + promql.Num(s.Threshold.Seconds()) + ")",
			Labels: map[string]string{probe.LabelProvider: s.Provider, probe.LabelCheck: s.Check, LabelSLO: s.SLI},
		})
	}
	return out
}

// inventoryRules record which CDN fronts each provider, whether each
// region's network answers, and whether any region's last probe succeeded.
func (b *builder) inventoryRules() []Rule {
	edgeRegion := RecordName(LevelEdgeProviderRegion, MetricProviderInfo, OperationMax)
	edgeProvider := RecordName(LevelEdgeProvider, MetricProviderInfo, OperationCount)
	out := []Rule{
		{
			// One edge per provider and region, even while a changed edge's
			// old series lingers.
			Record: edgeRegion,
			Expr: fmt.Sprintf("topk by (%s) (1, max by (%s) (%s))",
				promql.By(probe.LabelProvider, probe.LabelRegion),
				promql.By(probe.LabelEdge, probe.LabelProvider, probe.LabelRegion), probe.MetricProviderInfo),
		},
		{
			// The edge seen from most regions: alerts carry it as the edge
			// label, and the shared-edge inhibition matches on it.
			Record: edgeProvider,
			Expr: fmt.Sprintf("topk by (%s) (1, count by (%s) (%s))",
				probe.LabelProvider, promql.By(probe.LabelEdge, probe.LabelProvider), edgeRegion),
		},
	}
	// Until a worker reports the edge, the catalog's is assumed (value 0:
	// no region has seen it).
	for _, p := range b.spec.Providers {
		cat, ok := probe.LookupProvider(p)
		if !ok || cat.Edge == "" {
			continue
		}
		out = append(out, Rule{
			Record: edgeProvider,
			Expr:   "0 * absent(" + promql.Sel(probe.MetricProviderInfo, promql.Eq(probe.LabelProvider, p)) + ")",
			Labels: map[string]string{probe.LabelProvider: p, probe.LabelEdge: cat.Edge},
		})
	}
	out = append(out,
		Rule{
			Record: RecordName(LevelRegion, MetricControlSuccess, OperationMax),
			Expr:   fmt.Sprintf("max by (%s) (%s)", probe.LabelRegion, probe.MetricControlSuccess),
		},
		Rule{
			Record: RecordName(LevelProviderCheck, MetricCheckSuccess, OperationMax),
			Expr:   fmt.Sprintf("max by (%s) (%s)", byProviderCheck, probe.MetricCheckSuccess),
		},
	)
	return out
}

// ValidOutcomes are the outcome label values that count for availability
// (probe.Outcome.CountsForSLI), as the rules and dashboards select them.
func ValidOutcomes() []string {
	var out []string
	for _, o := range probe.SLIOutcomes() {
		out = append(out, string(o))
	}
	return out
}

// failureOutcomes are the valid outcomes that are failures, each blamed on a
// layer (Outcome.Layer).
func failureOutcomes() []probe.Outcome {
	var out []probe.Outcome
	for _, o := range probe.SLIOutcomes() {
		if o != probe.OutcomeSuccess {
			out = append(out, o)
		}
	}
	return out
}

// increase writes sum by (labels) (increase(selector[range])).
func increase(labels, selector, rng string) string {
	return fmt.Sprintf("sum by (%s) (increase(%s[%s]))", labels, selector, rng)
}

// measured counts a region's probes with the given outcomes over rng, less
// those that finished while the region's own network was down
// (probe.MetricProbesUnmeasured), which spend no error budget. Workers that
// count none (older ones) lose nothing: a missing series subtracts zero.
func measured(labels, rng string, outcomes ...string) string {
	return MeasuredIncrease(labels, nil, rng, outcomes...)
}

// MeasuredIncrease is the increase over rng of the probes with the given
// outcomes that the filter selects, summed by labels, less those that
// finished while their region's own network was down: the count every SLI
// and availability panel reads.
func MeasuredIncrease(labels string, filter []string, rng string, outcomes ...string) string {
	matchers := promql.With(filter, promql.Re(probe.LabelOutcome, outcomes...))
	all := increase(labels, promql.Sel(probe.MetricProbesTotal, matchers...), rng)
	unmeasured := increase(labels, promql.Sel(probe.MetricProbesUnmeasured, matchers...), rng)
	return promql.Lines(
		all,
		"  - on ("+labels+")",
		promql.Block(unmeasured, "or on ("+labels+")", "0 * "+all),
	)
}

// objective selects one SLI's objective series.
func objective(sli string) string {
	return promql.Sel(RecordName(LevelProviderCheck, MetricObjective, OperationRatio), promql.Eq(LabelSLO, sli))
}

// burnRate writes (1 - sli) / (1 - objective) joined per provider and check.
func burnRate(errorRatio, sli string) string {
	return promql.Lines(
		errorRatio,
		"  / on ("+byProviderCheck+") group_left ()",
		"(1 - "+objective(sli)+")",
	)
}

// regionWindowRules record one window as seen from each region.
func (b *builder) regionWindowRules(w time.Duration) []Rule {
	return b.windowRules(w, LevelProviderCheckRegion, LevelProviderCheckLayerRegion, true)
}

// globalWindowRules record one window summed over regions.
func (b *builder) globalWindowRules(w time.Duration) []Rule {
	return b.windowRules(w, LevelProviderCheck, LevelProviderCheckLayer, false)
}

// windowRules records counts, SLIs and burn rates for one window at one
// level. The region level reads the probe's counters; the global level sums
// the region level's counts (a sum of increases is the increase of the sum),
// so each range of raw samples is read once.
func (b *builder) windowRules(w time.Duration, level, layerLevel string, fromRaw bool) []Rule {
	rng := b.profile.Range(w)
	labels, layerLabels := byProviderCheck, byProviderCheckLayer
	if fromRaw {
		labels = byProviderCheckRegion
		layerLabels = byProviderCheckLayerRegion
	}
	valid := IncreaseName(level, MetricProbesValid, w)
	success := IncreaseName(level, MetricProbesSuccess, w)
	failed := IncreaseName(level, MetricProbesFailed, w)
	layerFailed := IncreaseName(layerLevel, MetricProbesFailed, w)
	avail := RatioName(level, MetricSLIAvailability, w)
	attribution := RatioName(layerLevel, MetricErrorAttribution, w)
	regionLevel := func(metric string) string { return IncreaseName(LevelProviderCheckRegion, metric, w) }

	var out []Rule
	if fromRaw {
		out = append(out,
			Rule{Record: valid, Expr: measured(labels, rng, ValidOutcomes()...)},
			Rule{Record: success, Expr: measured(labels, rng, string(probe.OutcomeSuccess))},
		)
		for _, o := range failureOutcomes() {
			out = append(out, Rule{
				Record: layerFailed,
				Expr:   measured(labels, rng, string(o)),
				Labels: map[string]string{LabelLayer: o.Layer()},
			})
		}
	} else {
		out = append(out,
			Rule{Record: valid, Expr: fmt.Sprintf("sum by (%s) (%s)", labels, regionLevel(MetricProbesValid))},
			Rule{Record: success, Expr: fmt.Sprintf("sum by (%s) (%s)", labels, regionLevel(MetricProbesSuccess))},
			Rule{Record: layerFailed, Expr: fmt.Sprintf("sum by (%s) (%s)", layerLabels, IncreaseName(LevelProviderCheckLayerRegion, MetricProbesFailed, w))},
		)
	}
	out = append(out,
		Rule{Record: failed, Expr: fmt.Sprintf("sum by (%s) (%s)", labels, layerFailed)},
		// A check that never succeeded has no success series: its
		// availability is 0, not absent.
		Rule{Record: avail, Expr: promql.Lines(success+" / "+valid, "or", "0 * "+valid)},
		Rule{Record: attribution, Expr: promql.Lines(layerFailed, "  / ignoring ("+LabelLayer+") group_left ()", valid)},
		Rule{
			Record: RatioName(level, MetricBurnRate, w),
			Expr:   burnRate("(1 - "+avail+")", SLOAvailability),
			Labels: map[string]string{LabelSLO: SLOAvailability},
		},
	)
	if fromRaw {
		// The shared-edge incident reads the edge layer's burn per region.
		out = append(out, Rule{
			Record: RatioName(layerLevel, MetricBurnRate, w),
			Expr:   burnRate(attribution, SLOAvailability),
			Labels: map[string]string{LabelSLO: SLOAvailability},
		})
	}
	if !fromRaw {
		out = append(out, Rule{
			Record: RatioName(LevelProviderCheck, MetricUptime, w),
			Expr:   fmt.Sprintf("avg_over_time(%s[%s])", RecordName(LevelProviderCheck, MetricCheckSuccess, OperationMax), rng),
		})
	}
	if !b.hasLatency() {
		return out
	}
	latValid := IncreaseName(level, MetricLatencyValid, w)
	latGood := IncreaseName(level, MetricLatencyGood, w)
	latRatio := RatioName(level, MetricSLILatency, w)
	if fromRaw {
		// Latency reads the duration histogram classic or native
		// (promql.HistogramCount, promql.HistogramBelow).
		out = append(out, Rule{
			Record: latValid,
			Expr: promql.HistogramCount(labels, probe.MetricProbeDuration,
				[]string{promql.Eq(probe.LabelOutcome, string(probe.OutcomeSuccess)), promql.Re(probe.LabelCheck, b.latencyChecks()...)}, rng),
		})
		for _, g := range b.latencyGroups() {
			matchers := []string{promql.Eq(probe.LabelOutcome, string(probe.OutcomeSuccess))}
			// The rule labels repeat what the selector pins, so that each
			// rule has its own label set (promtool lints duplicates).
			ruleLabels := map[string]string{}
			if len(g.checks) == 1 {
				matchers = append(matchers, promql.Eq(probe.LabelCheck, g.checks[0]))
				ruleLabels[probe.LabelCheck] = g.checks[0]
			} else {
				matchers = append(matchers, promql.Re(probe.LabelCheck, g.checks...))
			}
			switch {
			case g.provider != "":
				matchers = append(matchers, promql.Eq(probe.LabelProvider, g.provider))
				ruleLabels[probe.LabelProvider] = g.provider
			case len(g.except) > 0:
				matchers = append(matchers, promql.NRe(probe.LabelProvider, g.except...))
			}
			r := Rule{Record: latGood, Expr: promql.HistogramBelow(labels, probe.MetricProbeDuration, matchers,
				leMatcher(g.threshold), promql.Num(g.threshold.Seconds()), rng)}
			if len(ruleLabels) > 0 {
				r.Labels = ruleLabels
			}
			out = append(out, r)
		}
	} else {
		out = append(out,
			Rule{Record: latValid, Expr: fmt.Sprintf("sum by (%s) (%s)", labels, regionLevel(MetricLatencyValid))},
			Rule{Record: latGood, Expr: fmt.Sprintf("sum by (%s) (%s)", labels, regionLevel(MetricLatencyGood))},
		)
	}
	out = append(out,
		Rule{Record: latRatio, Expr: latGood + " / " + latValid},
		Rule{
			Record: RatioName(level, MetricBurnRate, w),
			Expr:   burnRate("(1 - "+latRatio+")", SLOLatency),
			Labels: map[string]string{LabelSLO: SLOLatency},
		},
	)
	return out
}

func (b *builder) hasLatency() bool { return len(b.latencyChecks()) > 0 }

// latencyChecks are the check kinds with at least one latency SLO.
func (b *builder) latencyChecks() []string {
	var out []string
	for _, k := range probe.Kinds {
		for _, s := range b.slos {
			if s.SLI == SLOLatency && s.Check == string(k) {
				out = append(out, string(k))
				break
			}
		}
	}
	return out
}

// latencyGroup is one recording rule for latency good events: check kinds,
// a threshold and the providers it applies to.
type latencyGroup struct {
	checks    []string
	threshold time.Duration
	provider  string   // one provider, or "" for every provider
	except    []string // with provider "": the providers measured by their own rule
}

// latencyGroups splits the latency SLOs by threshold. A check's default
// threshold applies to every provider but those overridden to another
// threshold (so custom providers without an SLO are measured too, for
// dashboards); checks that share a default threshold and its exceptions
// share a rule; each overridden provider has its own rule.
func (b *builder) latencyGroups() []latencyGroup {
	var defaults, own []latencyGroup
	for _, check := range b.latencyChecks() {
		var def time.Duration
		if l := b.spec.Checks.For(check).Latency; l != nil {
			def = time.Duration(l.Threshold)
		}
		var except []string
		for _, s := range b.slos {
			if s.SLI == SLOLatency && s.Check == check && s.Threshold != def {
				own = append(own, latencyGroup{checks: []string{check}, threshold: s.Threshold, provider: s.Provider})
				except = append(except, s.Provider)
			}
		}
		if def == 0 {
			continue
		}
		sort.Strings(except)
		merged := false
		for i := range defaults {
			if defaults[i].threshold == def && slices.Equal(defaults[i].except, except) {
				defaults[i].checks = append(defaults[i].checks, check)
				merged = true
			}
		}
		if !merged {
			defaults = append(defaults, latencyGroup{checks: []string{check}, threshold: def, except: except})
		}
	}
	return append(defaults, own...)
}
