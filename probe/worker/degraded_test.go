package worker

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

func TestBucketQuantileInterpolatesAsHistogramQuantile(t *testing.T) {
	counts := make([]uint32, len(probe.DurationBuckets)+1)
	// 100 probes: 90 in (0.25, 0.5], 10 in (1, 2]. The 95th is halfway
	// into the (1, 2] bucket: 1.5s, as histogram_quantile reads it.
	counts[bucketIndex(0.4)] = 90
	counts[bucketIndex(1.5)] = 10
	if got := bucketQuantile(0.95, counts); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("p95 %v, want 1.5", got)
	}
	if got := bucketQuantile(0.5, counts); math.Abs(got-(0.25+0.25*50/90)) > 1e-9 {
		t.Errorf("p50 %v", got)
	}
	inf := make([]uint32, len(counts))
	inf[len(inf)-1] = 3
	if got := bucketQuantile(0.95, inf); got != probe.DurationBuckets[len(probe.DurationBuckets)-1] {
		t.Errorf("all in +Inf: %v, want the highest bound", got)
	}
}

// storeWithHistory records a day of chat probes at ttfb, one a minute, then
// the last ten minutes at recent, and returns the check's report.
func storeWithHistory(t *testing.T, kind probe.Kind, ttfb, recent time.Duration) CheckReport {
	t.Helper()
	c := check(t, "gemini", kind)
	s := NewStatusStore("eu-west", []probe.Check{c}, 60, newFakeClockAt(fixtureNow), nil)
	for i := 24 * 60; i >= 1; i-- {
		d := ttfb
		if i <= 10 {
			d = recent
		}
		r := result(c, fixtureNow.Add(-time.Duration(i)*time.Minute), probe.OutcomeSuccess, probe.ReasonOK, 200, "google", "origin", "")
		r.Timings.TTFB, r.Timings.TTFT = d, d
		s.Record(c, r)
	}
	return s.Report().Checks[0]
}

func TestAStallThreeTimesItsBaselineIsDegradedNotDown(t *testing.T) {
	for _, kind := range []probe.Kind{probe.KindChat, probe.KindStream} {
		cr := storeWithHistory(t, kind, 400*time.Millisecond, 4*time.Second)
		want := probe.PhaseTTFB
		if kind == probe.KindStream {
			want = probe.PhaseTTFT
		}
		if cr.Degraded == nil || cr.Degraded.Phase != want || cr.Degraded.RecentP95ms != 4000 || cr.Degraded.BaselineP95ms < 400 || cr.Degraded.BaselineP95ms > 500 {
			t.Fatalf("%s: degraded %+v, want %s at 4000 ms over a baseline in its 250-500 ms bucket", kind, cr.Degraded, want)
		}
		if cr.State != probe.OutcomeSuccess {
			t.Errorf("a slow check is still up: state %s", cr.State)
		}
	}
}

func TestSlownessBelowTheFactorOrTheFloorIsNotDegraded(t *testing.T) {
	for _, tc := range []struct {
		name           string
		usual, now     time.Duration
		wantDegraded   bool
		wantExplaining string
	}{
		{"twice as slow is not three times", 600 * time.Millisecond, 1200 * time.Millisecond, false, "below the factor"},
		{"a fast check tripling stays under the floor", 20 * time.Millisecond, 90 * time.Millisecond, false, "below degraded.minLatency"},
		{"ten times as slow is degraded", 300 * time.Millisecond, 3 * time.Second, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := storeWithHistory(t, probe.KindChat, tc.usual, tc.now)
			if got := cr.Degraded != nil; got != tc.wantDegraded {
				t.Fatalf("degraded %+v, want %v (%s)", cr.Degraded, tc.wantDegraded, tc.wantExplaining)
			}
		})
	}
}

func TestTheStatusPageAndAPIShowADegradedCheck(t *testing.T) {
	c := check(t, "gemini", probe.KindChat)
	pol := &Politeness{Interval: time.Minute, DailyRequests: 10000, DailyTokens: 100000}
	s := NewStatusStore("eu-west", []probe.Check{c}, 60, newFakeClockAt(fixtureNow), pol)
	canary := true
	for i := 24 * 60; i >= 1; i-- {
		r := result(c, fixtureNow.Add(-time.Duration(i)*time.Minute), probe.OutcomeSuccess, probe.ReasonOK, 200, "google", "origin", "")
		r.Answer, r.CanaryOK = "pong", &canary
		r.Timings.TTFB = 300 * time.Millisecond
		if i <= 10 {
			r.Timings.TTFB = 5 * time.Second
		}
		s.Record(c, r)
	}
	doc, err := json.Marshal(s.Report())
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(compileSchema(t), doc); err != nil {
		t.Fatalf("a report with a degraded check does not match the schema: %v", err)
	}
	if !strings.Contains(string(doc), `"degraded":{"phase":"ttfb","recent_p95_ms":5000,`) {
		t.Errorf("/api/status lacks the degraded state: %s", doc)
	}
	_, body := serve(t, s, http.MethodGet, "/")
	if !strings.Contains(body, `data-degraded="ttfb"`) || !strings.Contains(body, "Slow: p95 TTFB 5.00 s") {
		t.Errorf("the page does not say the check is slow:\n%s", body)
	}
}

func TestUnmeasuredProbesShowButCountInNoAvailability(t *testing.T) {
	c := check(t, "openai", probe.KindReach)
	s := NewStatusStore("eu-west", []probe.Check{c}, 60, newFakeClockAt(fixtureNow), nil)
	s.Record(c, result(c, fixtureNow.Add(-3*time.Minute), probe.OutcomeSuccess, probe.ReasonOK, 401, "cloudflare", "origin", ""))
	s.RecordUnmeasured(c, result(c, fixtureNow.Add(-2*time.Minute), probe.OutcomeNetworkError, probe.ReasonConnectRefused, 0, "", "none", "connection refused"))
	s.RecordUnmeasured(c, result(c, fixtureNow.Add(-time.Minute), probe.OutcomeNetworkError, probe.ReasonConnectRefused, 0, "", "none", "connection refused"))
	cr := s.Report().Checks[0]
	if a := cr.Availability["1h"]; a.Total != 1 || a.Ratio == nil || *a.Ratio != 1 {
		t.Errorf("1h availability %+v: the region's own network failures must not count", a)
	}
	if len(cr.Recent) != 3 || !cr.Recent[2].Unmeasured || cr.Recent[0].Unmeasured || cr.State != probe.OutcomeNetworkError {
		t.Errorf("recent %+v state %s: the unmeasured probes still show", cr.Recent, cr.State)
	}
}
