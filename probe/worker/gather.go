package worker

import (
	"fmt"
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
// skips those checks for them and merges them with the registry's
// families in name order.
//
// /metrics (MetricsHandler) never holds all of them as messages at once:
// it writes the per-check families one at a time into messages it reuses
// for the next (Registry.each). Gather returns the whole in fresh
// messages, for anything else that gathers.
//
// Register other collectors on the embedded Registry as usual.
type Registry struct {
	*prometheus.Registry

	mu     sync.Mutex
	checks *checkCollector // set by NewMetrics
}

// NewRegistry returns an empty worker registry.
func NewRegistry() *Registry { return &Registry{Registry: prometheus.NewRegistry()} }

// Gather returns every family in newly allocated messages: it is safe to
// keep the result. As prometheus.Gatherer's, it returns what it could
// gather beside an error.
func (r *Registry) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := r.Registry.Gather()
	var out []*dto.MetricFamily
	if merr := r.each(mfs, func(mf *dto.MetricFamily, pc *perCheck) bool {
		if pc != nil {
			mf = pc.write(&familyBuffer{})
		}
		out = append(out, mf)
		return true
	}); err == nil {
		err = merr
	}
	return out, err
}

// perCheck is one per-check family's series, as the scrape found them.
type perCheck struct {
	family  *seriesFamily
	entries []seriesEntry
}

// write writes the family into buf's messages and returns it.
func (pc *perCheck) write(buf *familyBuffer) *dto.MetricFamily {
	return pc.family.write(pc.entries, buf)
}

// each calls f with the registry's gathered families (mfs, as mf) and the
// per-check ones (as pc, with mf nil), in name order, until f returns
// false. A pc is only valid until f returns.
func (r *Registry) each(mfs []*dto.MetricFamily, f func(mf *dto.MetricFamily, pc *perCheck) bool) error {
	r.mu.Lock()
	checks := r.checks
	r.mu.Unlock()
	if checks == nil {
		for _, mf := range mfs {
			if !f(mf, nil) {
				break
			}
		}
		return nil
	}
	snap := checks.snapshot()
	own := checks.families
	var err error
	i, j := 0, 0
	for i < len(mfs) || j < len(own) {
		if j < len(own) && len(snap[j]) == 0 {
			j++ // no series yet: no family
			continue
		}
		var mf *dto.MetricFamily
		var pc *perCheck
		switch {
		case j == len(own) || i < len(mfs) && mfs[i].GetName() < own[j].name:
			mf = mfs[i]
			i++
		case i == len(mfs) || own[j].name < mfs[i].GetName():
			pc = &perCheck{own[j], snap[j]}
			j++
		default:
			// Registered elsewhere under a per-check family's name: a bug,
			// reported as client_golang reports a collision.
			err = fmt.Errorf("metric family %s registered twice: in the registry and as per-check series", mfs[i].GetName())
			mf = mfs[i]
			i, j = i+1, j+1
		}
		if !f(mf, pc) {
			break
		}
	}
	return err
}

// familyBuffer holds the messages of one per-check family while it is
// encoded, the histograms' included, or its protobuf bytes (protobuf.go);
// reused from one family to the next, a scrape allocates the messages or
// bytes of its largest family, and the encoders' buffers.
type familyBuffer struct {
	proto, metric, inner, prefix []byte
	protoMax                     int // the largest family in proto so far
	// text is a text family's next chunk (text.go).
	text []byte

	family   dto.MetricFamily
	metrics  []dto.Metric
	counters []dto.Counter
	gauges   []dto.Gauge
	values   []float64
	ptrs     []*dto.Metric
	hist     histSlab
}

// grow returns s with length n, reusing its array when it is big enough.
// Reused elements are left as they were; callers set what they read.
func grow[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n, n+n/8)
}

// write writes the family's series (entries, in Gather's order) into buf
// and returns its message, valid until buf is written again.
func (f *seriesFamily) write(entries []seriesEntry, buf *familyBuffer) *dto.MetricFamily {
	n := len(entries)
	buf.hist.reset()
	buf.metrics = grow(buf.metrics, n)
	buf.ptrs = grow(buf.ptrs, n)
	switch *f.kind {
	case dto.MetricType_COUNTER:
		buf.counters = grow(buf.counters, n)
		buf.values = grow(buf.values, n)
	case dto.MetricType_GAUGE:
		buf.gauges = grow(buf.gauges, n)
		buf.values = grow(buf.values, n)
	}
	for k, e := range entries {
		m := &buf.metrics[k]
		m.Reset()
		m.Label = e.labels
		switch s := e.m.(type) {
		case *counterSeries:
			v := &buf.values[k]
			*v = s.value()
			c := &buf.counters[k]
			c.Reset()
			c.Value, c.CreatedTimestamp = v, s.created
			m.Counter = c
		case *gaugeSeries:
			v := &buf.values[k]
			*v = s.value()
			g := &buf.gauges[k]
			g.Reset()
			g.Value = v
			m.Gauge = g
		case *histogramSeries:
			s.write(m, &buf.hist)
		}
		buf.ptrs[k] = m
	}
	mf := &buf.family
	mf.Reset()
	mf.Name, mf.Help, mf.Type, mf.Metric = &f.name, &f.help, f.kind, buf.ptrs
	return mf
}
