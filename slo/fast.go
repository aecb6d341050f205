package slo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
)

// The fast page. Burn-rate alerts are right for spending an error budget,
// but they need the 1h burn rate to pass 14.4x before a 99.5% objective
// pages, however many probes fail: over four minutes for a total outage, a
// quarter of an hour for 30% errors. Synthetic monitors page on "N of M
// locations failing now" instead. LLMProbeProviderDown does that over the
// last providerDown.window probe intervals, in its own rule group on a
// shorter interval; the shared-edge incident reads the same window.

// fastGroup records the fast window, in the SLI rule file (Grafana-managed
// alerting reads it too); fastAlertGroup evaluates LLMProbeProviderDown and
// LLMProbeSharedEdgeIncident on the same interval.
func (b *builder) fastGroup() RuleGroup {
	w := b.spec.FastWindow()
	rng := FormatDuration(w)
	byRegion := byProviderCheckRegion
	g := RuleGroup{Name: GroupFast, Interval: FormatDuration(b.fastInterval())}
	for _, o := range failureOutcomes() {
		expr := measured(byRegion, rng, string(o))
		if o == probe.OutcomeOriginError {
			// A probe skipped while the check backs off after the
			// provider's 429 or 529 is that failure repeated: the check
			// still fails, the probe is only being polite. Without it an
			// overload would page, resolve as the probes back off, and page
			// again.
			skipped := increase(byRegion, promql.Sel(probe.MetricProbesSkipped, promql.Eq(probe.LabelSkipReason, probe.SkipReasonBackoff)), rng)
			expr = promql.Lines(promql.Block(expr), "+ on ("+byRegion+")", promql.Block(skipped, "or on ("+byRegion+")", "0 * "+promql.Block(expr)))
		}
		g.Rules = append(g.Rules, Rule{
			Record: b.fastName(LevelProviderCheckLayerRegion),
			Expr:   expr,
			Labels: map[string]string{LabelLayer: o.Layer()},
		})
	}
	g.Rules = append(g.Rules, Rule{
		Record: b.fastName(LevelProviderCheckRegion),
		Expr:   fmt.Sprintf("sum by (%s) (%s)", byRegion, b.fastName(LevelProviderCheckLayerRegion)),
	})
	return g
}

func (b *builder) fastAlertGroup() RuleGroup {
	return RuleGroup{Name: GroupFastAlerts, Interval: FormatDuration(b.fastInterval()),
		Rules: []Rule{b.providerDown(), b.sharedEdgeIncident()}}
}

// fastName is the name of a failed-probe count over the fast window.
func (b *builder) fastName(level string) string {
	return RecordName(level, MetricProbesFailed, OperationIncreaseFast)
}

// failingRegions selects, per provider, check and region, the regions whose
// own network is up and that see at least minRegionFailedProbes failed
// probes in the fast window; the value is that count.
func (b *builder) failingRegions() string {
	return promql.Lines(
		b.fastName(LevelProviderCheckRegion)+" >= "+strconv.Itoa(b.spec.ProviderDown.MinRegionFailedProbes),
		"unless on ("+probe.LabelRegion+")",
		networkDown(),
	)
}

// failingNow selects the provider checks failing now: at least Quorum
// failing regions, holding at least minFailedProbes failed probes together.
// The value is their failed probes.
func (b *builder) failingNow() string {
	return promql.Lines(
		promql.Call("sum by ("+byProviderCheck+")", b.failingRegions())+" >= "+strconv.Itoa(b.spec.ProviderDown.MinFailedProbes),
		"and on ("+byProviderCheck+")",
		promql.Call("count by ("+byProviderCheck+")", b.failingRegions())+" >= "+strconv.Itoa(b.spec.Quorum()),
	)
}

