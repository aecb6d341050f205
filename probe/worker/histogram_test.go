package worker

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/llmprobe/llmprobe/probe"
)

// TestHistogramSeriesWritesWhatClientGolangWrites feeds the same
// observations to a histogramSeries and to a client_golang histogram with
// the settings the worker used before it kept its own (bucket factor 1.1,
// at most 160 native buckets, never reset, no native exemplars of their
// own), and holds the two written messages equal after every few
// observations: classic buckets, native schema, zero bucket, spans and
// deltas, exemplars. Timestamps (created, exemplars) differ by when each
// was made and are compared for presence only.
func TestHistogramSeriesWritesWhatClientGolangWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	logUniform := func(lo, hi float64) func() float64 {
		return func() float64 { return lo * math.Pow(hi/lo, r.Float64()) }
	}
	bounds := func(schema int32) func() float64 {
		// Exactly on a native bucket's upper bound, or a classic one.
		return func() float64 {
			if r.IntN(2) == 0 {
				return probe.DurationBuckets[r.IntN(len(probe.DurationBuckets))]
			}
			return math.Exp2(float64(r.IntN(120)-60) / float64(int(1)<<schema))
		}
	}
	for _, tc := range []struct {
		name   string
		n      int
		value  func() float64
		schema int32 // expected at the end
	}{
		{"loopback phases, 0.3 to 60 ms", 500, logUniform(0.0003, 0.06), 3},
		{"internet probes, 20 ms to 30 s", 2000, logUniform(0.02, 30), 3},
		{"exact bucket bounds", 1000, bounds(3), 3},
		{"zero, negative and infinite values", 300, func() float64 {
			return []float64{0, -0.5, math.Inf(1), math.Inf(-1), 1e-300, -1e-300, 0.25, 0.0625}[r.IntN(8)]
		}, 3},
		// 2^-30 to 2^30 s at schema 3 is 480 buckets: over the limit of
		// 160, the resolution halves twice.
		{"a spread past the bucket limit", 5000, logUniform(math.Exp2(-30), math.Exp2(30)), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: probe.DurationBuckets,
				NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: nativeMaxBuckets, NativeHistogramMaxExemplars: -1})
			own := newHistogramSeries(probe.DurationBuckets)
			trace := []*dto.LabelPair{{Name: new(probe.ExemplarTraceIDLabel), Value: new("4bf92f3577b34da6a3ce929d0e0e4736")}}
			for i := range tc.n {
				v := tc.value()
				if i%5 == 0 {
					ref.(prometheus.ExemplarObserver).ObserveWithExemplar(v, prometheus.Labels{probe.ExemplarTraceIDLabel: "4bf92f3577b34da6a3ce929d0e0e4736"})
					own.observe(v, trace)
				} else {
					ref.Observe(v)
					own.observe(v, nil)
				}
				if i%97 == 0 || i == tc.n-1 {
					compareHistograms(t, i+1, ref, own)
				}
			}
			var m dto.Metric
			if err := writeSeries(own, &m); err != nil {
				t.Fatal(err)
			}
			if got := m.GetHistogram().GetSchema(); got != tc.schema {
				t.Errorf("schema after %d observations = %d, want %d", tc.n, got, tc.schema)
			}
			if n := len(own.pos) + len(own.neg); n > nativeMaxBuckets {
				t.Errorf("%d native buckets, over the limit of %d", n, nativeMaxBuckets)
			}
		})
	}
}

func compareHistograms(t *testing.T, n int, ref prometheus.Histogram, own *histogramSeries) {
	t.Helper()
	var want, got dto.Metric
	if err := ref.Write(&want); err != nil {
		t.Fatal(err)
	}
	if err := writeSeries(own, &got); err != nil {
		t.Fatal(err)
	}
	// The written exemplars are the histograms' own: normalize copies.
	w, g := proto.Clone(&want).(*dto.Metric), proto.Clone(&got).(*dto.Metric)
	for _, m := range []*dto.Metric{w, g} {
		h := m.GetHistogram()
		if h.CreatedTimestamp == nil {
			t.Fatalf("after %d observations: no created timestamp in %v", n, prototext.Format(m))
		}
		h.CreatedTimestamp = nil
		for _, b := range h.Bucket {
			if b.Exemplar != nil {
				if b.Exemplar.Timestamp == nil {
					t.Fatalf("after %d observations: an exemplar without a timestamp in %v", n, prototext.Format(m))
				}
				b.Exemplar.Timestamp = nil
			}
		}
	}
	if !proto.Equal(w, g) {
		t.Fatalf("after %d observations the histograms differ\nclient_golang:\n%v\nhistogramSeries:\n%v", n, prototext.Format(w), prototext.Format(g))
	}
}

