package worker

import (
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Registry is the worker's metrics registry: a client_golang Registry for
// everything but the per-check series, and those (series.go) gathered
// apart. prometheus.Registry's Gather checks every collected metric
// against every other (valid names, valid UTF-8, no duplicate label set,
// by hashing each) and allocates a fresh protobuf message for each: with
// 1,000 checks that was half of a scrape's CPU and most of its garbage.
// The per-check series are unique and valid by construction (one slot per
// label set, values from validated settings and fixed lists), so Registry
// skips those checks for them, writes them into messages reused from one
// scrape to the next, and merges them with the registry's families.
//
// Register other collectors on the embedded Registry as usual; Gather
// returns the whole, and TransactionalGatherer is what /metrics serves.
type Registry struct {
	*prometheus.Registry

	mu     sync.Mutex
	checks *checkCollector  // set by NewMetrics
	free   []*gatherBuffers // reused between scrapes, at most one per scrape in flight
}

// NewRegistry returns an empty worker registry.
func NewRegistry() *Registry { return &Registry{Registry: prometheus.NewRegistry()} }

var _ prometheus.TransactionalGatherer = transactional{}

// Gather returns every family, the per-check ones in newly allocated
// messages: it is safe to keep the result.
func (r *Registry) Gather() ([]*dto.MetricFamily, error) {
	mfs, _, err := r.gather(&gatherBuffers{})
	return mfs, err
}

// TransactionalGatherer gathers into reused messages; the caller must call
// done once it no longer reads the result (promhttp does).
func (r *Registry) TransactionalGatherer() prometheus.TransactionalGatherer {
	return transactional{r}
}

type transactional struct{ r *Registry }

func (t transactional) Gather() ([]*dto.MetricFamily, func(), error) {
	if t.r == nil {
		return nil, func() {}, nil
	}
	t.r.mu.Lock()
	var buf *gatherBuffers
	if n := len(t.r.free); n > 0 {
		buf, t.r.free = t.r.free[n-1], t.r.free[:n-1]
	} else {
		buf = &gatherBuffers{}
	}
	t.r.mu.Unlock()
	mfs, buf, err := t.r.gather(buf)
	return mfs, func() {
		buf.release()
		t.r.mu.Lock()
		t.r.free = append(t.r.free, buf)
		t.r.mu.Unlock()
	}, err
}

func (r *Registry) gather(buf *gatherBuffers) ([]*dto.MetricFamily, *gatherBuffers, error) {
	mfs, err := r.Registry.Gather()
	r.mu.Lock()
	checks := r.checks
	r.mu.Unlock()
	if checks == nil {
		return mfs, buf, err
	}
	own := checks.gather(buf)
	out := make([]*dto.MetricFamily, 0, len(mfs)+len(own))
	i, j := 0, 0
	for i < len(mfs) || j < len(own) {
		switch {
		case j == len(own) || i < len(mfs) && mfs[i].GetName() < own[j].GetName():
			out = append(out, mfs[i])
			i++
		case i == len(mfs) || own[j].GetName() < mfs[i].GetName():
			out = append(out, own[j])
			j++
		default:
			// Registered elsewhere under a per-check family's name: a bug,
			// reported as client_golang reports a collision.
			err = fmt.Errorf("metric family %s registered twice: in the registry and as per-check series", own[j].GetName())
			out = append(out, mfs[i])
			i, j = i+1, j+1
		}
	}
	return out, buf, err
}

// gatherBuffers are the messages one gathering of the per-check series
// writes into; reused, they leave a scrape's garbage to the histograms
// (histogramSeries.Write says why those are not reused) and the encoders.
type gatherBuffers struct {
	families []dto.MetricFamily
	metrics  []dto.Metric
	counters []dto.Counter
	gauges   []dto.Gauge
	values   []float64
	ptrs     [][]*dto.Metric
}

// release drops what the histograms wrote, so that it is not kept alive
// until the next scrape.
func (b *gatherBuffers) release() {
	for i := range b.metrics {
		if b.metrics[i].Histogram != nil {
			b.metrics[i].Reset()
		}
	}
}

// grow returns s with length n, reusing its array when it is big enough.
// Reused elements are left as they were; callers set what they read.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/8)
}

// gather writes every created per-check series into buf and returns the
// non-empty families in name order, each's metrics in Gather's order.
func (c *checkCollector) gather(buf *gatherBuffers) []*dto.MetricFamily {
	snap := c.snapshot()
	total, counters, gauges := 0, 0, 0
	for i, s := range snap {
		total += len(s)
		switch *c.families[i].kind {
		case dto.MetricType_COUNTER:
			counters += len(s)
		case dto.MetricType_GAUGE:
			gauges += len(s)
		}
	}
	buf.families = grow(buf.families, len(c.families))
	buf.metrics = grow(buf.metrics, total)
	buf.counters = grow(buf.counters, counters)
	buf.gauges = grow(buf.gauges, gauges)
	buf.values = grow(buf.values, counters+gauges)
	buf.ptrs = grow(buf.ptrs, len(c.families))
	var out []*dto.MetricFamily
	k, nc, ng := 0, 0, 0
	for i, f := range c.families {
		if len(snap[i]) == 0 {
			continue
		}
		mf := &buf.families[i]
		mf.Reset()
		mf.Name, mf.Help, mf.Type = &f.name, &f.help, f.kind
		ptrs := grow(buf.ptrs[i], len(snap[i]))
		for n, e := range snap[i] {
			m := &buf.metrics[k]
			m.Reset()
			switch s := e.m.(type) {
			case *counterSeries:
				v := &buf.values[nc+ng]
				*v = s.value()
				cnt := &buf.counters[nc]
				nc++
				cnt.Reset()
				cnt.Value, cnt.CreatedTimestamp = v, s.created
				m.Label, m.Counter = s.labels, cnt
			case *gaugeSeries:
				v := &buf.values[nc+ng]
				*v = s.value()
				g := &buf.gauges[ng]
				ng++
				g.Reset()
				g.Value = v
				m.Label, m.Gauge = s.labels, g
			case *histogramSeries:
				_ = s.Write(m)
			}
			ptrs[n] = m
			k++
		}
		buf.ptrs[i] = ptrs
		mf.Metric = ptrs
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int {
		switch {
		case a.GetName() < b.GetName():
			return -1
		case a.GetName() > b.GetName():
			return 1
		}
		return 0
	})
	return out
}
