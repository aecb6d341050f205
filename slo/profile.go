package slo

import (
	"fmt"
	"time"
)

// Profile says how the generated rules treat time.
//
// The default profile is production: the SRE workbook's windows over a
// 30-day SLO. The test profile runs time 60 times faster so an end-to-end
// test can watch an incident page within about a minute: every range of a
// recording rule, every `for`, every rule group interval, the worker
// staleness limit and the Alertmanager group timings are divided by 60
// (Alertmanager timings never below one second), and the spec's default
// probe interval is 1s instead of 30s. Burn-rate factors, objectives,
// minimum failure counts and rule names are the same in both profiles, so
// dashboards and tests read the same series.
//
// In the test profile the 5m window becomes 5s: scrape the workers at 1s
// (2s at most), so that every short window holds at least two samples.
type Profile struct {
	Name      string
	TimeScale int // nominal spans are divided by this
}

// Profile names.
const (
	ProfileDefaultName = "default"
	ProfileTestName    = "test"
)

// DefaultProfile is production.
func DefaultProfile() Profile { return Profile{Name: ProfileDefaultName, TimeScale: 1} }

// TestProfile compresses time 60 times for end-to-end tests.
func TestProfile() Profile { return Profile{Name: ProfileTestName, TimeScale: 60} }

// ParseProfile returns the profile with the given name.
func ParseProfile(name string) (Profile, error) {
	switch name {
	case ProfileDefaultName:
		return DefaultProfile(), nil
	case ProfileTestName:
		return TestProfile(), nil
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want %s or %s)", name, ProfileDefaultName, ProfileTestName)
}

// Scale compresses a nominal span. It never returns less than a millisecond.
func (p Profile) Scale(d time.Duration) time.Duration {
	if p.TimeScale <= 1 {
		return d
	}
	s := (d / time.Duration(p.TimeScale)).Truncate(time.Millisecond)
	if s < time.Millisecond {
		s = time.Millisecond
	}
	return s
}

// ScaleAtLeast compresses a nominal span but not below min.
func (p Profile) ScaleAtLeast(d, min time.Duration) time.Duration {
	return max(p.Scale(d), min)
}

// Range is a scaled span written for PromQL or a rule file.
func (p Profile) Range(d time.Duration) string { return FormatDuration(p.Scale(d)) }

// defaultProbeInterval is the probe interval a spec assumes unless its file
// says otherwise: LLMPROBE_INTERVAL's default, or 1s in the test profile.
func (p Profile) defaultProbeInterval() time.Duration {
	if p.TimeScale > 1 {
		return time.Second
	}
	return 30 * time.Second
}

// defaultScrapeInterval is the scrape interval a spec assumes unless its
// file says otherwise: deploy/prometheus's 15s, or 1s in the test profile.
func (p Profile) defaultScrapeInterval() time.Duration {
	if p.TimeScale > 1 {
		return time.Second
	}
	return 15 * time.Second
}
