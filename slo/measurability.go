package slo

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
)

// Measurability says, in warnings for `llmprobe generate` to print, where the
// probe rate (ProbeInterval from Regions regions) is too low for an objective
// to be measured as its alerts intend. Probes are low-traffic: 3 regions at
// 30s give 360 probes an hour, so a 99.9% objective's page at 14.4x burn is
// only 5 failed probes. For each objective it checks that:
//
//   - the error budget over the SLO window is at least MinFailedProbes
//     probes (else the objective cannot be measured at all);
//   - each burn condition can fire at all: factor x (1 - objective) < 1;
//   - each burn condition's threshold in its long window is at least
//     MinFailedProbes failed probes (else the minimum decides, and the alert
//     fires only at a higher burn rate, which the warning gives).
//
// It also checks that every short window holds at least two probes from a
// region, which increase() needs. Objectives with the same SLI, check and
// value share one warning.
func Measurability(s Spec, p Profile) []string {
	var out []string
	interval := time.Duration(s.ProbeInterval)
	probesIn := func(w time.Duration) float64 {
		return float64(s.Regions) * float64(p.Scale(w)) / float64(interval)
	}
	rate := fmt.Sprintf("at a %s probe interval from %d region%s", FormatDuration(interval), s.Regions, plural(s.Regions))

	for _, w := range RecordingWindows(time.Duration(s.Window)) {
		if perRegion := float64(p.Scale(w)) / float64(interval); perRegion < 2 {
			out = append(out, fmt.Sprintf("window %s (%s in this profile) holds %.1f probes per region %s: increase() needs at least 2, so the %s rules will often have no value",
				FormatDuration(w), p.Range(w), perRegion, rate, FormatDuration(w)))
		}
	}

	type key struct {
		sli, check string
		objective  float64
	}
	var keys []key
	providers := map[key][]string{}
	for _, o := range s.SLOs() {
		k := key{o.SLI, o.Check, o.Objective}
		if _, ok := providers[k]; !ok {
			keys = append(keys, k)
		}
		providers[k] = append(providers[k], o.Provider)
	}
	for _, k := range keys {
		var problems []string
		budget := 1 - k.objective
		minFailed := float64(s.MinFailedProbes)
		window := time.Duration(s.Window)
		if n := probesIn(window) * budget; n < minFailed {
			problems = append(problems, fmt.Sprintf("the whole error budget over %s is %.1f failed probes of %.0f, fewer than minFailedProbes (%d): the objective cannot be measured at this rate",
				p.Range(window), n, probesIn(window), s.MinFailedProbes))
		}
		for _, bw := range BurnWindows() {
			f := bw.Factor(window)
			long := p.Range(bw.Long)
			if f*budget >= 1 {
				problems = append(problems, fmt.Sprintf("%s %sx over %s would need more than every probe to fail: it can never fire (an objective above %s can)",
					bw.Severity, promql.Num(f), long, promql.Num(math.Ceil((1-1/f)*1e4)/1e4)))
				continue
			}
			probes := probesIn(bw.Long)
			if n := probes * f * budget; n < minFailed {
				problems = append(problems, fmt.Sprintf("%s %sx over %s is %.1f failed probes of %.0f, fewer than minFailedProbes (%d): it fires only from %.1fx",
					bw.Severity, promql.Num(f), long, n, probes, s.MinFailedProbes, minFailed/(probes*budget)))
			}
		}
		if len(problems) == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s objective %s for %s (%s) %s: %s",
			k.sli, promql.Num(k.objective), k.check, strings.Join(providers[k], ", "), rate, strings.Join(problems, "; ")))
	}
	// The fast page's false-page rate is stated per 30 days of real time;
	// the test profile compresses time, so it is not held to it.
	if p.TimeScale <= 1 {
		if n := s.FalsePages(NoiseRate); n > 1 {
			better := s
			for better.ProviderDown.MinFailedProbes < better.ProviderDown.Window*better.Regions && better.FalsePages(NoiseRate) > 1 {
				better.ProviderDown.MinFailedProbes++
			}
			out = append(out, fmt.Sprintf("providerDown %s: with %s of probes failing at random, LLMProbeProviderDown would fire by chance %.1f times per check per 30 days; providerDown.minFailedProbes %d keeps it under once (%.2f)",
				rate, promql.Num(NoiseRate*100)+"%", n, better.ProviderDown.MinFailedProbes, better.FalsePages(NoiseRate)))
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
