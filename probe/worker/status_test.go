package worker

import (
	"testing"
	"time"
	"unsafe"

	"github.com/llmprobe/llmprobe/probe"
)

func TestStatusReportCountsOutcomesOverHourAndDay(t *testing.T) {
	now := time.Date(2026, 4, 20, 15, 44, 0, 0, time.UTC)
	c := probe.Check{Provider: probe.CustomProvider("x", "http://127.0.0.1:1/v1", "m"), Kind: probe.KindReach, Region: "r"}
	s := NewStatusStore("r", []probe.Check{c}, 3, newFakeClockAt(now), nil)
	if s.Ready() {
		t.Fatal("ready before the first probe")
	}
	add := func(ago time.Duration, o probe.Outcome, ttfb time.Duration) {
		s.Record(c, probe.Result{Provider: "x", Check: probe.KindReach, Outcome: o, StartedAt: now.Add(-ago), Timings: probe.Timings{TTFB: ttfb}})
	}
	add(30*time.Hour, probe.OutcomeSuccess, time.Millisecond) // outside both windows
	add(5*time.Hour, probe.OutcomeEdgeError, 0)               // day only
	add(50*time.Minute, probe.OutcomeProbeError, 0)
	add(10*time.Minute, probe.OutcomeSuccess, 100*time.Millisecond)
	add(time.Minute, probe.OutcomeSuccess, 300*time.Millisecond)
	if !s.Ready() {
		t.Fatal("not ready after probes")
	}
	rep := s.Report()
	cr := rep.Checks[0]
	hour, day := cr.Availability["1h"], cr.Availability["24h"]
	if hour.Total != 3 || hour.ByOutcome[probe.OutcomeSuccess] != 2 || *hour.Ratio != 1 {
		t.Errorf("1h %+v ratio %v, want 3 probes, 2 successes, ratio 1 (probe_error is not valid)", hour, *hour.Ratio)
	}
	if day.Total != 4 || day.ByOutcome[probe.OutcomeEdgeError] != 1 || *day.Ratio != 2.0/3 {
		t.Errorf("24h %+v ratio %v, want 4 probes, ratio 2/3", day, *day.Ratio)
	}
	if len(cr.Recent) != 3 || cr.State != probe.OutcomeSuccess || cr.LastFailure.Outcome != probe.OutcomeProbeError {
		t.Errorf("recent %d state %s last failure %+v", len(cr.Recent), cr.State, cr.LastFailure)
	}
	if cr.TTFB.P50 != 100 && cr.TTFB.P50 != 300 || cr.TTFB.P95 != 300 {
		t.Errorf("ttfb percentiles %+v", cr.TTFB)
	}
}

// TestSamplesKeepStatusAndUnmeasuredInOneField packs the unmeasured flag
// into the status field's top bit (a sample is 24 bytes, 60 of them a
// check): the two must come back apart, whatever the status.
func TestSamplesKeepStatusAndUnmeasuredInOneField(t *testing.T) {
	if size := unsafe.Sizeof(sample{}); size != 24 {
		t.Errorf("a sample is %d bytes, want 24", size)
	}
	if size := unsafe.Sizeof(latencySlot{}); size != 40 {
		t.Errorf("a latency slot is %d bytes, want 40", size)
	}
	at := time.Date(2026, 4, 20, 15, 44, 0, 123, time.UTC)
	for _, tc := range []struct {
		status, want int
		unmeasured   bool
	}{
		{200, 200, false}, {529, 529, true}, {0, 0, true}, {999, 999, false},
		{-1, 0, false}, {1 << 15, 1<<15 - 1, false}, {1 << 20, 1<<15 - 1, true},
	} {
		r := probe.Result{Outcome: probe.OutcomeOriginError, Reason: probe.ReasonOverloaded, StatusCode: tc.status, StartedAt: at,
			Timings: probe.Timings{TTFB: 1500 * time.Microsecond, Total: 2 * time.Second}}
		got := packSample(r, tc.unmeasured).Sample()
		if got.StatusCode != tc.want || got.Unmeasured != tc.unmeasured {
			t.Errorf("status %d, unmeasured %v: got status %d, unmeasured %v", tc.status, tc.unmeasured, got.StatusCode, got.Unmeasured)
		}
		if !got.At.Equal(at) || got.Outcome != r.Outcome || got.Reason != r.Reason || got.TTFBms != 1.5 || got.TotalMs != 2000 {
			t.Errorf("status %d: unpacked %+v", tc.status, got)
		}
	}
}

// TestLatencyCountsStopAtTheirMaximum fills one hour's bucket past what a
// uint16 holds: it must saturate, not wrap to a small count.
func TestLatencyCountsStopAtTheirMaximum(t *testing.T) {
	var h latencyHistory
	at := time.Date(2026, 4, 20, 15, 0, 0, 0, time.UTC)
	for range 1<<16 + 10 {
		h.add(at, 300*time.Millisecond)
	}
	p95, n := h.baselineP95(at.Add(time.Hour))
	if n != 1<<16-1 || p95 <= 0 {
		t.Errorf("baseline rests on %d samples (p95 %v ms), want %d", n, p95, 1<<16-1)
	}
}

// TestWindowRingForgetsWhatItNoLongerHolds drives an hour of minute
// buckets through what the ring's position-only buckets must get right: a
// bucket reused a full ring later, a result older than the newest, one too
// old to hold, and a gap longer than the ring.
func TestWindowRingForgetsWhatItNoLongerHolds(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	w := newWindow(time.Minute, 60)
	total := func(now int, span time.Duration) (int, int) {
		a := w.availability(minute(now), span)
		return a.Total, a.ByOutcome[probe.OutcomeEdgeError]
	}
	w.add(minute(0), probe.OutcomeEdgeError)
	w.add(minute(30), probe.OutcomeSuccess)
	w.add(minute(10), probe.OutcomeSuccess) // older than the newest: still counted
	if n, edge := total(30, time.Hour); n != 3 || edge != 1 {
		t.Errorf("at minute 30: %d probes, %d edge errors, want 3 and 1", n, edge)
	}
	w.add(minute(60), probe.OutcomeSuccess) // minute 0's bucket, a ring later
	if n, edge := total(60, time.Hour); n != 3 || edge != 0 {
		t.Errorf("at minute 60: %d probes, %d edge errors, want 3 (minutes 10, 30, 60) and 0", n, edge)
	}
	w.add(minute(0), probe.OutcomeEdgeError) // too old for the ring now
	if n, _ := total(60, time.Hour); n != 3 {
		t.Errorf("a result a ring older than the newest was counted: %d probes, want 3", n)
	}
	if n, _ := total(60, 20*time.Minute); n != 1 {
		t.Errorf("last 20 minutes at minute 60: %d probes, want 1", n)
	}
	w.add(minute(500), probe.OutcomeOriginError) // a gap longer than the ring
	if n, _ := total(500, time.Hour); n != 1 {
		t.Errorf("after a long gap: %d probes, want 1", n)
	}
	if n, _ := total(5000, time.Hour); n != 0 {
		t.Errorf("long after the last result: %d probes, want 0", n)
	}
	w.add(time.Unix(-120, 0), probe.OutcomeSuccess) // before 1970: ignored, not a panic
}