// fastLayer is 1 for each layer (of those the matchers select) holding at
// least a third of the failing regions' failed probes and at least
// minRegionFailedProbes of them: the layer label says who fails.
func (b *builder) fastLayer(layerMatchers ...string) string {
	layerFailed := promql.Call("sum by ("+byProviderCheckLayer+")", promql.Lines(
		promql.Sel(b.fastName(LevelProviderCheckLayerRegion), layerMatchers...),
		"and on ("+byProviderCheckRegion+")",
		promql.Block(b.failingRegions()),
	))
	return promql.Block(
		layerFailed+" >= "+strconv.Itoa(b.spec.ProviderDown.MinRegionFailedProbes),
		"and on ("+byProviderCheckLayer+")",
		layerFailed+" * "+strconv.Itoa(len(failureOutcomes())),
		"  >= on ("+byProviderCheck+") group_left ()",
		promql.Call("sum by ("+byProviderCheck+")", b.failingRegions()),
	) + " > bool 0"
}

// fastDown is the provider checks failing now at the selected layers, one
// series per layer, valued by the failing regions' failed probes.
func (b *builder) fastDown(layerMatchers ...string) string {
	return promql.Lines(
		promql.Block(b.failingNow()),
		"* on ("+byProviderCheck+") group_right ()",
		promql.Block(b.fastLayer(layerMatchers...)),
	)
}

// providerDown pages when a provider check fails now from enough regions.
// Its pages carry the edge label (the CDN in front of the provider): a
// shared-edge incident on that CDN inhibits the edge-layer ones, and
// Alertmanager groups a provider's fast and error-budget pages by it. A
// region whose own network is down is never counted.
func (b *builder) providerDown() Rule {
	w := b.spec.FastWindow()
	keep := ""
	if k := time.Duration(b.spec.ProviderDown.KeepFiringFor); k > 0 {
		keep = b.profile.Range(k)
	}
	reasons := listTemplate(
		"sort_desc(sum by (reason) (increase("+promql.Sel(probe.MetricProbesTotal, "provider=%q", "check=%q", "outcome=%q")+"["+FormatDuration(w)+"])) > 0)",
		`$labels.provider $labels.check (printf "%s_error" $labels.layer)`, `{{ $s.Labels.reason }} {{ $s.Value | printf "%.0f" }}`, "no reason recorded")
	regions := listTemplate(
		promql.Sel(b.fastName(LevelProviderCheckLayerRegion), "provider=%q", "check=%q", "layer=%q")+" > 0",
		"$labels.provider $labels.check $labels.layer", "{{ $s.Labels.region }}", "no region", probe.LabelRegion)
	return Rule{
		Alert:         AlertProviderDown,
		Expr:          withEdge(promql.Block(b.fastDown())),
		Labels:        map[string]string{LabelSeverity: SeverityPage},
		KeepFiringFor: keep,
		Annotations: b.annotations(AlertProviderDown,
			fmt.Sprintf("{{ $labels.provider }} {{ $labels.check }} is failing now at the {{ $labels.layer }}{{ with $labels.edge }} ({{ . }}){{ end }}: %s, from %s", reasons, regions),
			fmt.Sprintf("{{ $value | printf \"%%.0f\" }} probes of {{ $labels.provider }} {{ $labels.check }} failed at the {{ $labels.layer }} layer (%s) in the last %s, from at least %d regions whose own network is up (at least %d failed probes each, %d together). This pages at once, beside the slower error-budget alerts, whose page for the same provider, check and layer it inhibits. %s",
				layerWords(), FormatDuration(w), b.spec.Quorum(), b.spec.ProviderDown.MinRegionFailedProbes, b.spec.ProviderDown.MinFailedProbes,
				`{{ if eq $labels.layer "edge" }}If other providers behind {{ $labels.edge }} fail too, LLMProbeSharedEdgeIncident replaces this page.{{ else if eq $labels.layer "origin" }}Check the provider's status page; fail over to another provider or model.{{ else }}Several regions cannot reach the provider: check its DNS and the regions' egress.{{ end }}`),
			DashboardURL(b.spec.Links.Grafana, DashboardProvider, "var-provider={{ $labels.provider }}&var-check={{ $labels.check }}"),
		),
	}
}

// fastInterval is the fast group's evaluation interval in this profile.
func (b *builder) fastInterval() time.Duration {
	return b.profile.ScaleAtLeast(time.Duration(b.spec.ProviderDown.EvaluationInterval), time.Second)
}
