package worker

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The per-check families in the text formats (Prometheus text 0.0.4 and
// OpenMetrics 0.0.1 and 1.0.0), written from the series themselves: the
// bytes expfmt's encoder writes for the messages seriesFamily.write builds
// (TestWriteTextIsWhatExpfmtWrites and
// TestMetricsHandlerServesWhatPromhttpServes compare them), without the
// messages. Through the messages and expfmt, a text scrape of 1,000
// checks allocated about 19 MiB and took 115 to 150 ms; appending each line
// to one reused buffer, handed to the writer every textChunk bytes, it
// allocates none of that and takes about a fifth of the time.
//
// What expfmt writes, and so what this file writes (prometheus/common
// v0.73.1, text_create.go and openmetrics_create.go):
//   - "# HELP" then "# TYPE". Text escapes backslash and newline in the
//     help; OpenMetrics the double quote as well. OpenMetrics drops a
//     counter's "_total" from both lines (a counter without it is of type
//     "unknown") and keeps it on the samples.
//   - Values: Go's shortest 'g' formatting, with 1, 0 (also -0), -1, NaN,
//     +Inf and -Inf spelled out; OpenMetrics adds ".0" to a number with
//     neither "." nor "e". The le label is formatted as a value. Bucket
//     counts and the histogram's _count are floats in text (a million is
//     1e+06) and integers in OpenMetrics.
//   - A histogram's classic buckets as listed, then a +Inf bucket with the
//     sample count unless one was listed, then _sum and _count. Native
//     buckets, created timestamps (the handler passes no WithCreatedLines)
//     and the zero bucket are not written in any text format.
//   - Exemplars only in OpenMetrics and only with labels: on buckets (the
//     +Inf one included when listed) as " # {labels} value [timestamp]";
//     a timestamp that is not valid ends the encoding with an error after
//     the space before it. The worker's counters have none.
//   - Label values escape backslash, newline and double quote. Names that
//     are not legacy-valid are quoted (exemplar label names here; the
//     family's own names never are: see textEncodable). The escaping
//     scheme of the format rewrites such names only, never values or
//     exemplars, so it changes nothing textEncodable lets through.

// textChunk is how much of a family is appended before it is written: a
// scrape keeps a buffer of about this size, not one of its largest family.
const textChunk = 32 << 10

// textMode is which of expfmt's text encoders a negotiated format selects.
type textMode int

const (
	notText     textMode = iota
	promText             // text/plain 0.0.4: MetricFamilyToText
	openMetrics          // OpenMetrics 0.0.1 and 1.0.0: MetricFamilyToOpenMetrics
)

// textModeOf reads format as expfmt.NewEncoder does.
func textModeOf(format expfmt.Format) textMode {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		return promText
	case expfmt.TypeOpenMetrics:
		// NewEncoder hands these versions to its OpenMetrics 2.0 encoder,
		// which writes otherwise (and is not what this file writes).
		switch format.Version() {
		case expfmt.OpenMetricsVersion_2_0_0, expfmt.OpenMetricsVersion_2_0_0_rc:
			return notText
		}
		return openMetrics
	}
	return notText
}

// textEncodable says whether a per-check family can be written directly
// in format: a text format writeText knows, names that no escaping scheme
// changes and no __name__ label (protoEncodable), and every series of the
// family's own kind (expfmt refuses a family that mixes them).
func (f *seriesFamily) textEncodable(entries []seriesEntry, format expfmt.Format) bool {
	if len(entries) == 0 || textModeOf(format) == notText || !f.protoEncodable(entries) {
		return false
	}
	for _, e := range entries {
		if kindOf(e.m) != *f.kind {
			return false
		}
	}
	return true
}

// kindOf is the family type of the message write gives a series; for any
// other series, which writeText does not write, no type at all.
func kindOf(m seriesValue) dto.MetricType {
	switch m.(type) {
	case *counterSeries:
		return dto.MetricType_COUNTER
	case *gaugeSeries:
		return dto.MetricType_GAUGE
	case *histogramSeries:
		return dto.MetricType_HISTOGRAM
	}
	return -1
}

