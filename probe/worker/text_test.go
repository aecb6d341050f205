package worker

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/llmprobe/llmprobe/probe"
)

// textFormats are the text formats /metrics can negotiate: each version
// of each text type, with every escaping scheme an Accept header can ask
// for and with none.
func textFormats(t *testing.T) []expfmt.Format {
	t.Helper()
	var formats []expfmt.Format
	for _, accept := range []string{
		"", "*/*",
		"application/openmetrics-text;version=1.0.0",
		"application/openmetrics-text;version=0.0.1",
		"application/openmetrics-text",
		"text/plain;version=0.0.4",
		"text/plain",
	} {
		for _, escaping := range []string{"", "allow-utf-8", "underscores", "dots", "values"} {
			a := accept
			if escaping != "" {
				a += ";escaping=" + escaping
			}
			h := http.Header{}
			if a != "" {
				h.Set("Accept", a)
			}
			f := expfmt.NegotiateAccept(h, expfmt.DefaultOpenMetricsAcceptedFormats()...)
			if textModeOf(f) == notText {
				t.Fatalf("Accept %q negotiates %q, not a text format", a, f)
			}
			if !slices.Contains(formats, f) {
				formats = append(formats, f)
			}
		}
	}
	return formats
}

// textTestFamilies are per-check families with what the worker's series
// can hold and more: created through the collector as probes create them,
// then given values no probe reports (NaN and infinite gauges and
// observations, huge counts, exemplars without labels, without a
// timestamp, with one to the nanosecond), and hand-made families for what
// the worker's families never are (a counter without _total, help that
// needs escaping, series without labels, bounds ending in +Inf).
func textTestFamilies(t *testing.T) []textFamily {
	t.Helper()
	pair := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: &n, Value: &v} }
	m := NewMetrics(NewRegistry())
	m.NetworkControl = true
	cc := m.checks
	ids := []checkID{
		{"openai", string(probe.KindChat), "gpt-4o-mini", "eu-west-1"},
		{`we\ird"pro` + "\nvider", string(probe.KindStream), "модель-ü", "région \\n"},
		{"zeta", string(probe.KindReach), "", ""},
	}
	gauges := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -2.5, 1e-300, 42, 1, 0, -1, math.Copysign(0, -1), 1e21, 0.1, 123456789.5}
	for i, id := range ids {
		c := probe.Check{Provider: probe.CustomProvider(id.provider, "http://127.0.0.1:1/v1", id.model), Kind: probe.Kind(id.kind), Model: id.model, Region: id.region}
		m.InitCheck(c)
		for k := range 5 {
			ms := time.Duration(k*37+i*11+1) * time.Millisecond
			r := probe.Result{Provider: id.provider, Check: probe.Kind(id.kind), Model: id.model, Region: id.region,
				Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK, StatusCode: 200, StartedAt: time.Unix(1767225600, int64(k*123456789)),
				Timings:      probe.Timings{DNS: ms / 9, Connect: ms / 5, TLS: ms / 3, TTFB: ms, TTFT: ms, Transfer: ms / 4, Total: 2 * ms},
				EdgeOverhead: ms / 7, Tokens: probe.Usage{Input: 12 + k, Output: k}}
			switch k {
			case 1:
				r.Outcome, r.Reason, r.StatusCode = probe.OutcomeOriginError, probe.ReasonOverloaded, 529
				r.Timings.Total = -time.Second // the duration histogram's negative observation
			case 2:
				r.Timings.Total = 0
				r.Tokens.Input = 123456789012345678 // a counter value with an exponent
			case 3:
				r.Timings.Total = 5 * time.Minute // past the last bound: +Inf's bucket
			}
			if k%2 == 0 {
				r.TraceID = fmt.Sprintf("%032x", i*10+k)
			}
			rl, rt := gauges[(i*5+k)%len(gauges)], gauges[(i*5+k+7)%len(gauges)]
			r.RateLimit.Requests, r.RateLimit.Tokens = &rl, &rt
			m.Observe(r)
			if k == 3 {
				m.Unmeasured(r)
			}
		}
		m.Skipped(c, probe.SkipReasonBudget)
		m.SetBackoff(c, time.Duration(i)*1500*time.Millisecond)
		cs := cc.check(id)
		edge := cc.histogram(cs, &cs.edge, cc.edge)
		for _, v := range []float64{math.NaN(), 1e300, math.Inf(1), math.Inf(-1), -0.003, 0, 1e-130} {
			edge.observe(v, nil)
		}
		edge.observe(0.02, []*dto.LabelPair{pair("trace.id", "a\"b\\c\nd-ü"), pair("span_id", "")})
		edge.observe(0.2, []*dto.LabelPair{}) // an exemplar without labels: not written
		edge.observe(7e3, []*dto.LabelPair{pair("trace_id", "inf")})
		edge.mu.Lock()
		edge.exemplars[1].Timestamp = nil
		edge.exemplars[len(edge.upper)].Timestamp = &timestamppb.Timestamp{Seconds: 1767225600, Nanos: 123456789}
		if i == 0 {
			// Counts a probe takes years to reach: 1e+06 in text.
			edge.classic[0] += 999_985
			edge.count += 999_985
		}
		edge.mu.Unlock()
		cc.gauge(cs, &cs.lastRun, cc.lastRun).set(gauges[i])
	}

	var fams []textFamily
	for i, entries := range cc.snapshot() {
		if len(entries) == 0 {
			t.Fatalf("no series in %s", cc.families[i].name)
		}
		fams = append(fams, textFamily{cc.families[i], entries})
	}

	// Hand-made families, their series made by the collector's own
	// constructors where they have labels.
	cs := cc.check(ids[1])
	things := &seriesFamily{name: "llmprobe_test_things", help: "A \"test\" family\\with\nlines.", kind: dto.MetricType_COUNTER.Enum()}
	things.desc = prometheus.NewDesc(things.name, things.help, nil, nil)
	var s1, s2 atomic.Pointer[counterSeries]
	cc.counter(cs, &s1, things, probe.LabelOutcome, "a").add(7)
	cc.counter(cs, &s2, things, probe.LabelOutcome, "b")
	upper := []float64{0.5, 1, math.Inf(1)}
	bare := &seriesFamily{name: "llmprobe_test_bare", help: "", kind: dto.MetricType_HISTOGRAM.Enum(), upper: upper}
	bare.desc = prometheus.NewDesc(bare.name, bare.help, nil, nil)
	h := newHistogramSeries(upper)
	for _, v := range []float64{0.25, 1, 3} {
		h.observe(v, nil)
	}
	h.observe(math.NaN(), []*dto.LabelPair{pair("trace_id", "nan")}) // a second +Inf bucket
	gauge := &seriesFamily{name: "llmprobe_test_gauge", help: "Every value that formats in its own way.", kind: dto.MetricType_GAUGE.Enum()}
	gauge.desc = prometheus.NewDesc(gauge.name, gauge.help, nil, nil)
	for k, v := range append(gauges, 5, -0.5, 1e-7, 123456.789e-20, math.MaxFloat64, math.SmallestNonzeroFloat64) {
		var slot atomic.Pointer[gaugeSeries]
		cc.gauge(cs, &slot, gauge, "n", strconv.Itoa(k)).set(v)
	}
	g := &gaugeSeries{} // without labels
	g.set(-0.5)
	return append(fams,
		textFamily{things, things.entries},
		textFamily{bare, []seriesEntry{{m: h}, {m: newHistogramSeries(nil)}}},
		textFamily{gauge, append(gauge.entries, seriesEntry{m: g})})
}

