package demo

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/llmprobe/llmprobe/internal/ruleeval"
	"github.com/llmprobe/llmprobe/probe"
)

// The demo's Prometheus: it scrapes each region's worker every
// scrapeInterval of incident time into the rule evaluator's store, after
// six hours of healthy history it makes up from the first scrape, so the
// rules' long windows hold a normal day's tail and the pages come as they
// would in production.

const (
	scrapeInterval = 15 * time.Second
	healthyHistory = 6 * time.Hour
)

// scrapedMetrics are the metrics the rules read; the others are not kept.
var scrapedMetrics = map[string]bool{
	probe.MetricProbesTotal: true, probe.MetricProbesUnmeasured: true, probe.MetricControlSuccess: true,
	probe.MetricProviderInfo: true, probe.MetricCheckLastRun: true, probe.MetricCheckSuccess: true,
	probe.MetricProbeDuration: true, probe.MetricPhaseDuration: true, probe.MetricProbesSkipped: true,
}

// scrapedSample is one sample of a scrape.
type scrapedSample struct {
	labels     labels.Labels
	value      float64
	cumulative bool // a counter, or a histogram's bucket, count or sum
}

// scrape reads a worker's /metrics and returns the samples the rules read.
func scrape(ctx context.Context, url string) ([]scrapedSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parse %s/metrics: %w", url, err)
	}
	var out []scrapedSample
	for name, f := range fams {
		if !scrapedMetrics[name] {
			continue
		}
		for _, m := range f.GetMetric() {
			b := labels.NewBuilder(labels.EmptyLabels())
			for _, lp := range m.GetLabel() {
				b.Set(lp.GetName(), lp.GetValue())
			}
			if name == probe.MetricPhaseDuration {
				if ph := b.Get(probe.LabelPhase); ph != probe.PhaseTTFB && ph != probe.PhaseTTFT {
					continue
				}
			}
			with := func(metric string, extra ...string) labels.Labels {
				bb := labels.NewBuilder(b.Labels())
				bb.Set(labels.MetricName, metric)
				for i := 0; i+1 < len(extra); i += 2 {
					bb.Set(extra[i], extra[i+1])
				}
				return bb.Labels()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out = append(out, scrapedSample{with(name), m.GetCounter().GetValue(), true})
			case dto.MetricType_GAUGE:
				out = append(out, scrapedSample{with(name), m.GetGauge().GetValue(), false})
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, bk := range h.GetBucket() {
					out = append(out, scrapedSample{with(name+"_bucket", "le", formatLe(bk.GetUpperBound())), float64(bk.GetCumulativeCount()), true})
				}
				out = append(out, scrapedSample{with(name+"_bucket", "le", "+Inf"), float64(h.GetSampleCount()), true})
				out = append(out, scrapedSample{with(name + "_count"), float64(h.GetSampleCount()), true})
				out = append(out, scrapedSample{with(name + "_sum"), h.GetSampleSum(), true})
			}
		}
	}
	return out, nil
}

func formatLe(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// history writes healthyHistory of made-up healthy samples before t0 for
// every series of the first scrape, and returns the offsets that continue
// each cumulative series from there: every probe a success every interval,
// its time to first byte or token 20 ms, the whole probe 30 ms (a fake on
// loopback answers in a few), every
// control target answering. Samples are a minute apart, five minutes apart
// before the last half hour (the rules read the older ones only over windows
// of an hour or more).
func history(store *ruleeval.Store, first []scrapedSample, t0 time.Time, interval time.Duration) map[string]float64 {
	start := t0.Add(-healthyHistory)
	probesAt := func(t time.Time) float64 { return math.Floor(float64(t.Sub(start)) / float64(interval)) }
	const ttfb, total = 0.02, 0.03
	valueAt := func(s scrapedSample, t time.Time) float64 {
		name := s.labels.Get(labels.MetricName)
		n := probesAt(t)
		le, _ := strconv.ParseFloat(s.labels.Get("le"), 64)
		switch {
		case name == probe.MetricProbesTotal:
			if s.labels.Get(probe.LabelOutcome) == string(probe.OutcomeSuccess) {
				return n
			}
			return 0
		case name == probe.MetricCheckLastRun:
			return float64(t.Unix())
		case strings.HasPrefix(name, probe.MetricProbeDuration):
			if s.labels.Get(probe.LabelOutcome) != string(probe.OutcomeSuccess) {
				return 0
			}
			return histogramAt(name, le, n, total)
		case strings.HasPrefix(name, probe.MetricPhaseDuration):
			return histogramAt(name, le, n, ttfb)
		case s.cumulative:
			return 0
		}
		return s.value // gauges: as the worker says now
	}
	offsets := map[string]float64{}
	for _, s := range first {
		for t := start; t.Before(t0); {
			store.Append(s.labels, t, valueAt(s, t))
			if t0.Sub(t) > 30*time.Minute {
				t = t.Add(5 * time.Minute)
			} else {
				t = t.Add(time.Minute)
			}
		}
		if s.cumulative {
			offsets[s.labels.String()] = valueAt(s, t0) - s.value
		}
	}
	return offsets
}

// histogramAt is a histogram series' value after n observations of v.
func histogramAt(name string, le, n, v float64) float64 {
	switch {
	case strings.HasSuffix(name, "_bucket"):
		if v <= le {
			return n
		}
		return 0
	case strings.HasSuffix(name, "_sum"):
		return n * v
	}
	return n // _count
}

// scrapeTarget is one worker as the demo's Prometheus sees it: the series
// of its last scrape (to mark the vanished ones stale) and the offsets that
// continue the made-up history.
type scrapeTarget struct {
	url     string
	offsets map[string]float64
	last    map[string]labels.Labels
}

// scrapeInto scrapes the target at t into the store.
func (st *scrapeTarget) scrapeInto(ctx context.Context, store *ruleeval.Store, t time.Time) error {
	samples, err := scrape(ctx, st.url)
	if err != nil {
		return err
	}
	now := map[string]labels.Labels{}
	for _, s := range samples {
		key := s.labels.String()
		now[key] = s.labels
		store.Append(s.labels, t, s.value+st.offsets[key])
	}
	for k, l := range st.last {
		if _, ok := now[k]; !ok {
			store.MarkStale(l, t)
		}
	}
	st.last = now
	return nil
}
