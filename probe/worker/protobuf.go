package worker

import (
	"fmt"
	"io"
	"math"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The per-check families in the protobuf exposition format, encoded from
// the series themselves: the bytes proto.Marshal gives for the messages
// seriesFamily.write builds (TestMetricsHandlerServesWhatPromhttpServes
// compares them), without the messages. Building them was most of what a
// protobuf scrape allocated (about 10 MiB for 1,000 checks, the slabs of
// the largest families) and a third of its CPU; the worker's collector
// frees them between scrapes, so every scrape allocated them again.
//
// The field numbers are io.prometheus.client's (client_model's
// metrics.proto, proto2: a field whose pointer is set is written even when
// zero), in the order proto.Marshal writes them: by number.

// protoEncodable says whether a per-check family can be encoded directly:
// names that no escaping scheme changes, since the encoder does not
// escape (expfmt's encoder escapes names that are not legacy-valid), and
// no __name__ label, whose value the escaping schemes rewrite.
func (f *seriesFamily) protoEncodable(entries []seriesEntry) bool {
	if !model.IsValidLegacyMetricName(f.name) {
		return false
	}
	// A family's series share their label names (its desc's).
	for _, p := range entries[0].labels {
		if p.GetName() == model.MetricNameLabel || !model.LabelName(p.GetName()).IsValidLegacy() {
			return false
		}
	}
	return true
}

// protoChunk is how much of a streamed family is written to the response
// at a time.
const protoChunk = 32 << 10

// writeProto writes the family as one length-delimited MetricFamily to w.
//
// The delimited format puts a family's length before it. A counter's or a
// gauge's series encodes to a size known without encoding it: labels that
// never change, a fixed-width double, the check's creation time. So their
// families are sized first and streamed through buf.proto in chunks: the
// probes_total family alone is 32 series a check, 4.7 MB at 1,000 checks,
// which a family-sized buffer kept alive between scrapes. A histogram's
// counts are varints that a probe can change between a sizing pass and a
// writing pass, so a histogram family is built whole in buf.proto (about
// 1 MB for the phases of 1,000 checks) and then written.
func (f *seriesFamily) writeProto(w io.Writer, entries []seriesEntry, buf *familyBuffer) error {
	if *f.kind == dto.MetricType_HISTOGRAM {
		return f.writeHistogramsProto(w, entries, buf)
	}
	size := f.headSize()
	for _, e := range entries {
		size += sizeMessage(scalarSize(e))
	}
	b := protowire.AppendVarint(buf.proto[:0], uint64(size))
	b = f.appendHead(b)
	written := 0
	for _, e := range entries {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(scalarSize(e)))
		b = appendScalar(b, e)
		if len(b) >= protoChunk {
			written += len(b)
			if _, err := w.Write(b); err != nil {
				buf.proto = b
				return err
			}
			b = b[:0]
		}
	}
	written += len(b)
	buf.proto = b
	if _, err := w.Write(b); err != nil {
		return err
	}
	if want := protowire.SizeVarint(uint64(size)) + size; written != want {
		// Cannot happen while scalarSize and appendScalar agree; the page
		// is broken from here, so the scrape must fail, not go on.
		return fmt.Errorf("encoding %s: wrote %d bytes, sized %d", f.name, written, want)
	}
	return nil
}

// headSize is the size of the family's name, help and type fields.
func (f *seriesFamily) headSize() int {
	return 1 + protowire.SizeBytes(len(f.name)) + 1 + protowire.SizeBytes(len(f.help)) + 1 + protowire.SizeVarint(uint64(*f.kind))
}

func (f *seriesFamily) appendHead(b []byte) []byte {
	b = appendString(b, 1, f.name)
	b = appendString(b, 2, f.help)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(*f.kind))
}

// scalarSize is the size of a counter's or a gauge's Metric message, as
// appendScalar writes it.
func scalarSize(e seriesEntry) int {
	size := 0
	for _, p := range e.labels {
		size += sizeMessage(labelPairSize(p))
	}
	switch s := e.m.(type) {
	case *counterSeries:
		size += sizeMessage(s.protoSize())
	case *gaugeSeries:
		size += sizeMessage(9)
	}
	return size
}

// appendScalar appends a counter's or a gauge's Metric message body.
func appendScalar(b []byte, e seriesEntry) []byte {
	for _, p := range e.labels {
		b = appendLabelPair(b, 1, p)
	}
	switch s := e.m.(type) {
	case *counterSeries:
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(s.protoSize()))
		b = appendDouble(b, 1, s.value())
		b = appendTimestamp(b, 3, s.created)
	case *gaugeSeries:
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendVarint(b, 9)
		b = appendDouble(b, 1, s.value())
	}
	return b
}

// protoSize is the size of the counter's Counter message: its value and
// its creation time.
func (s *counterSeries) protoSize() int {
	if s.created == nil {
		return 9
	}
	return 9 + sizeMessage(timestampSize(s.created))
}

