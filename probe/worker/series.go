package worker

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/llmprobe/llmprobe/probe"
)

// The per-check series: every series whose labels include a check's
// (provider, check, model, region). With 1,000 checks they are over 99 % of
// the worker's series, so how they are held and collected decides what a
// scrape costs and how much memory the worker keeps.
//
// What client_golang's vectors would do, and why this file does less:
//   - A vector finds a series by hashing its label values on every probe;
//     here each check keeps pointers to its own series (found once per
//     probe by one map lookup on the check).
//   - A vector's series owns its label pairs (six *dto.LabelPair, each
//     with two boxed strings: about 1 KiB a counter); here every distinct
//     pair (region="eu-west", outcome="success") exists once and series
//     share them. Nothing writes to a collected label pair, in client_golang
//     or in the encoders, so sharing them is as safe as a vector's reuse of
//     its own across scrapes.
//   - A vector collects in map order and Gather then sorts every family;
//     here each family is kept sorted in the order Gather sorts by (label
//     values in label-name order), so its sort finds it sorted in one pass.
//
// Histograms are histogramSeries (histogram.go): classic and native
// buckets and exemplars as client_golang writes them, in a fraction of its
// memory. The worker's Registry (gather.go) gathers all of them without
// the Collector path; any other registry collects checkCollector like any
// collector.

// checkID names a check as its labels do.
type checkID struct{ provider, kind, model, region string }

func idOf(c probe.Check) checkID { return checkID{c.Provider.ID, string(c.Kind), c.Model, c.Region} }

func idOfResult(r probe.Result) checkID {
	return checkID{r.Provider, string(r.Check), r.Model, r.Region}
}

// seriesFamily is one metric family's per-check series, appended as they
// are created and sorted before the next collection.
type seriesFamily struct {
	desc       *prometheus.Desc
	name, help string
	upper      []float64 // a histogram family's classic buckets
	kind       *dto.MetricType
	entries    []seriesEntry
	dirty      bool
}

// The entry holds the series' labels; the series holds only its values
// (a counter is 16 bytes): with 32 probes_total series a check, a label
// slice and a descriptor in every series were about 1.3 MiB of 1,000
// checks' live heap.
type seriesEntry struct {
	labels []*dto.LabelPair // sorted by name; shared, never written
	m      seriesValue
}

// seriesValue is a per-check series' values: counterSeries, gaugeSeries or
// histogramSeries.
type seriesValue interface {
	// writeTo fills out's value fields (not its labels) in newly
	// allocated messages.
	writeTo(out *dto.Metric)
}

// collected is a series as a prometheus.Metric, for a registry other than
// the worker's, which collects checkCollector as any collector.
type collected struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	v      seriesValue
}

func (c collected) Desc() *prometheus.Desc { return c.desc }

func (c collected) Write(out *dto.Metric) error {
	c.v.writeTo(out)
	out.Label = c.labels
	return nil
}

// less orders series as Gather does (internal.MetricSorter): by their
// label values, in label-name order.
func (e seriesEntry) less(o seriesEntry) bool {
	if len(e.labels) != len(o.labels) {
		return len(e.labels) < len(o.labels)
	}
	for i, p := range e.labels {
		if a, b := p.GetValue(), o.labels[i].GetValue(); a != b {
			return a < b
		}
	}
	return false
}

// checkSeries holds one check's series. A nil pointer is a series not
// created yet; pointers are set once, under checkCollector.mu, and read
// without it.
type checkSeries struct {
	id      checkID
	created *timestamppb.Timestamp

	probes     []atomic.Pointer[counterSeries]  // by index in probe.Reasons
	unmeasured [5]atomic.Pointer[counterSeries] // by index in probe.Outcomes
	skipped    [3]atomic.Pointer[counterSeries] // by index in skipReasons
	tokens     [2]atomic.Pointer[counterSeries] // input, output
	rateLimit  [2]atomic.Pointer[gaugeSeries]   // requests, tokens
	success    atomic.Pointer[gaugeSeries]
	lastRun    atomic.Pointer[gaugeSeries]
	backoff    atomic.Pointer[gaugeSeries]
	duration   [5]atomic.Pointer[histogramSeries] // by index in probe.Outcomes
	phase      [6]atomic.Pointer[histogramSeries] // by index in probe.Phases
	edge       atomic.Pointer[histogramSeries]
}

