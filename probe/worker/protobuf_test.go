package worker

import (
	"bytes"
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestWriteProtoIsWhatProtoMarshalWrites encodes families of every kind,
// with what the worker's own never hold (negative and zero observations,
// NaN, exemplars with and without labels, buckets far apart), and requires
// the direct encoding to be proto.Marshal's bytes of the same family's
// messages, behind the length prefix the delimited format puts first.
func TestWriteProtoIsWhatProtoMarshalWrites(t *testing.T) {
	pair := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: &n, Value: &v} }
	labels := []*dto.LabelPair{pair("check", "chat"), pair("model", "m-ü"), pair("provider", "openai"), pair("region", "")}
	upper := []float64{0.1, 0.5, 1, 5}
	created := &timestamppb.Timestamp{Seconds: 1767225600, Nanos: 123}

	hist := newHistogramSeries(upper)
	hist.created = created
	trace := []*dto.LabelPair{pair("trace_id", "0af7651916cd43dd8448eb211c80319c")}
	for _, v := range []float64{-3, -0.25, 0, 1e-130, 0.05, 0.05, 0.7, 2, 40, 1e6, math.NaN()} {
		hist.observe(v, nil)
	}
	hist.observe(0.3, trace)
	hist.observe(9, trace) // +Inf's bucket gets an exemplar: written
	hist.observe(1.5, []*dto.LabelPair{})
	empty := newHistogramSeries(upper)
	empty.created = &timestamppb.Timestamp{}

	counter := &counterSeries{created: created}
	counter.add(42)
	zero := &counterSeries{created: &timestamppb.Timestamp{Seconds: -5, Nanos: -1}}
	gauge := &gaugeSeries{}
	gauge.set(-0.5)
	// Families larger than protoChunk, streamed in several writes.
	var counters, gauges []seriesValue
	for i := range 3 * protoChunk / 100 {
		c := &counterSeries{created: created}
		if i%7 == 0 {
			c.created = nil
		}
		c.add(uint64(i) << (i % 60))
		g := &gaugeSeries{}
		g.set(float64(i) / 3)
		counters, gauges = append(counters, c), append(gauges, g)
	}

	for _, f := range []struct {
		kind    dto.MetricType
		entries []seriesValue
	}{
		{dto.MetricType_HISTOGRAM, []seriesValue{hist, empty}},
		{dto.MetricType_COUNTER, []seriesValue{counter, zero}},
		{dto.MetricType_GAUGE, []seriesValue{gauge}},
		{dto.MetricType_COUNTER, counters},
		{dto.MetricType_GAUGE, gauges},
	} {
		fam := &seriesFamily{name: "llmprobe_test", help: "A test family.", kind: f.kind.Enum(), upper: upper}
		var entries []seriesEntry
		for _, m := range f.entries {
			entries = append(entries, seriesEntry{labels: labels, m: m})
		}
		want, err := proto.Marshal(fam.write(entries, &familyBuffer{}))
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := fam.writeProto(&got, entries, &familyBuffer{}); err != nil {
			t.Fatal(err)
		}
		n, k := protowire.ConsumeVarint(got.Bytes())
		if k < 0 || int(n) != got.Len()-k {
			t.Fatalf("%s: length prefix %d for %d bytes", f.kind, n, got.Len()-k)
		}
		if !bytes.Equal(got.Bytes()[k:], want) {
			t.Fatalf("%s: direct encoding differs from proto.Marshal's:\n got %x\nwant %x", f.kind, got.Bytes()[k:], want)
		}
	}
}

// TestProtoEncodableLeavesEscapedNamesToExpfmt: a family whose name, label
// names or __name__ label an escaping scheme would rewrite goes to expfmt,
// which escapes; the direct encoder does not.
func TestProtoEncodableLeavesEscapedNamesToExpfmt(t *testing.T) {
	pair := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: &n, Value: &v} }
	entry := func(ls ...*dto.LabelPair) []seriesEntry { return []seriesEntry{{labels: ls, m: &counterSeries{}}} }
	fam := func(name string) *seriesFamily { return &seriesFamily{name: name, kind: dto.MetricType_COUNTER.Enum()} }
	if !fam("llmprobe_x_total").protoEncodable(entry(pair("check", "chat"), pair("model", "a.b-ü"))) {
		t.Error("a legacy-valid family with any label values: not encodable directly")
	}
	for why, tc := range map[string]struct {
		f       *seriesFamily
		entries []seriesEntry
	}{
		"a dotted family name":  {fam("llmprobe.x_total"), entry(pair("check", "chat"))},
		"a dotted label name":   {fam("llmprobe_x_total"), entry(pair("check.kind", "chat"))},
		"a __name__ label":      {fam("llmprobe_x_total"), entry(pair("__name__", "a.b"))},
		"a UTF-8 label name":    {fam("llmprobe_x_total"), entry(pair("modèle", "m"))},
		"a name starting digit": {fam("1llmprobe_x_total"), entry(pair("check", "chat"))},
	} {
		if tc.f.protoEncodable(tc.entries) {
			t.Errorf("%s: encodable directly", why)
		}
	}
}