// textFamily is a family and its series, as a scrape finds them.
type textFamily struct {
	f       *seriesFamily
	entries []seriesEntry
}

// expfmtText is what expfmt's encoder writes for the family's messages
// (write's) in format, and its error.
func expfmtText(f textFamily, format expfmt.Format) ([]byte, error) {
	var b bytes.Buffer
	err := expfmt.NewEncoder(&b, format).Encode(f.f.write(f.entries, &familyBuffer{}))
	return b.Bytes(), err
}

// TestWriteTextIsWhatExpfmtWrites requires the direct text encoding of
// families of every kind, with every value that formats in its own way,
// labels and help to escape, and exemplars of every shape, to be the
// bytes expfmt's encoder writes for the same family's messages, in every
// text format and escaping scheme /metrics can negotiate. One buffer
// serves every family, as in a scrape.
func TestWriteTextIsWhatExpfmtWrites(t *testing.T) {
	fams := textTestFamilies(t)
	buf := &familyBuffer{}
	for _, format := range textFormats(t) {
		for _, fam := range fams {
			if !fam.f.textEncodable(fam.entries, format) {
				t.Fatalf("%s in %q: not encodable directly", fam.f.name, format)
			}
			want, err := expfmtText(fam, format)
			if err != nil {
				t.Fatalf("%s in %q: expfmt: %v", fam.f.name, format, err)
			}
			var got bytes.Buffer
			if err := fam.f.writeText(&got, fam.entries, format, buf); err != nil {
				t.Fatalf("%s in %q: %v", fam.f.name, format, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%s in %q: differs from expfmt's:\n%s", fam.f.name, format, textDiff(got.Bytes(), want))
			}
		}
	}

	// What the families hold, in expfmt's words: so that the comparison
	// cannot pass on families that miss the cases it is for.
	for _, tc := range []struct {
		family string
		format expfmt.Format
		want   []string
	}{
		{probe.MetricProbesTotal, expfmt.FmtOpenMetrics_1_0_0, []string{"# TYPE llmprobe_probes counter\n", `provider="we\\ird\"pro\nvider"`, `model="модель-ü"`}},
		{"llmprobe_test_things", expfmt.FmtOpenMetrics_1_0_0, []string{"# TYPE llmprobe_test_things unknown\n", `# HELP llmprobe_test_things A \"test\" family\\with\nlines.` + "\n"}},
		{"llmprobe_test_things", expfmt.FmtText, []string{"# TYPE llmprobe_test_things counter\n", `# HELP llmprobe_test_things A "test" family\\with\nlines.` + "\n"}},
		{probe.MetricTokensTotal, expfmt.FmtText, []string{"e+17\n"}},
		{probe.MetricEdgeOverhead, expfmt.FmtOpenMetrics_1_0_0, []string{`,le="+Inf"} 15 # {trace_id="inf"} 7000.0 1.7672256001234567e+09` + "\n",
			`# {"trace.id"="a\"b\\c\nd-ü",span_id=""} 0.02` + "\n", `,le="1.0"} `, "_count{", "} 1000000\n", "} NaN\n"}},
		{probe.MetricEdgeOverhead, expfmt.FmtText, []string{"} 1e+06\n", `,le="1"} `, `,le="0.01"} `}},
		{"llmprobe_test_gauge", expfmt.FmtOpenMetrics_1_0_0, []string{"} NaN\n", "} +Inf\n", "} -Inf\n", "} 1e-300\n", "} 42.0\n", "} 0.0\n",
			"} -1.0\n", "} 1.0\n", "} 1e+21\n", "} -2.5\n", "} 5.0\n", "} 1e-07\n", "} 1.23456789e-15\n", "} 1.7976931348623157e+308\n", "} 5e-324\n", "\nllmprobe_test_gauge -0.5\n"}},
		{"llmprobe_test_gauge", expfmt.FmtText, []string{"} 42\n", "} 0\n", "} -1\n", "} 1\n", "} 5\n", "\nllmprobe_test_gauge -0.5\n"}},
		{"llmprobe_test_bare", expfmt.FmtOpenMetrics_1_0_0, []string{"# HELP llmprobe_test_bare \n", `llmprobe_test_bare_bucket{le="+Inf"} 3` + "\n", `llmprobe_test_bare_bucket{le="+Inf"} 4 # {trace_id="nan"} NaN `, "llmprobe_test_bare_count 4\nllmprobe_test_bare_bucket{le=\"+Inf\"} 0\n"}},
	} {
		i := slices.IndexFunc(fams, func(f textFamily) bool { return f.f.name == tc.family })
		got, err := expfmtText(fams[i], tc.format)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !bytes.Contains(got, []byte(w)) {
				t.Errorf("%s in %q: no %q in\n%s", tc.family, tc.format, w, got)
			}
		}
		if tc.format == expfmt.FmtText && bytes.Contains(got, []byte(" # ")) {
			t.Errorf("%s in %q: exemplars in\n%s", tc.family, tc.format, got)
		}
	}
}