var skipReasons = []string{probe.SkipReasonBackoff, probe.SkipReasonBudget, probe.SkipReasonOverrun}

var directions = []string{"input", "output"}

var rateLimitKinds = []string{"requests", "tokens"}

// checkCollector is the prometheus.Collector of every per-check series.
type checkCollector struct {
	families []*seriesFamily // in name order, as Gather returns them
	probes, unmeasured, skipped, tokens, rateLimit,
	success, lastRun, backoff, duration, phase, edge *seriesFamily

	mu     sync.Mutex
	checks sync.Map // checkID -> *checkSeries
	pairs  map[[2]string]*dto.LabelPair
}

func newCheckCollector() *checkCollector {
	c := &checkCollector{pairs: map[[2]string]*dto.LabelPair{}}
	fam := func(kind dto.MetricType, name, help string, extra ...string) *seriesFamily {
		f := &seriesFamily{name: name, help: help, kind: kind.Enum(), desc: prometheus.NewDesc(name, help, with(extra...), nil)}
		c.families = append(c.families, f)
		return f
	}
	histogram := func(name, help string, upper []float64, extra ...string) *seriesFamily {
		f := fam(dto.MetricType_HISTOGRAM, name, help, extra...)
		f.upper = upper
		return f
	}
	counter, gauge := dto.MetricType_COUNTER, dto.MetricType_GAUGE
	c.probes = fam(counter, probe.MetricProbesTotal, "Finished probes by outcome and reason.", probe.LabelOutcome, probe.LabelReason)
	c.unmeasured = fam(counter, probe.MetricProbesUnmeasured,
		"Probes that finished while every control target failed from this region, by outcome: its own network was down, so the SLI rules leave them out.", probe.LabelOutcome)
	c.skipped = fam(counter, probe.MetricProbesSkipped, "Scheduled probes not sent: backing off after 429/529, daily budget spent, or the previous probe overran.", probe.LabelSkipReason)
	c.tokens = fam(counter, probe.MetricTokensTotal, "Tokens billed to the probe, by direction.", probe.LabelDirection)
	c.rateLimit = fam(gauge, probe.MetricRateLimitRemaining, "Rate-limit headroom the provider reported on the last response.", probe.LabelKind)
	c.success = fam(gauge, probe.MetricCheckSuccess, "1 if the last probe of the check succeeded, else 0.")
	c.lastRun = fam(gauge, probe.MetricCheckLastRun, "Unix time of the check's last finished probe.")
	c.backoff = fam(gauge, probe.MetricBackoff, "Seconds until a check backing off after a 429 or 529 probes again; 0 when not backing off.")
	c.duration = histogram(probe.MetricProbeDuration, "Duration of whole probes in seconds.", probe.DurationBuckets, probe.LabelOutcome)
	c.phase = histogram(probe.MetricPhaseDuration, "Duration of probe phases (dns, connect, tls, ttfb, ttft, transfer) in seconds.", probe.PhaseBuckets, probe.LabelPhase)
	c.edge = histogram(probe.MetricEdgeOverhead, "Time to first byte minus the origin's own reported processing time, in seconds.", probe.PhaseBuckets)
	slices.SortFunc(c.families, func(a, b *seriesFamily) int { return strings.Compare(a.name, b.name) })
	return c
}

// Describe sends the descriptors of every per-check family.
func (c *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range c.families {
		ch <- f.desc
	}
}

// Collect sends every created series, each family in Gather's order. The
// entries are snapshotted under the lock and sent without it: series are
// only appended, and a sort writes a new array, so a snapshot stays valid
// while probes create series.
func (c *checkCollector) Collect(ch chan<- prometheus.Metric) {
	for i, entries := range c.snapshot() {
		for _, e := range entries {
			ch <- collected{c.families[i].desc, e.labels, e.m}
		}
	}
}

// snapshot returns each family's series in Gather's order.
func (c *checkCollector) snapshot() [][]seriesEntry {
	snap := make([][]seriesEntry, len(c.families))
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.families {
		if f.dirty {
			f.entries = slices.Clone(f.entries)
			sort.Slice(f.entries, func(a, b int) bool { return f.entries[a].less(f.entries[b]) })
			f.dirty = false
		}
		snap[i] = f.entries
	}
	return snap
}

