// Package probe holds llmprobe's provider catalog, the prober (one HTTP
// exchange on a fresh connection, on the probe's goroutine, timed phase by
// phase, SSE streams included), and the classifier that turns what the
// prober observed into one contract outcome and reason: who failed, the CDN
// edge, the provider's origin, the network path, or the probe's own
// configuration.
//
// The flow is Check -> Prober.Probe -> Observation -> Classify -> Result.
// Classify is a pure function with no I/O, so it is table-tested against the
// corpus in testdata and fuzzed.
package probe