// An exemplar whose timestamp is not valid ends expfmt's encoding with an
// error after part of the line; the direct encoding writes the same part
// and fails too.
func TestWriteTextStopsWhereExpfmtStops(t *testing.T) {
	upper := []float64{0.5, 1}
	f := &seriesFamily{name: "llmprobe_test_seconds", help: "h", kind: dto.MetricType_HISTOGRAM.Enum(), upper: upper}
	ok, bad := newHistogramSeries(upper), newHistogramSeries(upper)
	trace := []*dto.LabelPair{{Name: new("trace_id"), Value: new("x")}}
	ok.observe(0.7, trace)
	bad.observe(0.7, trace)
	bad.exemplars[1].Timestamp = &timestamppb.Timestamp{Seconds: math.MaxInt64}
	fam := textFamily{f, []seriesEntry{{m: ok}, {m: bad}}}
	for _, format := range textFormats(t) {
		want, wantErr := expfmtText(fam, format)
		if (wantErr == nil) != (textModeOf(format) == promText) {
			t.Fatalf("%q: expfmt's error %v", format, wantErr)
		}
		var got bytes.Buffer
		err := f.writeText(&got, fam.entries, format, &familyBuffer{})
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%q: error %v, expfmt's %v; output:\n%s", format, err, wantErr, textDiff(got.Bytes(), want))
		}
	}
}

// writes records the size of each Write.
type writes struct {
	bytes.Buffer
	sizes []int
}

