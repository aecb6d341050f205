package worker

import (
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/histogram"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// histogramSeries is one per-check histogram: classic buckets and native
// buckets, with an exemplar per classic bucket, written in the same
// messages as a client_golang histogram with the worker's settings
// (TestHistogramSeriesWritesWhatClientGolangWrites holds them equal).
//
// Why not client_golang's: it keeps every native bucket in a sync.Map,
// twice (hot and cold counts, for lock-free observations at high rates),
// about 120 bytes a bucket. With 1,000 checks (about 4,300 histograms of
// 30 to 60 buckets each) that was 47 of a worker's 79 MiB of live heap,
// growing as the spread of durations grew. A probe observes a histogram
// once per interval, so here a mutex guards plain counts, and the native
// buckets are one sorted slice of 16-byte (index, count) pairs.
//
// Differences from client_golang, on purpose: no native-histogram
// exemplars of their own (a scraper reads the classic buckets' exemplars
// for the native histogram as well: Prometheus does), and a histogram over
// its bucket limit only halves its resolution; it is never reset.
type histogramSeries struct {
	created *timestamppb.Timestamp
	upper   []float64 // classic upper bounds, shared by the family; never written

	mu        sync.Mutex
	count     uint64
	sum       float64
	classic   []uint64        // observations per classic bucket, +Inf last
	exemplars []*dto.Exemplar // the newest per classic bucket, +Inf last; nil until the first (none without tracing)
	schema    int32
	zero      uint64 // observations within ±nativeZeroThreshold
	pos, neg  nativeBuckets
}

// Native-histogram settings of every per-check histogram.
const (
	// nativeSchema 3: each bucket is 2^(1/8) ≈ 1.09 times as wide as the
	// one below it, at most 10 % (client_golang's NativeHistogramBucketFactor
	// 1.1 picks the same schema).
	nativeSchema = 3
	// nativeMaxBuckets bounds the native buckets of one histogram (positive
	// and negative together); past it the resolution halves.
	nativeMaxBuckets = 160
	// nativeMinSchema is the lowest resolution the exposition format allows.
	nativeMinSchema = -4
)

// nativeZeroThreshold is client_golang's default zero-bucket width, 2^-128.
var nativeZeroThreshold = prometheus.DefNativeHistogramZeroThreshold

// nativeBounds[s] are the fractions (of a power of two) where the buckets
// of schema s > 0 end: 2^(j/2^s - 1) for j < 2^s. They are Prometheus's
// own (the upper bounds of buckets 0 to 2^s-1, halved), not computed here:
// its table differs from math.Exp2 in the last bit of some, and a value
// exactly on a bound must land in the bucket Prometheus and client_golang
// put it in.
var nativeBounds = func() [][]float64 {
	b := make([][]float64, nativeSchema+1)
	for s := int32(1); s <= nativeSchema; s++ {
		n := 1 << s
		h := histogram.Histogram{Schema: s, Count: uint64(n), PositiveSpans: []histogram.Span{{Offset: 0, Length: uint32(n)}},
			PositiveBuckets: append([]int64{1}, make([]int64, n-1)...)}
		for it := h.PositiveBucketIterator(); it.Next(); {
			b[s] = append(b[s], it.At().Upper/2)
		}
	}
	return b
}()

// nativeIndex is the index of the native bucket of schema that holds
// |v|, as the exposition format defines them: bucket i holds
// (2^((i-1)/2^schema), 2^(i/2^schema)].
func nativeIndex(v float64, schema int32) int {
	inf := math.IsInf(v, 0)
	if inf {
		v = math.MaxFloat64
	}
	frac, exp := math.Frexp(math.Abs(v))
	var key int
	if schema > 0 {
		bounds := nativeBounds[schema]
		key = sort.SearchFloat64s(bounds, frac) + (exp-1)*len(bounds)
	} else {
		key = exp
		if frac == 0.5 {
			key--
		}
		key = (key + (1 << -schema) - 1) >> -schema
	}
	if inf {
		key++
	}
	return key
}

// nativeBucket is one populated native bucket, in 8 bytes: an index of
// schema 3 stays within ±8,200 for any float64, and a count of 2^32 is one
// observation a second for 136 years (a probe observes a histogram once
// per interval).
type nativeBucket struct {
	index int32
	count uint32
}

// nativeBuckets are the populated native buckets of one sign, sorted by
// index.
type nativeBuckets []nativeBucket

// add adds n to the bucket at index and reports whether it is new.
func (b *nativeBuckets) add(index int, n uint32) bool {
	i, found := slices.BinarySearchFunc(*b, index, func(e nativeBucket, t int) int { return int(e.index) - t })
	if found {
		(*b)[i].count += n
		return false
	}
	if len(*b) == cap(*b) {
		// A quarter more, not append's double: a histogram gains buckets
		// one at a time and slowly, and 4,300 of them keep their spare.
		*b = slices.Grow(*b, len(*b)/4+2)
	}
	*b = slices.Insert(*b, i, nativeBucket{int32(index), n})
	return true
}

// halve merges the buckets pairwise into the buckets of the schema one
// lower: index i goes to ceil(i/2). Sorted order stays.
func (b *nativeBuckets) halve() {
	out := (*b)[:0]
	for _, e := range *b {
		i := e.index
		if i > 0 {
			i++
		}
		i /= 2
		if n := len(out); n > 0 && out[n-1].index == i {
			out[n-1].count += e.count
			continue
		}
		out = append(out, nativeBucket{i, e.count})
	}
	*b = out
}

func newHistogramSeries(upper []float64) *histogramSeries {
	return &histogramSeries{upper: upper, created: timestamppb.Now(),
		classic: make([]uint64, len(upper)+1), schema: nativeSchema}
}

// observe records v. With exemplar labels (shared, never written), v
// becomes the newest exemplar of its classic bucket.
func (h *histogramSeries) observe(v float64, exemplar []*dto.LabelPair) {
	bucket, _ := slices.BinarySearch(h.upper, v)
	if math.IsNaN(v) {
		bucket = len(h.upper)
	}
	var ex *dto.Exemplar
	if exemplar != nil {
		value := v // its own variable: &v would move v to the heap on every call
		ex = &dto.Exemplar{Label: exemplar, Value: &value, Timestamp: timestamppb.Now()}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count++
	h.sum += v
	h.classic[bucket]++
	if ex != nil {
		if h.exemplars == nil {
			h.exemplars = make([]*dto.Exemplar, len(h.upper)+1)
		}
		h.exemplars[bucket] = ex
	}
	if math.IsNaN(v) {
		return
	}
	var created bool
	switch {
	case v > nativeZeroThreshold:
		created = h.pos.add(nativeIndex(v, h.schema), 1)
	case v < -nativeZeroThreshold:
		created = h.neg.add(nativeIndex(v, h.schema), 1)
	default:
		h.zero++
	}
	if created && len(h.pos)+len(h.neg) > nativeMaxBuckets && h.schema > nativeMinSchema {
		h.schema--
		h.pos.halve()
		h.neg.halve()
	}
}

// writeTo writes the values as client_golang's Write does: the classic
// buckets (cumulative, +Inf only when it holds an exemplar) and the native
// buckets as spans and deltas, in newly allocated messages (a few slabs,
// not a message per value as client_golang's).
func (h *histogramSeries) writeTo(out *dto.Metric) { h.write(out, nil) }

// write is writeTo with the messages taken from s; with a nil s, newly
// allocated. /metrics writes a family's histograms from one histSlab,
// reset for the next family: a scrape then allocates messages for its
// largest histogram family only, not for every histogram.
func (h *histogramSeries) write(out *dto.Metric, s *histSlab) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.classicLen()
	var (
		msgs       *slab[histogramMessage]
		bucketSlab *slab[dto.Bucket]
		ptrSlab    *slab[*dto.Bucket]
		cumSlab    *slab[uint64]
	)
	if s != nil {
		msgs, bucketSlab, ptrSlab, cumSlab = &s.msgs, &s.buckets, &s.bucketPtrs, &s.cums
	}
	msg := &take(msgs, 1)[0]
	msg.count, msg.zero, msg.sum, msg.schema = h.count, h.zero, h.sum, h.schema
	buckets, ptrs, cum := take(bucketSlab, n), take(ptrSlab, n), take(cumSlab, n)
	h.eachClassic(func(i int, _ float64, c uint64, ex *dto.Exemplar) {
		cum[i] = c
		b := &buckets[i]
		b.CumulativeCount, b.UpperBound, b.Exemplar = &cum[i], &posInf, ex
		if i < len(h.upper) {
			b.UpperBound = &h.upper[i]
		}
		ptrs[i] = b
	})
	his := &msg.histogram
	his.Bucket = ptrs
	his.SampleCount, his.SampleSum, his.CreatedTimestamp = &msg.count, &msg.sum, h.created
	his.Schema, his.ZeroThreshold, his.ZeroCount = &msg.schema, &nativeZeroThreshold, &msg.zero
	his.NegativeSpan, his.NegativeDelta = h.neg.spans(s)
	his.PositiveSpan, his.PositiveDelta = h.pos.spans(s)
	out.Histogram = his
}

// classicLen is how many classic buckets a histogram lists when written:
// its bounds, and +Inf too when that holds an exemplar (as client_golang
// lists them). Called with h.mu held.
func (h *histogramSeries) classicLen() int {
	n := len(h.upper)
	if h.exemplars != nil && h.exemplars[n] != nil {
		n++
	}
	return n
}

// eachClassic calls f with each listed classic bucket in order: its index,
// upper bound, cumulative count (+Inf's is the sample count) and exemplar
// (nil when none). The three encodings (write, appendProto, appendText)
// walk the buckets with it. Called with h.mu held.
func (h *histogramSeries) eachClassic(f func(i int, upper float64, cumulative uint64, ex *dto.Exemplar)) {
	var c uint64
	for i := range h.classicLen() {
		c += h.classic[i]
		upper := posInf
		if i < len(h.upper) {
			upper = h.upper[i]
		} else {
			c = h.count
		}
		var ex *dto.Exemplar
		if h.exemplars != nil {
			ex = h.exemplars[i]
		}
		f(i, upper, c, ex)
	}
}

// histSlab holds the messages and values of written histograms, handed
// out from chunks that reset makes available again (to be overwritten).
type histSlab struct {
	msgs       slab[histogramMessage]
	buckets    slab[dto.Bucket]
	bucketPtrs slab[*dto.Bucket]
	cums       slab[uint64]
	spans      slab[nativeSpan]
	spanPtrs   slab[*dto.BucketSpan]
	deltas     slab[int64]
}

func (s *histSlab) reset() {
	s.msgs.reset()
	s.buckets.reset()
	s.bucketPtrs.reset()
	s.cums.reset()
	s.spans.reset()
	s.spanPtrs.reset()
	s.deltas.reset()
}

// slab hands out zeroed slices of T from chunks it keeps.
type slab[T any] struct {
	chunks     [][]T
	chunk, off int
}

// slabChunk is how many elements a slab allocates at a time.
const slabChunk = 4096

func (s *slab[T]) reset() { s.chunk, s.off = 0, 0 }

func (s *slab[T]) take(n int) []T {
	for {
		if s.chunk == len(s.chunks) {
			s.chunks = append(s.chunks, make([]T, max(n, slabChunk)))
		}
		if c := s.chunks[s.chunk]; s.off+n <= len(c) {
			out := c[s.off : s.off+n : s.off+n]
			s.off += n
			clear(out)
			return out
		}
		s.chunk, s.off = s.chunk+1, 0
	}
}

// take returns n zeroed elements from s, or newly allocated when s is nil.
func take[T any](s *slab[T], n int) []T {
	if s == nil {
		return make([]T, n)
	}
	return s.take(n)
}

// histogramMessage is a written histogram and the values it points to, in
// one allocation.
type histogramMessage struct {
	histogram   dto.Histogram
	count, zero uint64
	sum         float64
	schema      int32
}

var posInf = math.Inf(1)

// nativeSpan is a written span and the values it points to.
type nativeSpan struct {
	msg    dto.BucketSpan
	offset int32
	length uint32
}

// layout walks the buckets as the exposition format lays them out: spans
// of consecutive indices, each bucket's count as the delta from the one
// before. Gaps of one or two buckets are written as empty buckets rather
// than a new span, as client_golang writes them. span is called once per
// span, in order; delta once per bucket, empty ones included. Either may
// be nil.
func (b nativeBuckets) layout(span func(offset int32, length uint32), delta func(int64)) {
	var (
		prev   int64
		offset int32
		length uint32
	)
	for k, e := range b {
		gap := 0
		if k > 0 {
			gap = int(e.index) - int(b[k-1].index) - 1
		}
		if k == 0 || gap > 2 {
			if k > 0 && span != nil {
				span(offset, length)
			}
			offset, length = int32(gap), 0
			if k == 0 {
				offset = e.index
			}
			gap = 0
		}
		for range gap {
			if delta != nil {
				delta(-prev)
			}
			prev = 0
		}
		length += uint32(gap + 1)
		if delta != nil {
			delta(int64(e.count) - prev)
		}
		prev = int64(e.count)
	}
	if len(b) > 0 && span != nil {
		span(offset, length)
	}
}

// spans returns the buckets' spans and deltas as messages (layout), taken
// from s, or newly allocated when s is nil.
func (b nativeBuckets) spans(s *histSlab) ([]*dto.BucketSpan, []int64) {
	if len(b) == 0 {
		return nil, nil
	}
	n, m := 0, 0
	b.layout(func(int32, uint32) { n++ }, func(int64) { m++ })
	var spanSlab *slab[nativeSpan]
	var ptrSlab *slab[*dto.BucketSpan]
	var deltaSlab *slab[int64]
	if s != nil {
		spanSlab, ptrSlab, deltaSlab = &s.spans, &s.spanPtrs, &s.deltas
	}
	spans, ptrs, deltas := take(spanSlab, n), take(ptrSlab, n), take(deltaSlab, m)[:0]
	j := 0
	b.layout(func(offset int32, length uint32) {
		sp := &spans[j]
		sp.offset, sp.length = offset, length
		sp.msg.Offset, sp.msg.Length, ptrs[j] = &sp.offset, &sp.length, &sp.msg
		j++
	}, func(d int64) { deltas = append(deltas, d) })
	return ptrs, deltas
}