// writeText writes the family to w in format, as expfmt's encoder writes
// the message write builds, in chunks of about textChunk from buf's reused
// buffer. Call it only when textEncodable says so. An exemplar with an
// invalid timestamp ends it with expfmt's error, after what expfmt writes
// before it.
func (f *seriesFamily) writeText(w io.Writer, entries []seriesEntry, format expfmt.Format, buf *familyBuffer) error {
	om := textModeOf(format) == openMetrics
	b := appendTextHeader(buf.text[:0], f, om)
	for _, e := range entries {
		var err error
		switch s := e.m.(type) {
		case *counterSeries:
			b = appendTextSample(b, f.name, e.labels, s.value(), om)
		case *gaugeSeries:
			b = appendTextSample(b, f.name, e.labels, s.value(), om)
		case *histogramSeries:
			b, err = s.appendText(b, f.name, e.labels, om)
		}
		if err != nil || len(b) >= textChunk {
			// Written between series only: a histogram's lines are
			// appended under its lock, and no slow scraper holds it.
			_, werr := w.Write(b)
			b = b[:0]
			if err == nil {
				err = werr // expfmt too reports the encoding's error first
			}
			if err != nil {
				buf.text = b
				return err
			}
		}
	}
	buf.text = b[:0]
	_, err := w.Write(b)
	return err
}

// appendTextHeader appends the family's HELP and TYPE lines.
func appendTextHeader(b []byte, f *seriesFamily, om bool) []byte {
	name, typ := f.name, ""
	switch *f.kind {
	case dto.MetricType_COUNTER:
		typ = " counter\n"
		if om {
			if n, ok := strings.CutSuffix(name, "_total"); ok {
				name = n
			} else {
				typ = " unknown\n"
			}
		}
	case dto.MetricType_GAUGE:
		typ = " gauge\n"
	case dto.MetricType_HISTOGRAM:
		typ = " histogram\n"
	}
	b = append(b, "# HELP "...)
	b = appendTextName(b, name)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, om)
	b = append(b, '\n')
	b = append(b, "# TYPE "...)
	b = appendTextName(b, name)
	return append(b, typ...)
}

// appendTextSample appends a counter's or gauge's line.
func appendTextSample(b []byte, name string, labels []*dto.LabelPair, v float64, om bool) []byte {
	ls := lineLabels{pairs: labels}
	b = ls.appendLineStart(b, name, "", 0, false, om)
	b = append(b, ' ')
	b = appendTextFloat(b, v, om)
	return append(b, '\n')
}

// appendText appends the histogram's lines, reading it as write does:
// its classic buckets cumulated, +Inf listed only when it holds an
// exemplar.
func (h *histogramSeries) appendText(b []byte, name string, labels []*dto.LabelPair, om bool) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ls := lineLabels{pairs: labels}
	count := func(b []byte, c uint64) []byte {
		if om {
			return strconv.AppendUint(b, c, 10)
		}
		return appendTextFloat(b, float64(c), false)
	}
	var err error
	infSeen := false
	h.eachClassic(func(_ int, upper float64, c uint64, ex *dto.Exemplar) {
		if err != nil {
			return // expfmt stops at the error
		}
		b = ls.appendLineStart(b, name, "_bucket", upper, true, om)
		b = append(b, ' ')
		b = count(b, c)
		if om && ex != nil && len(ex.Label) > 0 {
			if b, err = appendExemplar(b, ex); err != nil {
				return
			}
		}
		b = append(b, '\n')
		infSeen = infSeen || math.IsInf(upper, +1)
	})
	if err != nil {
		return b, err
	}
	if !infSeen {
		b = ls.appendLineStart(b, name, "_bucket", posInf, true, om)
		b = append(b, ' ')
		b = count(b, h.count)
		b = append(b, '\n')
	}
	b = ls.appendLineStart(b, name, "_sum", 0, false, om)
	b = append(b, ' ')
	b = appendTextFloat(b, h.sum, om)
	b = append(b, '\n')
	b = ls.appendLineStart(b, name, "_count", 0, false, om)
	b = append(b, ' ')
	b = count(b, h.count)
	return append(b, '\n'), nil
}

