// Package worker runs one region's checks and fans each result out to its
// sinks. It is everything around the pure probe (package probe):
//
//   - scheduler.go: a timer per check, a random start offset, never
//     overlapping itself, a pool of goroutines bounding concurrency;
//     politeness.go backs off after 429/529 and keeps the daily budgets.
//   - fanout.go: the scheduler's Recorder, sending each Result to
//     tracing.go (an OTLP span per probe), metrics.go (the Prometheus
//     contract), status.go (the store behind /api/status) and the log.
//   - control.go and providerstatus.go: the loops that probe control
//     targets outside any provider and read the providers' public status
//     pages.
//   - page.go and page_view.go: the status page, rendered from the same
//     report as /api/status.
//   - config.go: the LLMPROBE_* settings; run.go: Run, which assembles all
//     of it behind one HTTP server and shuts it down within a bound.
//
// `llmprobe run` and `llmprobe demo` both call Run.
package worker