// writeHistogramsProto writes a histogram family, built whole in buf's
// reused byte buffers.
func (f *seriesFamily) writeHistogramsProto(w io.Writer, entries []seriesEntry, buf *familyBuffer) error {
	b := f.appendHead(buf.proto[:0])
	for _, e := range entries {
		m := buf.metric[:0]
		for _, p := range e.labels {
			m = appendLabelPair(m, 1, p)
		}
		if s, ok := e.m.(*histogramSeries); ok {
			buf.inner = s.appendProto(buf.inner[:0])
			m = appendMessage(m, 7, buf.inner)
		}
		buf.metric = m
		b = appendMessage(b, 4, m)
	}
	buf.proto = b
	buf.protoMax = max(buf.protoMax, len(b))
	prefix := protowire.AppendVarint(buf.prefix[:0], uint64(len(b)))
	buf.prefix = prefix
	if _, err := w.Write(prefix); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// appendProto appends the histogram's message body, as write fills it.
func (h *histogramSeries) appendProto(b []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, h.count)
	b = appendDouble(b, 2, h.sum)
	h.eachClassic(func(_ int, upper float64, c uint64, ex *dto.Exemplar) {
		size := 1 + protowire.SizeVarint(c) + 9
		if ex != nil {
			size += sizeMessage(exemplarSize(ex))
		}
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, c)
		b = appendDouble(b, 2, upper)
		if ex != nil {
			b = protowire.AppendTag(b, 3, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(exemplarSize(ex)))
			for _, p := range ex.Label {
				b = appendLabelPair(b, 1, p)
			}
			b = appendDouble(b, 2, ex.GetValue())
			b = appendTimestamp(b, 3, ex.Timestamp)
		}
	})
	b = protowire.AppendTag(b, 5, protowire.VarintType)
	b = protowire.AppendVarint(b, protowire.EncodeZigZag(int64(h.schema)))
	b = appendDouble(b, 6, nativeZeroThreshold)
	b = protowire.AppendTag(b, 7, protowire.VarintType)
	b = protowire.AppendVarint(b, h.zero)
	b = h.neg.appendProto(b, 9, 10)
	b = h.pos.appendProto(b, 12, 13)
	return appendTimestamp(b, 15, h.created)
}

// appendProto appends the buckets' spans as field spanNum and their deltas
// as field deltaNum, laid out as spans lays them out.
func (b nativeBuckets) appendProto(out []byte, spanNum, deltaNum protowire.Number) []byte {
	b.layout(func(offset int32, length uint32) {
		z := protowire.EncodeZigZag(int64(offset))
		out = protowire.AppendTag(out, spanNum, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(2+protowire.SizeVarint(z)+protowire.SizeVarint(uint64(length))))
		out = protowire.AppendTag(out, 1, protowire.VarintType)
		out = protowire.AppendVarint(out, z)
		out = protowire.AppendTag(out, 2, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(length))
	}, nil)
	b.layout(nil, func(delta int64) {
		out = protowire.AppendTag(out, deltaNum, protowire.VarintType)
		out = protowire.AppendVarint(out, protowire.EncodeZigZag(delta))
	})
	return out
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendDouble(b []byte, num protowire.Number, v float64) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v))
}

func appendMessage(b []byte, num protowire.Number, body []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

// sizeMessage is the size of a message field of num < 16 whose body is
// size bytes.
func sizeMessage(size int) int { return 1 + protowire.SizeVarint(uint64(size)) + size }

func labelPairSize(p *dto.LabelPair) int {
	return 1 + protowire.SizeBytes(len(p.GetName())) + 1 + protowire.SizeBytes(len(p.GetValue()))
}

func appendLabelPair(b []byte, num protowire.Number, p *dto.LabelPair) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(labelPairSize(p)))
	b = appendString(b, 1, p.GetName())
	return appendString(b, 2, p.GetValue())
}

func exemplarSize(ex *dto.Exemplar) int {
	size := 9 // value
	for _, p := range ex.Label {
		size += sizeMessage(labelPairSize(p))
	}
	if ex.Timestamp != nil {
		size += sizeMessage(timestampSize(ex.Timestamp))
	}
	return size
}

// timestampSize is google.protobuf.Timestamp's (proto3: zero fields are
// not written).
func timestampSize(t *timestamppb.Timestamp) int {
	size := 0
	if t.Seconds != 0 {
		size += 1 + protowire.SizeVarint(uint64(t.Seconds))
	}
	if t.Nanos != 0 {
		size += 1 + protowire.SizeVarint(uint64(int64(t.Nanos)))
	}
	return size
}

// appendTimestamp appends t as field num, or nothing when t is nil.
func appendTimestamp(b []byte, num protowire.Number, t *timestamppb.Timestamp) []byte {
	if t == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(timestampSize(t)))
	if t.Seconds != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(t.Seconds))
	}
	if t.Nanos != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(t.Nanos)))
	}
	return b
}
