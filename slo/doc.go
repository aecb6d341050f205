// Package slo turns llmprobe's SLO spec into the Prometheus recording and
// alerting rules, the Prometheus Operator PrometheusRule and the Alertmanager
// configuration that `llmprobe generate` writes under deploy/.
//
// The spec (spec.go) has defaults in code and may be overridden by a
// versioned YAML file (specfile.go). Generation is an ordered pipeline, in
// the manner of slok/sloth (generate.go): validate the spec, record the SLIs
// as good and total probe counts per window with ratios derived from them
// (recording.go), record SLO metadata and burn rates, build the multiwindow
// multi-burn-rate alerts of the Google SRE workbook and the llmprobe-specific
// alerts (alerts.go), then render rule files (rules.go, operator.go) and the
// Alertmanager routing (alertmanager.go). The burn-rate windows are data
// (windows.go); every rule, metric, label and group name is spelled once, in
// conventions.go. A profile (profile.go) compresses every time span for
// end-to-end tests; measurability.go warns when an objective cannot be
// measured at the configured probe rate.
package slo
