package ruleeval

import (
	"context"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// Store is an in-memory series store the PromQL engine queries: float
// samples only, appended in time order per series. Safe for concurrent
// use.
type Store struct {
	mu     sync.RWMutex
	series map[string]*memSeries   // by labels.String()
	byName map[string][]*memSeries // by metric name: selectors name one
}

type memSeries struct {
	lset    labels.Labels
	ts      []int64
	samples []chunks.Sample // the same samples, boxed once for the engine's iterators
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{series: map[string]*memSeries{}, byName: map[string][]*memSeries{}}
}

// Append adds a sample. A sample at the series' last time replaces it; an
// earlier one is dropped, as Prometheus drops out-of-order samples.
func (s *Store) Append(l labels.Labels, t time.Time, v float64) {
	ms := t.UnixMilli()
	key := l.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	sr := s.series[key]
	if sr == nil {
		sr = &memSeries{lset: l}
		s.series[key] = sr
		name := l.Get(labels.MetricName)
		s.byName[name] = append(s.byName[name], sr)
	}
	switch n := len(sr.ts); {
	case n > 0 && ms < sr.ts[n-1]:
	case n > 0 && ms == sr.ts[n-1]:
		sr.samples[n-1] = sample{ms, v}
	default:
		sr.ts = append(sr.ts, ms)
		sr.samples = append(sr.samples, sample{ms, v})
	}
}

// MarkStale appends Prometheus' staleness marker to a series, so instant
// queries stop seeing it at once instead of for the lookback delta.
func (s *Store) MarkStale(l labels.Labels, t time.Time) {
	s.Append(l, t, math.Float64frombits(value.StaleNaN))
}

// Samples reports how many samples the store holds.
func (s *Store) Samples() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, sr := range s.series {
		n += len(sr.ts)
	}
	return n
}

// Querier implements storage.Queryable.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

func (q *querier) Select(_ context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	q.s.mu.RLock()
	candidates := q.s.series
	var named []*memSeries
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			named = q.s.byName[m.Value]
			candidates = nil
		}
	}
	var out []storage.Series
	add := func(sr *memSeries) {
		if !matches(sr.lset, ms) {
			return
		}
		lo := sort.Search(len(sr.ts), func(i int) bool { return sr.ts[i] >= mint })
		hi := sort.Search(len(sr.ts), func(i int) bool { return sr.ts[i] > maxt })
		if lo < hi {
			// Appends never change these elements: the iterator reads
			// them without a copy.
			out = append(out, &series{lset: sr.lset, samples: sr.samples[lo:hi:hi]})
		}
	}
	for _, sr := range named {
		add(sr)
	}
	for _, sr := range candidates {
		add(sr)
	}
	q.s.mu.RUnlock()
	if sortSeries {
		slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	}
	return &seriesSet{series: out, i: -1}
}

func matches(l labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (q *querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	seen := map[string]bool{}
	for _, sr := range q.s.series {
		if v := sr.lset.Get(name); v != "" && matches(sr.lset, ms) {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	seen := map[string]bool{}
	for _, sr := range q.s.series {
		if matches(sr.lset, ms) {
			sr.lset.Range(func(l labels.Label) { seen[l.Name] = true })
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *querier) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// series is a stored series' samples in a time range.
type series struct {
	lset    labels.Labels
	samples chunks.SampleSlice
}

func (s *series) Labels() labels.Labels { return s.lset }

func (s *series) Iterator(chunkenc.Iterator) chunkenc.Iterator {
	return storage.NewListSeriesIterator(s.samples)
}

// sample is a float sample as chunks.Sample.
type sample struct {
	t int64
	f float64
}

func (p sample) T() int64                      { return p.t }
func (p sample) ST() int64                     { return 0 }
func (p sample) F() float64                    { return p.f }
func (p sample) H() *histogram.Histogram       { return nil }
func (p sample) FH() *histogram.FloatHistogram { return nil }
func (p sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p sample) Copy() chunks.Sample           { return p }
