package slo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
	"github.com/llmprobe/llmprobe/probe"
)

// Slow, not down: on 2026-04-20 Gemini and Copilot were "especially slow"
// while others failed. LLMProbeDegraded opens a ticket when a check's p95
// time to first byte or first token rises to degraded.factor times its own
// baseline (the degraded.baseline before it) from Quorum regions. Slowness
// pages only through the latency SLO's burn.

// degradedPhases are the phases whose slowness is the provider's: the wait
// for the first byte and, for streams, the first token.
var degradedPhases = []string{probe.PhaseTTFB, probe.PhaseTTFT}

// phaseP95 writes the p95 of the degraded phases per provider, check,
// region and phase over rng, ending offset before now: from native
// histograms where the worker's are scraped as such, else from the classic
// buckets.
func phaseP95(rng, offset string) string {
	by := promql.By(probe.LabelProvider, probe.LabelCheck, probe.LabelRegion, probe.LabelPhase)
	sel := func(metric string) string {
		s := promql.Sel(metric, promql.Re(probe.LabelPhase, degradedPhases...)) + "[" + rng + "]"
		if offset != "" {
			s += " offset " + offset
		}
		return s
	}
	return promql.Lines(
		"histogram_quantile(0.95, sum by ("+by+") (rate("+sel(probe.MetricPhaseDuration)+")))",
		"or",
		"histogram_quantile(0.95, sum by ("+by+", le) (rate("+sel(probe.MetricPhaseDuration+"_bucket")+")))",
	)
}

// degradedName is the name of the recorded p95 over a nominal window.
func degradedName(w time.Duration) string {
	return RecordName(LevelProviderCheckPhaseRegion, MetricPhaseP95, OperationSeconds+FormatDuration(w))
}

// degradedRecent and degradedBaseline record the two p95s the alert
// compares: the recent one with the SLI rules, the baseline (a day of
// buckets) with the long ones.
func (b *builder) degradedRecent() Rule {
	w := time.Duration(b.spec.Degraded.Window)
	return Rule{Record: degradedName(w), Expr: phaseP95(b.profile.Range(w), "")}
}

func (b *builder) degradedBaseline() Rule {
	d := b.spec.Degraded
	return Rule{Record: degradedName(time.Duration(d.Baseline)),
		Expr: phaseP95(b.profile.Range(time.Duration(d.Baseline)), b.profile.Range(time.Duration(d.Window)))}
}

func (b *builder) degraded() Rule {
	d := b.spec.Degraded
	recent := degradedName(time.Duration(d.Window))
	baseline := degradedName(time.Duration(d.Baseline))
	on := promql.By(probe.LabelProvider, probe.LabelCheck, probe.LabelPhase, probe.LabelRegion)
	slow := promql.Lines(
		recent+" >= "+promql.Num(time.Duration(d.MinLatency).Seconds()),
		"and on ("+on+")",
		recent+" >= on ("+on+") "+promql.Num(d.Factor)+" * "+baseline,
		"unless on ("+probe.LabelRegion+")",
		networkDown(),
	)
	by := promql.By(probe.LabelProvider, probe.LabelCheck, probe.LabelPhase)
	return Rule{
		Alert:  AlertDegraded,
		Expr:   promql.Call("count by ("+by+")", slow) + " >= " + strconv.Itoa(b.spec.Quorum()),
		For:    b.profile.Range(time.Duration(d.For)),
		Labels: map[string]string{LabelSeverity: SeverityTicket},
		Annotations: b.annotations(AlertDegraded,
			fmt.Sprintf("{{ $labels.provider }} {{ $labels.check }} is slow: p95 {{ $labels.phase }} at least %sx its usual, from %s",
				promql.Num(d.Factor), listTemplate(
					promql.Sel(recent, "provider=%q", "check=%q", "phase=%q"),
					"$labels.provider $labels.check $labels.phase", "{{ $s.Labels.region }} {{ $s.Value | humanizeDuration }}", "no region", probe.LabelRegion)),
			fmt.Sprintf("The p95 {{ $labels.phase }} of {{ $labels.provider }} {{ $labels.check }} over the last %s is at least %s times its p95 over the %s before, and at least %s, from {{ $value }} regions whose network is up: the provider is slow, not down. This opens a ticket; slowness pages only when the latency SLO burns (LLMProbeLatencyBudgetBurn).",
				b.profile.Range(time.Duration(d.Window)), promql.Num(d.Factor), b.profile.Range(time.Duration(d.Baseline)), FormatDuration(time.Duration(d.MinLatency))),
			DashboardURL(b.spec.Links.Grafana, DashboardProvider, "var-provider={{ $labels.provider }}&var-check={{ $labels.check }}"),
		),
	}
}
