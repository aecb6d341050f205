package worker

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// StatusStore keeps, per check, the last result, recent history and
// outcome counts over the last hour and day: what /api/status and the status
// page serve, and what a gateway needs to fail over. Safe for concurrent use.
type StatusStore struct {
	region     string
	history    int
	clock      probe.Clock
	politeness *Politeness

	mu         sync.RWMutex
	checks     []*checkStatus
	index      map[string]*checkStatus
	controls   map[string]ControlReport
	components map[string][]StatusComponent
}

// NewStatusStore returns a store for the checks of one region. history is
// how many recent results each check keeps (default 60).
func NewStatusStore(region string, checks []probe.Check, history int, clock probe.Clock, pol *Politeness) *StatusStore {
	if history <= 0 {
		history = 60
	}
	if clock == nil {
		clock = probe.RealClock{}
	}
	s := &StatusStore{region: region, history: history, clock: clock, politeness: pol, index: map[string]*checkStatus{},
		controls: map[string]ControlReport{}, components: map[string][]StatusComponent{}}
	for _, c := range checks {
		cs := &checkStatus{check: c, hour: newWindow(time.Minute, 60), day: newWindow(15*time.Minute, 96), skipped: map[string]int{}}
		s.checks = append(s.checks, cs)
		s.index[checkKey(c)] = cs
	}
	return s
}

type checkStatus struct {
	check       probe.Check
	last        *probe.Result
	lastFailure *probe.Result
	recent      sampleRing // at most history
	hour, day   *window
	latency     latencyHistory
	skipped     map[string]int
	ranOnce     bool
}

// Sample is one past probe, small enough to keep many.
type Sample struct {
	At         time.Time     `json:"at"`
	Outcome    probe.Outcome `json:"outcome"`
	Reason     probe.Reason  `json:"reason"`
	StatusCode int           `json:"status_code"`
	TTFBms     float64       `json:"ttfb_ms"`
	TTFTms     float64       `json:"ttft_ms,omitempty"`
	TotalMs    float64       `json:"total_ms"`
	// Unmeasured: the region's own network was down (every control target
	// failed), so the probe counts in no availability.
	Unmeasured bool `json:"unmeasured,omitempty"`
}

// Record stores a finished probe.
func (s *StatusStore) Record(c probe.Check, r probe.Result) { s.record(c, r, false) }

// RecordUnmeasured stores a probe that finished while the region's own
// network was down: it shows in the recent history and the last result,
// but counts in no availability.
func (s *StatusStore) RecordUnmeasured(c probe.Check, r probe.Result) { s.record(c, r, true) }

func (s *StatusStore) record(c probe.Check, r probe.Result, unmeasured bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := s.index[checkKey(c)]
	if cs == nil {
		return
	}
	rr := r
	rr.Phases = nil // the trace's spans: neither the page nor the API shows them
	cs.last = &rr
	if !r.Success() {
		cs.lastFailure = &rr
	}
	cs.ranOnce = true
	cs.recent.add(s.history, packSample(r, unmeasured))
	if unmeasured {
		return
	}
	cs.hour.add(r.StartedAt, r.Outcome)
	cs.day.add(r.StartedAt, r.Outcome)
	if r.Success() {
		if d := slowPhase(c, r.Timings); d > 0 {
			cs.latency.add(r.StartedAt, d)
		}
	}
}

// Skip notes a scheduled probe that was not sent.
func (s *StatusStore) Skip(c probe.Check, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs := s.index[checkKey(c)]; cs != nil {
		cs.skipped[reason]++
		cs.ranOnce = true
	}
}

// Ready reports whether every check has had its first turn (a probe or a
// skip): /readyz.
func (s *StatusStore) Ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, cs := range s.checks {
		if !cs.ranOnce {
			return false
		}
	}
	return true
}

// SetControl stores a control target's last result.
func (s *StatusStore) SetControl(c ControlReport) {
	s.mu.Lock()
	s.controls[c.Target] = c
	s.mu.Unlock()
}

// SetStatusPage stores a provider's status-page components.
func (s *StatusStore) SetStatusPage(provider string, comps []StatusComponent) {
	s.mu.Lock()
	s.components[provider] = comps
	s.mu.Unlock()
}

// StatusReport is the /api/status document.
type StatusReport struct {
	Region      string             `json:"region"`
	GeneratedAt time.Time          `json:"generated_at"`
	Ready       bool               `json:"ready"`
	Checks      []CheckReport      `json:"checks"`
	Controls    []ControlReport    `json:"controls"`
	StatusPages []StatusPageReport `json:"status_pages"`
}