// appendExemplar appends " # {labels} value timestamp", as expfmt's
// writeExemplar; with an invalid timestamp, what it writes before it and
// the timestamp's error.
func appendExemplar(b []byte, ex *dto.Exemplar) ([]byte, error) {
	b = append(b, " # {"...)
	for i, p := range ex.Label {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTextName(b, p.GetName())
		b = append(b, '=', '"')
		b = appendEscaped(b, p.GetValue(), true)
		b = append(b, '"')
	}
	b = append(b, '}', ' ')
	b = appendTextFloat(b, ex.GetValue(), true)
	if ex.Timestamp == nil {
		return b, nil
	}
	b = append(b, ' ')
	if err := ex.Timestamp.CheckValid(); err != nil {
		return b, err
	}
	// Seconds as expfmt computes them, through a float of nanoseconds:
	// the same rounding, digit for digit.
	return appendTextFloat(b, float64(ex.Timestamp.AsTime().UnixNano())/1e9, true), nil
}

// lineLabels are one series' labels as its lines write them: escaped once,
// by the series' first line, and copied from there by the next ones (a
// histogram has a score of lines). The copy stays valid until the buffer
// is written, which is only between series.
type lineLabels struct {
	pairs    []*dto.LabelPair
	from, to int
	done     bool
}

// appendLineStart appends a line's name (name and suffix) and labels, the
// le label last when bucket (with le as its value), as expfmt's
// writeNameAndLabelPairs: no braces for a line without labels.
func (l *lineLabels) appendLineStart(b []byte, name, suffix string, le float64, bucket, om bool) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(l.pairs) == 0 && !bucket {
		return b
	}
	b = append(b, '{')
	if l.done {
		b = append(b, b[l.from:l.to]...)
	} else {
		l.from = len(b)
		for i, p := range l.pairs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, p.GetName()...) // legacy-valid: textEncodable checked
			b = append(b, '=', '"')
			b = appendEscaped(b, p.GetValue(), true)
			b = append(b, '"')
		}
		l.to, l.done = len(b), true
	}
	if bucket {
		if len(l.pairs) > 0 {
			b = append(b, ',')
		}
		b = append(b, model.BucketLabel+`="`...)
		b = appendTextFloat(b, le, om)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendTextName appends a name as expfmt's writeName: as it is when
// legacy-valid, else quoted and escaped.
func appendTextName(b []byte, name string) []byte {
	if model.IsValidLegacyMetricName(name) {
		return append(b, name...)
	}
	b = append(b, '"')
	b = appendEscaped(b, name, true)
	return append(b, '"')
}

// appendEscaped appends s with backslash and newline escaped, and the
// double quote when quote is set, byte by byte as expfmt's replacers do.
func appendEscaped(b []byte, s string, quote bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '"':
			if !quote {
				continue
			}
			esc = `\"`
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendTextFloat appends v as expfmt's writeFloat, or as its
// writeOpenMetricsFloat when om is set.
func appendTextFloat(b []byte, v float64, om bool) []byte {
	switch {
	case v == 1:
		if om {
			return append(b, "1.0"...)
		}
		return append(b, '1')
	case v == 0:
		if om {
			return append(b, "0.0"...)
		}
		return append(b, '0')
	case v == -1:
		if om {
			return append(b, "-1.0"...)
		}
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if om && !bytes.ContainsAny(b[start:], "e.") {
		b = append(b, '.', '0')
	}
	return b
}
