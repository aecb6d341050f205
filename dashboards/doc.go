// Package dashboards builds llmprobe's Grafana dashboards in Go with
// grafana-foundation-sdk, and the Grafana provisioning that loads them:
//
//   - Overview (UID llmprobe-overview): firing alerts, a provider-by-region
//     matrix, the workers, the shared-edge picture (which CDN fronts which
//     providers, and how many of them fail at the edge together), then one
//     row per provider: state now, availability over the range, error budget
//     left, edge vs origin error ratios and a timeline of outcomes per region.
//   - Provider detail (UID llmprobe-provider; $provider, $check, $region):
//     phase latency percentiles and a TTFB heatmap, edge overhead, failures
//     by reason, a per-region comparison, the official status page beside
//     the probe-measured availability, rate-limit headroom, tokens and cost.
//   - SLOs (UID llmprobe-slo): per SLO the objective, the SLI over the SLO
//     window, the error budget left, the burn rate per window with the alert
//     thresholds drawn, and the time to exhaustion.
//
// Each dashboard is a type with a Build() (dashboard.Dashboard, error)
// method, in its own file; the query and panel helpers they share are in
// common.go, and their PromQL is written by internal/promql, as the rules'
// is. Panel IDs are constants in slo/panels.go, because alert rules link to
// them (slo.AlertPanel). Queries read the worker's metrics
// (probe/names.go) and the SLO recording rules (slo/conventions.go) by
// their constants, never by spelled-out names, so a rename breaks the build
// or the tests rather than a dashboard in production.
//
// Generate renders every dashboard and the provisioning files; `llmprobe
// generate` writes them under deploy/grafana/. The output depends only on
// its Options and is byte-for-byte reproducible (JSON with sorted keys).
package dashboards
