// Package grafana turns the SLO alerts of package slo into Grafana-managed
// alerting: rule groups, a contact point and a notification policy tree, as
// Grafana file provisioning (deploy/grafana/provisioning/alerting/), built
// with the alerting builders of grafana-foundation-sdk.
//
// It adds no alert logic of its own. Every Grafana rule is one Prometheus
// alerting rule of slo.Generate: the same PromQL expression (query A, an
// instant query, so thresholds and windows are the PromQL's own), the same
// `for`, labels and annotations, and a condition B that fires for every
// series A returns, whatever its value, as Prometheus does. The policy tree
// routes and groups like the generated Alertmanager configuration.
//
// Grafana's built-in Alertmanager has no inhibition rules: with Grafana
// alerting a shared-edge incident does not mute the per-provider edge pages,
// and a page does not mute its ticket. Ship Prometheus rules (the default)
// where that matters.
package grafana
