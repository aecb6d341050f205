package worker

import (
	"math"
	"slices"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/slo"
)

// Slow, not down. A check is degraded when the p95 of its slow phase (time
// to first token for streams, time to first byte otherwise) over the last
// degraded.window of successful probes is at least degraded.factor times
// its p95 over the day before, and at least degraded.minLatency: the same
// test as LLMProbeDegraded, here for one region, with the SLO spec's
// defaults, so the status page and /api/status show it too.

// degradedRule holds the thresholds: the SLO spec's defaults.
var degradedRule = slo.DefaultSpec(slo.DefaultProfile()).Degraded

// Degraded says how a degraded check is slow, in /api/status.
type Degraded struct {
	Phase         string  `json:"phase"` // ttfb or ttft
	RecentP95ms   float64 `json:"recent_p95_ms"`
	BaselineP95ms float64 `json:"baseline_p95_ms"`
}

// Enough samples for a p95 to mean something.
const (
	minRecentSamples   = 5
	minBaselineSamples = 20
)

// slowPhase is the phase whose slowness is the provider's for this check:
// time to first token for streams, time to first byte otherwise.
func slowPhase(c probe.Check, t probe.Timings) time.Duration {
	if c.Kind == probe.KindStream {
		return t.TTFT
	}
	return t.TTFB
}

func slowPhaseName(c probe.Check) string {
	if c.Kind == probe.KindStream {
		return probe.PhaseTTFT
	}
	return probe.PhaseTTFB
}

// latencyHistory keeps a day of a check's slow-phase durations as hourly
// histograms over probe.DurationBuckets: 960 bytes per check. An hour holds
// at most 3,600 probes (1 s interval), well within uint16; a count stops
// at its maximum rather than wrap.
type latencyHistory struct {
	slots [24]latencySlot
}

type latencySlot struct {
	hour   int32 // unix hour the counts are for (until the year 246,000)
	counts [17]uint16
}

func (h *latencyHistory) add(at time.Time, d time.Duration) {
	hour := int32(at.Unix() / 3600)
	s := &h.slots[hour%int32(len(h.slots))]
	if s.hour != hour {
		*s = latencySlot{hour: hour}
	}
	if c := &s.counts[bucketIndex(d.Seconds())]; *c < math.MaxUint16 {
		*c++
	}
}

// baselineP95 is the p95 in milliseconds of the slots of the day before
// the current hour, and how many samples it rests on.
func (h *latencyHistory) baselineP95(now time.Time) (float64, int) {
	cur := int32(now.Unix() / 3600)
	var counts [17]uint32
	n := 0
	for _, s := range h.slots {
		if s.hour >= cur || s.hour < cur-int32(len(h.slots)) {
			continue
		}
		for i, c := range s.counts {
			counts[i] += uint32(c)
			n += int(c)
		}
	}
	if n == 0 {
		return 0, 0
	}
	return bucketQuantile(0.95, counts[:]) * 1000, n
}

// bucketIndex is the bucket of a duration in seconds: the first bound at or
// above it, or the last (+Inf) bucket.
func bucketIndex(s float64) int {
	for i, b := range probe.DurationBuckets {
		if s <= b {
			return i
		}
	}
	return len(probe.DurationBuckets)
}

// bucketQuantile interpolates the q-quantile in seconds within the
// buckets, as Prometheus' histogram_quantile does; the +Inf bucket gives the
// highest finite bound.
func bucketQuantile(q float64, counts []uint32) float64 {
	total := 0
	for _, c := range counts {
		total += int(c)
	}
	rank := q * float64(total)
	seen := 0.0
	for i, c := range counts {
		if seen+float64(c) >= rank && c > 0 {
			if i == len(probe.DurationBuckets) {
				return probe.DurationBuckets[len(probe.DurationBuckets)-1]
			}
			lower := 0.0
			if i > 0 {
				lower = probe.DurationBuckets[i-1]
			}
			return lower + (probe.DurationBuckets[i]-lower)*(rank-seen)/float64(c)
		}
		seen += float64(c)
	}
	return 0
}

// degradedNow says whether a check is degraded, from its recent samples
// and its day of history.
func degradedNow(c probe.Check, recent []Sample, h *latencyHistory, now time.Time) *Degraded {
	var v []float64
	for _, s := range recent {
		if s.Unmeasured || s.Outcome != probe.OutcomeSuccess || now.Sub(s.At) > time.Duration(degradedRule.Window) {
			continue
		}
		ms := s.TTFBms
		if c.Kind == probe.KindStream {
			ms = s.TTFTms
		}
		if ms > 0 {
			v = append(v, ms)
		}
	}
	if len(v) < minRecentSamples {
		return nil
	}
	slices.Sort(v)
	recent95 := v[int(0.95*float64(len(v)-1)+0.5)]
	base, n := h.baselineP95(now)
	if n < minBaselineSamples || base <= 0 {
		return nil
	}
	if recent95 < degradedRule.Factor*base || recent95 < float64(time.Duration(degradedRule.MinLatency).Milliseconds()) {
		return nil
	}
	return &Degraded{Phase: slowPhaseName(c), RecentP95ms: recent95, BaselineP95ms: base}
}
