package slo

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
)

// How fast and how quietly the pages come, in numbers: for the configured
// probe interval, scrape interval, evaluation intervals and regions, the
// worst-case time from the start of an outage until a page fires in
// Prometheus (plus the Alertmanager route's group_wait), and how often the
// fast page would fire by chance on ordinary API noise. `llmprobe generate`
// prints both; the promtool scenarios in testdata/scenarios hold the same
// figures against the real rules.

// FastWindow is LLMProbeProviderDown's window: providerDown.window probe
// intervals.
func (s Spec) FastWindow() time.Duration {
	return time.Duration(s.ProviderDown.Window) * time.Duration(s.ProbeInterval)
}

// NoiseRate is the share of probes that fail at random on a healthy
// provider (ordinary LLM API noise) for which the false-page rate is
// stated.
const NoiseRate = 0.02

// FalsePages is how many times per check per 30 days LLMProbeProviderDown
// would fire by chance when a fraction noise of all probes fail at random,
// independently. It counts onsets of the condition "the regions' probes in
// the window hold at least providerDown.minFailedProbes failures", ignoring
// the per-region quorum (which only makes a chance page rarer), so it is an
// upper bound. Time moves one probe interval per step: each step every
// region's newest probe enters the window and its oldest leaves, and the
// condition starts to hold in a step when it did not before:
//
//	P(onset) = sum over a of P(A = a) P(a + C >= K) P(a + B < K)
//
// with A ~ Bin(n-m, p) the probes that stay, C and B ~ Bin(m, p) the probes
// that enter and leave, n = regions x window, m = regions, K the minimum.
func (s Spec) FalsePages(noise float64) float64 {
	n := s.Regions * s.ProviderDown.Window
	m := s.Regions
	k := s.ProviderDown.MinFailedProbes
	var onset float64
	for a := 0; a <= n-m; a++ {
		pa := binomial(n-m, a, noise)
		if pa == 0 {
			continue
		}
		onset += pa * binomialAtLeast(m, k-a, noise) * (1 - binomialAtLeast(m, k-a, noise))
	}
	steps := float64(30*24*time.Hour) / float64(time.Duration(s.ProbeInterval))
	return onset * steps
}