// TestHistogramSeriesExemplarIsTheNewestOfItsBucket: an observation with a
// trace replaces its classic bucket's exemplar, with its own value and a
// current timestamp, and leaves every other bucket's alone.
func TestHistogramSeriesExemplarIsTheNewestOfItsBucket(t *testing.T) {
	h := newHistogramSeries([]float64{0.1, 1})
	tr := func(id string) []*dto.LabelPair {
		return []*dto.LabelPair{{Name: new(probe.ExemplarTraceIDLabel), Value: new(id)}}
	}
	before := time.Now().Add(-time.Second)
	h.observe(0.05, tr("a"))
	h.observe(0.5, tr("b"))
	h.observe(0.07, tr("c"))
	h.observe(0.08, nil)
	h.observe(5, tr("d"))
	var m dto.Metric
	if err := writeSeries(h, &m); err != nil {
		t.Fatal(err)
	}
	b := m.GetHistogram().GetBucket()
	if len(b) != 3 || !math.IsInf(b[2].GetUpperBound(), 1) || b[2].GetCumulativeCount() != 5 {
		t.Fatalf("buckets %v: want 0.1, 1 and +Inf (it holds an exemplar) with 5 in all", b)
	}
	for i, want := range []struct {
		trace string
		value float64
	}{{"c", 0.07}, {"b", 0.5}, {"d", 5}} {
		e := b[i].GetExemplar()
		if e.GetValue() != want.value || len(e.GetLabel()) != 1 || e.GetLabel()[0].GetValue() != want.trace || e.GetTimestamp().AsTime().Before(before) {
			t.Errorf("bucket le=%v: exemplar %v, want trace %s value %v now", b[i].GetUpperBound(), e, want.trace, want.value)
		}
	}
}

// TestHistogramSeriesObservesWhileWritten: observations from several
// goroutines while scrapes write the histogram are all counted, in the
// classic and the native buckets alike (run with -race).
func TestHistogramSeriesObservesWhileWritten(t *testing.T) {
	h := newHistogramSeries(probe.PhaseBuckets)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				h.observe(float64(g*500+i+1)/1000, nil)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			var m dto.Metric
			_ = writeSeries(h, &m)
		}
	}()
	wg.Wait()
	<-done
	var m dto.Metric
	if err := writeSeries(h, &m); err != nil {
		t.Fatal(err)
	}
	var native, running int64
	for _, d := range m.GetHistogram().GetPositiveDelta() {
		running += d
		native += running
	}
	if c := m.GetHistogram().GetSampleCount(); c != 2000 || native != 2000 {
		t.Errorf("count %d, native buckets hold %d: want 2000 and 2000", c, native)
	}
}

// BenchmarkHistogramMemory is what the histograms of bench/worker.sh's
// 1,000 checks (about 4,300: a duration and three or four phases each)
// keep in memory after 64 probes each with durations spread from 0.3 to
// 60 ms, as 16 minutes of loopback probes under load spread them, written
// (scraped) after every round: as client_golang's histograms with the
// settings the worker had, and as histogramSeries.
func BenchmarkHistogramMemory(b *testing.B) {
	type observer interface {
		Observe(float64)
		Write(*dto.Metric) error
	}
	for _, tc := range []struct {
		name string
		make func() []observer
	}{
		{"client_golang", func() []observer {
			vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: probe.MetricPhaseDuration, Help: "phases", Buckets: probe.PhaseBuckets,
				NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: nativeMaxBuckets, NativeHistogramMinResetDuration: time.Hour}, []string{"series"})
			hs := make([]observer, 4300)
			for i := range hs {
				hs[i] = vec.WithLabelValues(strconv.Itoa(i)).(prometheus.Histogram)
			}
			return hs
		}},
		{"histogramSeries", func() []observer {
			hs := make([]observer, 4300)
			for i := range hs {
				hs[i] = ownObserver{newHistogramSeries(probe.PhaseBuckets)}
			}
			return hs
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				hs := tc.make()
				r := rand.New(rand.NewPCG(1, 2))
				for range 64 {
					for _, h := range hs {
						h.Observe(0.0003 * math.Pow(200, r.Float64()))
					}
					for _, h := range hs {
						var m dto.Metric
						_ = h.Write(&m)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&m1)
				b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/(1<<20), "heap-MiB")
				runtime.KeepAlive(hs)
			}
		})
	}
}

type ownObserver struct{ *histogramSeries }

func (o ownObserver) Observe(v float64) { o.observe(v, nil) }

func (o ownObserver) Write(m *dto.Metric) error { return writeSeries(o.histogramSeries, m) }

// writeSeries writes v's values into m as a collection does.
func writeSeries(v seriesValue, m *dto.Metric) error {
	v.writeTo(m)
	return nil
}