func (w *writes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// A family is written in chunks of about textChunk, not kept whole: the
// largest, llmprobe_probes_total of 1,000 checks, is 4 MB of text.
func TestWriteTextWritesInChunks(t *testing.T) {
	m := NewMetrics(NewRegistry())
	for i := range 200 {
		m.InitCheck(probe.Check{Provider: probe.CustomProvider(fmt.Sprintf("p%03d", i), "http://127.0.0.1:1/v1", "m"), Kind: probe.KindChat, Model: "m", Region: "r"})
	}
	f := m.checks.probes
	entries := m.checks.snapshot()[slices.Index(m.checks.families, f)]
	var w writes
	buf := &familyBuffer{}
	if err := f.writeText(&w, entries, expfmt.FmtOpenMetrics_1_0_0, buf); err != nil {
		t.Fatal(err)
	}
	if len(w.sizes) < w.Len()/textChunk || slices.Max(w.sizes) > textChunk+1024 {
		t.Fatalf("%d bytes in writes of %v, want chunks of about %d", w.Len(), w.sizes, textChunk)
	}
	if cap(buf.text) > 2*textChunk {
		t.Fatalf("a buffer of %d bytes kept for a %d-byte family", cap(buf.text), w.Len())
	}
}

// A text scrape reads series while probes write them: histograms under
// their lock, counters and gauges atomically (go test -race checks).
func TestWriteTextWhileProbesObserve(t *testing.T) {
	reg := NewRegistry()
	m := NewMetrics(reg)
	h := MetricsHandler(reg)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := 0; ; k++ {
			select {
			case <-done:
				return
			default:
			}
			ms := time.Duration(k%300+1) * time.Millisecond
			m.Observe(probe.Result{Provider: fmt.Sprintf("p%d", k%7), Check: probe.KindChat, Model: "m", Region: "r",
				Outcome: probe.OutcomeSuccess, Reason: probe.ReasonOK, StatusCode: 200, StartedAt: time.Now(),
				Timings: probe.Timings{Connect: ms / 5, TTFB: ms, Total: 2 * ms}, TraceID: fmt.Sprintf("%032x", k), Tokens: probe.Usage{Input: k}})
		}
	})
	defer wg.Wait()
	defer close(done)
	for _, accept := range []string{"application/openmetrics-text;version=1.0.0", "text/plain;version=0.0.4"} {
		for range 20 {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("Accept %q: status %d", accept, rec.Code)
			}
		}
	}
}

// Families that expfmt's escaping would change, a __name__ label, mixed
// kinds and formats that are not text are left to expfmt.
func TestTextEncodableLeavesTheRestToExpfmt(t *testing.T) {
	pair := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: &n, Value: &v} }
	counter := func(labels ...*dto.LabelPair) seriesEntry {
		return seriesEntry{labels: labels, m: &counterSeries{}}
	}
	fam := func(name string) *seriesFamily {
		return &seriesFamily{name: name, help: "h", kind: dto.MetricType_COUNTER.Enum()}
	}
	ok := []seriesEntry{counter(pair("check", "chat"))}
	om := expfmt.FmtOpenMetrics_1_0_0 + "; escaping=allow-utf-8"
	if !fam("llmprobe_x_total").textEncodable(ok, om) {
		t.Fatal("a plain counter family not encodable")
	}
	for _, tc := range []struct {
		why     string
		f       *seriesFamily
		entries []seriesEntry
		format  expfmt.Format
	}{
		{"a name escaping changes", fam("llmprobe.x_total"), ok, om},
		{"a label name escaping changes", fam("llmprobe_x_total"), []seriesEntry{counter(pair("check.kind", "chat"))}, om},
		{"a __name__ label", fam("llmprobe_x_total"), []seriesEntry{counter(pair("__name__", "a.b"))}, om},
		{"a gauge in a counter family", fam("llmprobe_x_total"), append(slices.Clone(ok), seriesEntry{labels: ok[0].labels, m: &gaugeSeries{}}), om},
		{"no series", fam("llmprobe_x_total"), nil, om},
		{"an untyped family", &seriesFamily{name: "llmprobe_x", kind: dto.MetricType_UNTYPED.Enum()},
			[]seriesEntry{{labels: ok[0].labels, m: &counterSeries{}}}, om},
		{"protobuf", fam("llmprobe_x_total"), ok, expfmt.FmtProtoDelim},
		{"protobuf text", fam("llmprobe_x_total"), ok, expfmt.FmtProtoText},
		{"protobuf compact text", fam("llmprobe_x_total"), ok, expfmt.FmtProtoCompact},
		{"OpenMetrics 2.0", fam("llmprobe_x_total"), ok, expfmt.FmtOpenMetrics_2_0_0},
		{"OpenMetrics 2.0 rc", fam("llmprobe_x_total"), ok, expfmt.FmtOpenMetrics_2_0_0_rc},
	} {
		if tc.f.textEncodable(tc.entries, tc.format) {
			t.Errorf("%s: encodable directly", tc.why)
		}
	}
}

func textDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d: got  %s\n        want %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, expfmt's %d", len(g), len(w))
}