// CheckReport is one check's state in /api/status.
type CheckReport struct {
	Provider     string                  `json:"provider"`
	Check        probe.Kind              `json:"check"`
	Model        string                  `json:"model"`
	State        probe.Outcome           `json:"state"` // the last probe's outcome; "" before the first
	Reason       probe.Reason            `json:"reason"`
	Edge         string                  `json:"edge"`
	Last         *probe.Result           `json:"last"`
	LastFailure  *probe.Result           `json:"last_failure"`
	Recent       []Sample                `json:"recent"`
	Availability map[string]Availability `json:"availability"` // "1h", "24h"
	TTFB         Percentiles             `json:"ttfb"`
	// Degraded is set while the check is slow, not down: its p95 time to
	// first byte (first token for streams) well above its own baseline.
	Degraded *Degraded      `json:"degraded,omitempty"`
	Backoff  BackoffState   `json:"backoff"`
	Budget   *BudgetState   `json:"budget,omitempty"`
	Skipped  map[string]int `json:"skipped"`
}

// Availability counts probes by outcome over a span. Ratio is success over
// valid probes (probe_error excluded), nil when there were none.
type Availability struct {
	Total     int                   `json:"total"`
	ByOutcome map[probe.Outcome]int `json:"by_outcome"`
	Ratio     *float64              `json:"ratio"`
}

// Percentiles of recent successful probes, in milliseconds; 0 without data.
type Percentiles struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
}