// check returns the series of a check, registering it on first use.
func (c *checkCollector) check(id checkID) *checkSeries {
	if cs, ok := c.checks.Load(id); ok {
		return cs.(*checkSeries)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.checks.Load(id); ok {
		return cs.(*checkSeries)
	}
	cs := &checkSeries{id: id, created: timestamppb.Now(), probes: make([]atomic.Pointer[counterSeries], len(probe.Reasons))}
	c.checks.Store(id, cs)
	return cs
}

// pair returns the one label pair name=value. Called with c.mu held.
func (c *checkCollector) pair(name, value string) *dto.LabelPair {
	k := [2]string{name, value}
	if p, ok := c.pairs[k]; ok {
		return p
	}
	p := &dto.LabelPair{Name: &k[0], Value: &k[1]}
	c.pairs[k] = p
	return p
}

// labels returns the check's label pairs and extra name, value pairs,
// sorted by name as client_golang sorts them. Called with c.mu held.
func (c *checkCollector) labels(id checkID, extra ...string) []*dto.LabelPair {
	ls := make([]*dto.LabelPair, 0, 4+len(extra)/2)
	ls = append(ls, c.pair(probe.LabelProvider, id.provider), c.pair(probe.LabelCheck, id.kind), c.pair(probe.LabelModel, id.model), c.pair(probe.LabelRegion, id.region))
	for i := 0; i+1 < len(extra); i += 2 {
		ls = append(ls, c.pair(extra[i], extra[i+1]))
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].GetName() < ls[j].GetName() })
	return ls
}

// add appends a created series to its family. Called with c.mu held.
func (f *seriesFamily) add(labels []*dto.LabelPair, m seriesValue) {
	f.entries = append(f.entries, seriesEntry{labels: labels, m: m})
	f.dirty = true
}

// slotSeries returns the series in slot, or creates it with create (at
// zero) under the collector's lock, adds it to f and keeps it in slot.
func slotSeries[T any, P interface {
	*T
	seriesValue
}](c *checkCollector, cs *checkSeries, slot *atomic.Pointer[T], f *seriesFamily, extra []string, create func() P) *T {
	if s := slot.Load(); s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := slot.Load(); s != nil {
		return s
	}
	ls := c.labels(cs.id, extra...)
	s := create()
	f.add(ls, s)
	slot.Store((*T)(s))
	return s
}

// counter returns the counter in slot, creating it at zero.
func (c *checkCollector) counter(cs *checkSeries, slot *atomic.Pointer[counterSeries], f *seriesFamily, extra ...string) *counterSeries {
	return slotSeries(c, cs, slot, f, extra, func() *counterSeries {
		return &counterSeries{created: cs.created}
	})
}

// gauge returns the gauge in slot, creating it at zero.
func (c *checkCollector) gauge(cs *checkSeries, slot *atomic.Pointer[gaugeSeries], f *seriesFamily, extra ...string) *gaugeSeries {
	return slotSeries(c, cs, slot, f, extra, func() *gaugeSeries {
		return &gaugeSeries{}
	})
}

// histogram returns the histogram in slot, creating it empty.
func (c *checkCollector) histogram(cs *checkSeries, slot *atomic.Pointer[histogramSeries], f *seriesFamily, extra ...string) *histogramSeries {
	return slotSeries(c, cs, slot, f, extra, func() *histogramSeries {
		return newHistogramSeries(f.upper)
	})
}

// counterSeries is one counter of a check. Its counts are whole numbers
// (probes, tokens), kept as an integer.
type counterSeries struct {
	created *timestamppb.Timestamp // the check's
	n       atomic.Uint64
}

func (s *counterSeries) add(n uint64) { s.n.Add(n) }

func (s *counterSeries) value() float64 { return float64(s.n.Load()) }

func (s *counterSeries) writeTo(out *dto.Metric) {
	v := s.value()
	out.Counter = &dto.Counter{Value: &v, CreatedTimestamp: s.created}
}

// gaugeSeries is one gauge of a check.
type gaugeSeries struct {
	bits atomic.Uint64
}

func (s *gaugeSeries) set(v float64) { s.bits.Store(math.Float64bits(v)) }

func (s *gaugeSeries) value() float64 { return math.Float64frombits(s.bits.Load()) }

func (s *gaugeSeries) writeTo(out *dto.Metric) {
	v := s.value()
	out.Gauge = &dto.Gauge{Value: &v}
}
