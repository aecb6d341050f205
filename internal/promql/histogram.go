package promql

// A histogram reaches Prometheus as classic series (name_bucket with an le
// label, name_count, name_sum), as one native histogram series (name), or
// as both: Prometheus 2 and a Prometheus 3 scraping text formats store the
// classic series; a Prometheus 3 scraping protobuf with
// scrape_native_histograms stores the native one, and the classic ones too
// with always_scrape_classic_histograms. The llmprobe worker exposes both,
// so the helpers below read either, and say which one wins where a
// Prometheus stores both. Each writes `classic or native` (or the reverse):
// the two halves carry the same labels, so `or` keeps one per series.

// HistogramCount is the number of observations over rng, summed by
// labels: the classic name_count where it exists (exact), else
// histogram_count of the native histogram (exact too).
func HistogramCount(labels, name string, matchers []string, rng string) string {
	return Lines(
		SumBy(labels, Increase(Sel(name+"_count", matchers...), rng)),
		"or",
		SumBy(labels, "histogram_count("+Increase(Sel(name, matchers...), rng)+")"),
	)
}

// HistogramBelow is the number of observations at most upper over rng,
// summed by labels: the classic bucket le (leMatcher selects it) where it
// exists, exact when upper is a bucket boundary; else the native
// histogram's count times histogram_fraction(0, upper), which interpolates
// within the native bucket that holds upper (native buckets are about 10 %
// wide, so the estimate is off by at most the share of observations in
// that one bucket).
func HistogramBelow(labels, name string, matchers []string, leMatcher, upper string, rng string) string {
	native := Increase(Sel(name, matchers...), rng)
	return Lines(
		SumBy(labels, Increase(Sel(name+"_bucket", With(matchers, leMatcher)...), rng)),
		"or",
		SumBy(labels, "histogram_fraction(0, "+upper+", "+native+") * histogram_count("+native+")"),
	)
}

// HistogramQuantile is the q-quantile of the observations over rng, by
// labels: from the native histogram where it exists (its buckets are finer),
// else from the classic buckets.
func HistogramQuantile(q, labels, name string, matchers []string, rng string) string {
	classicBy := "le"
	if labels != "" {
		classicBy = labels + ", le"
	}
	return Lines(
		"histogram_quantile("+q+", "+SumBy(labels, Rate(Sel(name, matchers...), rng))+")",
		"or",
		"histogram_quantile("+q+", "+SumBy(classicBy, Rate(Sel(name+"_bucket", matchers...), rng))+")",
	)
}

// HistogramIncrease is the histogram of the observations over rng, summed
// over every series, for a heatmap: the classic buckets by le where they
// exist, else the native histogram (Grafana draws either). Unlike the
// other helpers the two halves differ in labels (le or none), so the
// native half is dropped outright when any classic bucket answers.
func HistogramIncrease(name string, matchers []string, rng string) string {
	classic := SumBy("le", Increase(Sel(name+"_bucket", matchers...), rng))
	return Lines(
		classic,
		"or",
		"("+SumBy("", Increase(Sel(name, matchers...), rng))+" unless on () "+classic+")",
	)
}