// binomial is P(X = k) for X ~ Bin(n, p).
func binomial(n, k int, p float64) float64 {
	if k < 0 || k > n {
		return 0
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// binomialAtLeast is P(X >= k) for X ~ Bin(n, p).
func binomialAtLeast(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	var sum float64
	for i := k; i <= n; i++ {
		sum += binomial(n, i, p)
	}
	return sum
}

// PageTime is the worst-case time to page for one error rate and objective.
type PageTime struct {
	ErrorRate float64
	// Alert is the alert that pages first: LLMProbeProviderDown or
	// LLMProbeErrorBudgetBurn. Empty when neither ever pages at this rate.
	Alert string
	// Fires is from the outage's start until the alert fires in
	// Prometheus, with probe, scrape and evaluation alignment at their
	// worst.
	Fires time.Duration
	// GroupWait is Alertmanager's wait before the first notification on the
	// route the page takes (origin layer; an edge-layer page waits longer,
	// EdgeGroupWait, so a shared-edge incident can inhibit it).
	GroupWait time.Duration
}

// Total is the time until the page reaches the receiver.
func (t PageTime) Total() time.Duration { return t.Fires + t.GroupWait }

// TimeToPage is the worst-case time to page when a fraction errorRate of
// every region's probes fail, evenly spread, for a check with the given
// availability objective, after long healthy history: the sooner of the
// fast page and the burn-rate page.
func (s Spec) TimeToPage(p Profile, objective, errorRate float64) PageTime {
	t := PageTime{ErrorRate: errorRate, GroupWait: PageGroupWait(p)}
	fast, fastOK := s.fastFires(p, errorRate)
	burn, burnOK := s.burnFires(p, objective, errorRate)
	switch {
	case fastOK && (!burnOK || fast <= burn):
		t.Alert, t.Fires = AlertProviderDown, fast
	case burnOK:
		t.Alert, t.Fires = AlertErrorBudgetBurn, burn
	}
	return t
}

// fastFires is when LLMProbeProviderDown fires at the worst alignment of
// probes, scrapes, evaluations and failures: it simulates every region's
// failed-probe counter, the scraped samples and the rule's increase() over
// the window as Prometheus computes it, for a grid of phases, and returns
// the latest first firing. False when it never fires at this rate (too few
// failures fit in the window).
func (s Spec) fastFires(p Profile, errorRate float64) (time.Duration, bool) {
	interval := time.Duration(s.ProbeInterval)
	scrape := time.Duration(s.ScrapeInterval)
	eval := p.ScaleAtLeast(time.Duration(s.ProviderDown.EvaluationInterval), time.Second)
	window := s.FastWindow()
	horizon := window + 4*interval + 2*scrape + 2*eval
	const grid = 6
	var worst time.Duration
	for pi := range grid { // the outage starts at 0; the next probe comes after (pi+1)/grid of an interval
		for si := range grid {
			for ei := range grid {
				for fi := range grid {
					probeAt := time.Duration(pi+1) * interval / grid
					scrapeAt := time.Duration(si) * scrape / grid
					evalAt := time.Duration(ei) * eval / grid
					phase := float64(fi) / grid
					at, ok := s.simulateFast(errorRate, eval, probeAt, scrapeAt, evalAt, phase, horizon)
					if !ok {
						return 0, false
					}
					worst = max(worst, at)
				}
			}
		}
	}
	return worst, true
}

// simulateFast runs one alignment: the first probe after the outage's start
// at probeAt, scrapes at scrapeAt + k*scrape, evaluations at evalAt +
// k*eval, and failures evenly spread with the given phase (probe j fails
// when floor(rate*j + phase) grows). Every region behaves the same: the
// worst case for a quorum.
func (s Spec) simulateFast(rate float64, eval, probeAt, scrapeAt, evalAt time.Duration, phase float64, horizon time.Duration) (time.Duration, bool) {
	interval := time.Duration(s.ProbeInterval)
	scrape := time.Duration(s.ScrapeInterval)
	window := s.FastWindow()
	// failedAt is the failed-probe counter at time t (0 before the outage).
	failedAt := func(t time.Duration) float64 {
		if t < probeAt {
			return 0
		}
		j := int((t-probeAt)/interval) + 1 // probes done since the outage started
		return math.Floor(rate*float64(j) + phase)
	}
	for t := evalAt - eval; t <= horizon; t += eval {
		if t <= 0 {
			continue
		}
		// Samples in (t-window, t], scraped at scrapeAt + k*scrape; before
		// the outage the counter is flat.
		var ts []time.Duration
		var vs []float64
		first := scrapeAt + ((t-window-scrapeAt)/scrape)*scrape
		for at := first; at <= t; at += scrape {
			if at > t-window {
				ts = append(ts, at)
				vs = append(vs, failedAt(at))
			}
		}
		f := extrapolatedIncrease(ts, vs, t-window, t)
		if f+1e-9 >= float64(s.ProviderDown.MinRegionFailedProbes) && f*float64(s.Regions)+1e-9 >= float64(s.ProviderDown.MinFailedProbes) && s.Regions >= s.Quorum() {
			// The alert group reads the recording at its next evaluation,
			// at worst one interval later.
			return t + eval, true
		}
	}
	return 0, false
}

// extrapolatedIncrease is Prometheus' increase() over the range (start,
// end] of a counter without resets: the difference of the last and first
// sample, extrapolated toward the range's ends by at most half a sample
// interval each side (further when the samples reach within 1.1 intervals
// of an end), and never back past the counter's zero.
func extrapolatedIncrease(ts []time.Duration, vs []float64, start, end time.Duration) float64 {
	if len(ts) < 2 {
		return 0
	}
	result := vs[len(vs)-1] - vs[0]
	sampled := (ts[len(ts)-1] - ts[0]).Seconds()
	toStart := (ts[0] - start).Seconds()
	toEnd := (end - ts[len(ts)-1]).Seconds()
	avg := sampled / float64(len(ts)-1)
	if result > 0 && vs[0] >= 0 {
		if toZero := sampled * vs[0] / result; toZero < toStart {
			toStart = toZero
		}
	}
	threshold := avg * 1.1
	extended := sampled
	if toStart < threshold {
		extended += toStart
	} else {
		extended += avg / 2
	}
	if toEnd < threshold {
		extended += toEnd
	} else {
		extended += avg / 2
	}
	return result * extended / sampled
}

// burnFires is when the paging burn-rate alert fires at a constant error
// rate after long healthy history: the first time both windows of a page
// condition burn above its factor with enough failed probes, plus the worst
// scrape and the two evaluation intervals (recording, then alerting).
func (s Spec) burnFires(p Profile, objective, errorRate float64) (time.Duration, bool) {
	budget := 1 - objective
	best := time.Duration(math.MaxInt64)
	for _, bw := range BurnWindowsFor(SeverityPage) {
		need := bw.Factor(time.Duration(s.Window)) * budget
		if errorRate <= need {
			continue
		}
		long, short := p.Scale(bw.Long), p.Scale(bw.Short)
		// The error ratio over a window w is errorRate * min(t, w) / w.
		t := time.Duration(math.Max(need/errorRate*float64(long), need/errorRate*float64(short)))
		// Enough failed probes in the long window.
		probesPerSecond := float64(s.Regions) / time.Duration(s.ProbeInterval).Seconds()
		minT := time.Duration(float64(s.MinFailedProbes) / (errorRate * probesPerSecond) * float64(time.Second))
		best = min(best, max(t, minT))
	}
	if best == time.Duration(math.MaxInt64) {
		return 0, false
	}
	evalRecording := p.ScaleAtLeast(30*time.Second, time.Second)
	return best + time.Duration(s.ProbeInterval) + time.Duration(s.ScrapeInterval) + 2*evalRecording, true
}

// PageGroupWait is the Alertmanager group_wait of a page that is not a
// provider's edge-layer page: short, so that a total outage seen from 30s
// probes reaches the receiver within two minutes at worst.
func PageGroupWait(p Profile) time.Duration { return p.ScaleAtLeast(10*time.Second, time.Second) }

// EdgeGroupWait is the group_wait of a provider's edge-layer page: long
// enough for a shared-edge incident on the same CDN to fire and inhibit it.
func EdgeGroupWait(p Profile) time.Duration { return p.ScaleAtLeast(90*time.Second, 5*time.Second) }

// PagingReport is what `llmprobe generate` prints about paging: the
// worst-case time to page for a total outage and for 30% and 10% error
// rates, per objective, and the false-page rate at NoiseRate.
func (s Spec) PagingReport(p Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "time to page, worst case (every region's probes failing; probe every %s from %d regions, scrape every %s, fast rules every %s; an edge-layer page waits %s instead of %s in Alertmanager):\n",
		s.ProbeInterval, s.Regions, s.ScrapeInterval, FormatDuration(p.ScaleAtLeast(time.Duration(s.ProviderDown.EvaluationInterval), time.Second)), FormatDuration(EdgeGroupWait(p)), FormatDuration(PageGroupWait(p)))
	objectives := map[float64][]string{}
	for _, o := range s.SLOs() {
		if o.SLI != SLOAvailability {
			continue
		}
		name := o.Check
		if !containsString(objectives[o.Objective], name) {
			objectives[o.Objective] = append(objectives[o.Objective], name)
		}
	}
	var keys []float64
	for k := range objectives {
		keys = append(keys, k)
	}
	sort.Float64s(keys)
	for _, obj := range keys {
		fmt.Fprintf(&b, "  objective %s (%s):\n", promql.Num(obj), strings.Join(objectives[obj], ", "))
		for _, rate := range []float64{1, 0.3, 0.1} {
			t := s.TimeToPage(p, obj, rate)
			what := fmt.Sprintf("%3.0f%% of probes failing", rate*100)
			if t.Alert == "" {
				fmt.Fprintf(&b, "    %s: never pages\n", what)
				continue
			}
			fmt.Fprintf(&b, "    %s: %s fires after %s, + group_wait %s = %s\n", what, t.Alert, FormatDuration(t.Fires.Round(time.Second)),
				FormatDuration(t.GroupWait), FormatDuration(t.Total().Round(time.Second)))
		}
	}
	fmt.Fprintf(&b, "false pages: with %s of probes failing at random, LLMProbeProviderDown fires by chance at most %.2f times per check per 30 days\n",
		promql.Num(NoiseRate*100)+"%", s.FalsePages(NoiseRate))
	return b.String()
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