// ControlReport is a control target's last result.
type ControlReport struct {
	Target    string    `json:"target"`
	URL       string    `json:"url"`
	Success   bool      `json:"success"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// StatusPageReport is a provider's public status page as last read.
type StatusPageReport struct {
	Provider   string            `json:"provider"`
	Components []StatusComponent `json:"components"`
}

// Report builds the /api/status document.
func (s *StatusStore) Report() StatusReport {
	now := s.clock.Now()
	rep := StatusReport{Region: s.region, GeneratedAt: now.UTC(), Ready: s.Ready(), Checks: []CheckReport{}, Controls: []ControlReport{}, StatusPages: []StatusPageReport{}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, cs := range s.checks {
		c := cs.check
		recent := cs.recent.samples()
		cr := CheckReport{Provider: c.Provider.ID, Check: c.Kind, Model: c.Model, Recent: recent,
			Availability: map[string]Availability{"1h": cs.hour.availability(now, time.Hour), "24h": cs.day.availability(now, 24*time.Hour)},
			TTFB:         ttfbPercentiles(recent), Backoff: s.politeness.Backoff(c, now), Skipped: map[string]int{}}
		for k, v := range cs.skipped {
			cr.Skipped[k] = v
		}
		cr.Degraded = degradedNow(c, recent, &cs.latency, now)
		if cs.last != nil {
			l := *cs.last
			cr.Last, cr.State, cr.Reason, cr.Edge = &l, l.Outcome, l.Reason, l.Edge
		}
		if cs.lastFailure != nil {
			f := *cs.lastFailure
			cr.LastFailure = &f
		}
		if c.Kind != probe.KindReach && s.politeness != nil {
			b := s.politeness.Budget(c.Provider.ID, now)
			cr.Budget = &b
		}
		rep.Checks = append(rep.Checks, cr)
	}
	for _, c := range s.controls {
		rep.Controls = append(rep.Controls, c)
	}
	sort.Slice(rep.Controls, func(i, j int) bool { return rep.Controls[i].Target < rep.Controls[j].Target })
	for p, comps := range s.components {
		rep.StatusPages = append(rep.StatusPages, StatusPageReport{Provider: p, Components: slices.Clone(comps)})
	}
	sort.Slice(rep.StatusPages, func(i, j int) bool { return rep.StatusPages[i].Provider < rep.StatusPages[j].Provider })
	return rep
}

func ttfbPercentiles(recent []Sample) Percentiles {
	var v []float64
	for _, s := range recent {
		if s.Outcome == probe.OutcomeSuccess && s.TTFBms > 0 {
			v = append(v, s.TTFBms)
		}
	}
	if len(v) == 0 {
		return Percentiles{}
	}
	sort.Float64s(v)
	at := func(q float64) float64 { return v[int(q*float64(len(v)-1)+0.5)] }
	return Percentiles{P50: at(0.5), P95: at(0.95)}
}

// sample is a Sample as the store keeps it: 24 bytes instead of 96, since
// a worker keeps LLMPROBE_HISTORY of them per check (60,000 for 1,000
// checks). Durations are whole microseconds, as Milliseconds rounds them.
type sample struct {
	at                      int64 // unix nanoseconds
	ttfbUs, ttftUs, totalUs uint32
	status                  uint16 // the HTTP status (3 digits), and unmeasuredBit
	outcome, reason         uint8  // indexes in probe.Outcomes and probe.Reasons; noIndex when not in them
}

const (
	noIndex       = math.MaxUint8
	unmeasuredBit = 1 << 15
)

func packSample(r probe.Result, unmeasured bool) sample {
	us := func(d time.Duration) uint32 {
		return uint32(min(max(d.Round(time.Microsecond).Microseconds(), 0), math.MaxUint32))
	}
	sm := sample{at: r.StartedAt.UnixNano(), ttfbUs: us(r.Timings.TTFB), ttftUs: us(r.Timings.TTFT), totalUs: us(r.Timings.Total),
		status: uint16(min(max(r.StatusCode, 0), unmeasuredBit-1)), outcome: noIndex, reason: noIndex}
	if unmeasured {
		sm.status |= unmeasuredBit
	}
	if i := outcomeIndex(r.Outcome); i >= 0 {
		sm.outcome = uint8(i)
	}
	if i := reasonIndex(r.Reason); i >= 0 && i < noIndex {
		sm.reason = uint8(i)
	}
	return sm
}

// Sample unpacks the sample as /api/status shows it.
func (sm sample) Sample() Sample {
	ms := func(us uint32) float64 { return float64(us) / 1e3 }
	out := Sample{At: time.Unix(0, sm.at), StatusCode: int(sm.status &^ unmeasuredBit), TTFBms: ms(sm.ttfbUs), TTFTms: ms(sm.ttftUs), TotalMs: ms(sm.totalUs),
		Unmeasured: sm.status&unmeasuredBit != 0}
	if int(sm.outcome) < len(probe.Outcomes) {
		out.Outcome = probe.Outcomes[sm.outcome]
	}
	if int(sm.reason) < len(probe.Reasons) {
		out.Reason = probe.Reasons[sm.reason].Reason
	}
	return out
}

// sampleRing keeps the last samples in a ring that grows to the history
// it is given and then overwrites its oldest.
type sampleRing struct {
	buf  []sample
	next int // where the next sample goes once buf is full
}

func (r *sampleRing) add(history int, sm sample) {
	if len(r.buf) < history {
		if r.buf == nil {
			r.buf = make([]sample, 0, history) // at once: appending would grow it to 64 for 60
		}
		r.buf = append(r.buf, sm)
		return
	}
	r.buf[r.next] = sm
	r.next = (r.next + 1) % len(r.buf)
}

// samples returns the samples oldest first, never nil.
func (r *sampleRing) samples() []Sample {
	out := make([]Sample, 0, len(r.buf))
	for i := range r.buf {
		out = append(out, r.buf[(r.next+i)%len(r.buf)].Sample())
	}
	return out
}

// window counts outcomes in fixed-width time buckets in a ring. The ring
// holds the slots (last-len, last]: which span a bucket counts follows from
// where it is, so a bucket is its five counts and nothing else (10 bytes; a
// check keeps 156 of them, an hour of minutes and a day of quarter hours).
// A minute or a quarter hour holds at most 900 probes (1 s interval), well
// within uint16; a count stops at its maximum rather than wrap.
type window struct {
	width   time.Duration
	last    int64 // the newest slot written (unix time / width); -1: none
	buckets [][5]uint16
}

func newWindow(width time.Duration, n int) *window {
	return &window{width: width, last: -1, buckets: make([][5]uint16, n)}
}

func outcomeIndex(o probe.Outcome) int {
	for i, v := range probe.Outcomes {
		if v == o {
			return i
		}
	}
	return -1
}

func (w *window) add(t time.Time, o probe.Outcome) {
	i := outcomeIndex(o)
	if i < 0 {
		return
	}
	slot, n := t.UnixNano()/int64(w.width), int64(len(w.buckets))
	switch {
	case slot < 0 || slot <= w.last-n:
		return // before 1970, or older than the ring holds
	case slot > w.last:
		// Moving on: the buckets of the slots skipped, and of the new one,
		// held counts of slots now too old.
		for s := max(w.last+1, slot-n+1); s <= slot; s++ {
			w.buckets[s%n] = [5]uint16{}
		}
		w.last = slot
	}
	if c := &w.buckets[slot%n][i]; *c < math.MaxUint16 {
		*c++
	}
}

func (w *window) availability(now time.Time, span time.Duration) Availability {
	a := Availability{ByOutcome: map[probe.Outcome]int{}}
	for _, o := range probe.Outcomes {
		a.ByOutcome[o] = 0
	}
	cur := now.UnixNano() / int64(w.width)
	oldest := (now.Add(-span).UnixNano()) / int64(w.width)
	n := int64(len(w.buckets))
	for slot := max(oldest+1, w.last-n+1, 0); slot <= min(cur, w.last); slot++ {
		for i, c := range w.buckets[slot%n] {
			a.ByOutcome[probe.Outcomes[i]] += int(c)
			a.Total += int(c)
		}
	}
	valid := 0
	for _, o := range probe.SLIOutcomes() {
		valid += a.ByOutcome[o]
	}
	if valid > 0 {
		r := float64(a.ByOutcome[probe.OutcomeSuccess]) / float64(valid)
		a.Ratio = &r
	}
	return a
}
