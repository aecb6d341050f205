package worker

import (
	"testing"
	"time"

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
