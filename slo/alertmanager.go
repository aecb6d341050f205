package slo

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// alertmanagerTemplate is the Alertmanager configuration. It is a template
// rather than marshalled structs so that it can carry comments: why each
// inhibition holds, and the commented Slack and PagerDuty receivers. Its
// delimiters are [[ ]] because Alertmanager's own templates use {{ }}.
//
// Rendered with Subtree set, it is the part to merge into an existing
// Alertmanager configuration (FileAlertmanagerSubtree): the same route as a
// subtree that matches llmprobe's alerts only, the same inhibit rules and
// receivers, and no global section.
const alertmanagerTemplate = `[[ if .Subtree -]]
# llmprobe's alert routing, to merge into an existing Alertmanager
# configuration (profile [[ .Profile ]]); alertmanager.yml beside it is the
# same routing as a whole configuration. Merge it so:
#   route:      add this route to your root route's routes, before any route
#               that would catch these alerts first (it matches llmprobe's
#               alerts by name and stops there: set continue: true to let
#               them reach your routes as well);
#   inhibit_rules: append these (they only match llmprobe's alerts);
#   receivers:  append these, or rename the receivers in the route to yours.
# Then check the result: amtool check-config alertmanager.yml
[[- else -]]
# Alertmanager routing for llmprobe's alerts (profile [[ .Profile ]]).
# To merge it into an existing Alertmanager instead, see [[ .SubtreeFile ]].
[[- end ]]
# Page alerts go to [[ .Page ]], ticket alerts to [[ .Ticket ]]; both are a
# webhook (alertmanager.webhookURL of the SLO spec). To reach a person,
# uncomment the PagerDuty or Slack receiver below in your copy.
[[ if not .Subtree -]]
global:
  resolve_timeout: [[ .ResolveTimeout ]]
[[ end -]]
route:
[[- if .Subtree ]]
  matchers: ['alertname=~"[[ .AlertNames ]]"']
[[- end ]]
  receiver: [[ .Ticket ]]
  # One notification group per provider and layer: the fast page and the
  # error-budget page of one outage are one incident, whichever fires or
  # resolves first (a receiver such as PagerDuty keys its incident on the
  # group). edge and region group the alerts that have no provider
  # (shared-edge, regional, worker down).
  group_by: [provider, layer, edge, region]
  group_wait: [[ .GroupWait ]]
  group_interval: [[ .GroupInterval ]]
  repeat_interval: [[ .RepeatInterval ]]
  routes:
    - matchers: ['[[ .SeverityLabel ]]="[[ .SeverityPage ]]"']
      receiver: [[ .Page ]]
      # A page's evidence is in when it fires (failed probes from several
      # regions): the wait only gathers the other checks of the provider
      # that fire in the same evaluations.
      group_wait: [[ .PageGroupWait ]]
      repeat_interval: [[ .PageRepeatInterval ]]
      routes:
        # A provider's edge-layer page waits longer for its first
        # notification: when a second provider behind the same CDN fails a
        # little later, the shared-edge incident fires meanwhile and
        # inhibits it (Alertmanager mutes at notification time).
        - matchers: ['alertname=~"[[ .ProviderPages ]]"', '[[ .LayerLabel ]]="edge"']
          group_wait: [[ .EdgePageGroupWait ]]
    - matchers: ['[[ .SeverityLabel ]]="[[ .SeverityTicket ]]"']
      receiver: [[ .Ticket ]]
      group_wait: [[ .TicketGroupWait ]]
      repeat_interval: [[ .TicketRepeatInterval ]]
inhibit_rules:
  # A shared-edge incident explains the edge-layer alerts of every provider
  # behind that CDN: one page, not one per provider. Per-provider alerts carry
  # the edge label for this match.
  - source_matchers: ['alertname="[[ .SharedEdge ]]"']
    target_matchers: ['alertname=~"[[ .ProviderPages ]]"', '[[ .LayerLabel ]]="edge"']
    equal: ["[[ .EdgeLabel ]]"]
  # The fast page and the error-budget page of one outage are one page: while
  # a provider check is down now, its burn-rate page for the same layer waits.
  - source_matchers: ['alertname="[[ .ProviderDown ]]"']
    target_matchers: ['alertname="[[ .ErrorBudget ]]"', '[[ .SeverityLabel ]]="[[ .SeverityPage ]]"']
    equal: [provider, check, layer]
  # A region whose own network is down (no control target answers) explains
  # the provider failures seen only from that region. Per-provider alerts
  # carry no region: the rules already leave such regions out of their
  # quorum.
  - source_matchers: ['alertname="[[ .Regional ]]"', '[[ .CauseLabel ]]="[[ .CauseNetwork ]]"']
    target_matchers: ['alertname="[[ .Regional ]]"', '[[ .CauseLabel ]]="[[ .CauseProviders ]]"']
    equal: ["[[ .RegionLabel ]]"]
  # A page makes the ticket for the same SLO and layer redundant.
  - source_matchers: ['alertname=~"[[ .BurnAlerts ]]"', '[[ .SeverityLabel ]]="[[ .SeverityPage ]]"']
    target_matchers: ['alertname=~"[[ .BurnAlerts ]]"', '[[ .SeverityLabel ]]="[[ .SeverityTicket ]]"']
    equal: [alertname, provider, check, layer, slo]
receivers:
  - name: [[ .Page ]]
    webhook_configs:
      - url: [[ .WebhookURL ]]
        send_resolved: true
    # pagerduty_configs:
    #   - routing_key: <PagerDuty Events API v2 integration key>
    #     severity: critical
    #     description: '{{ .CommonAnnotations.summary }}'
    #     links:
    #       - href: '{{ .CommonAnnotations.dashboard_url }}'
    #         text: dashboard
    #       - href: '{{ .CommonAnnotations.runbook_url }}'
    #         text: runbook
  - name: [[ .Ticket ]]
    webhook_configs:
      - url: [[ .WebhookURL ]]
        send_resolved: true
    # slack_configs:
    #   - api_url: https://hooks.slack.com/services/<your webhook path>
    #     channel: '#llm-providers'
    #     send_resolved: true
    #     title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.provider }} {{ .CommonLabels.layer }}'
    #     text: '{{ range .Alerts }}{{ .Annotations.summary }} <{{ .Annotations.runbook_url }}|runbook> <{{ .Annotations.dashboard_url }}|dashboard>{{ "\n" }}{{ end }}'
`

// alertmanagerConfig renders the Alertmanager configuration, or with
// subtree its part to merge into an existing one. Timings are scaled by
// the profile but never below a second.
func alertmanagerConfig(s Spec, p Profile, subtree bool) ([]byte, error) {
	t, err := template.New("alertmanager").Delims("[[", "]]").Parse(alertmanagerTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse Alertmanager template: %w", err)
	}
	d := func(nominal time.Duration) string { return FormatDuration(p.ScaleAtLeast(nominal, time.Second)) }
	data := map[string]any{
		"Subtree":        subtree,
		"SubtreeFile":    FileAlertmanagerSubtree,
		"AlertNames":     strings.Join(AlertNames(), "|"),
		"Profile":        p.Name,
		"Page":           ReceiverPage,
		"Ticket":         ReceiverTicket,
		"ResolveTimeout": d(5 * time.Minute),
		"GroupWait":      d(30 * time.Second),
		"PageGroupWait":  FormatDuration(PageGroupWait(p)),
		// A probe interval and a few evaluations more than GroupWait; never
		// under 5s, so the test profile's 1s evaluations fit too.
		"EdgePageGroupWait":    FormatDuration(EdgeGroupWait(p)),
		"GroupInterval":        d(5 * time.Minute),
		"RepeatInterval":       d(12 * time.Hour),
		"PageRepeatInterval":   d(time.Hour),
		"TicketGroupWait":      d(2 * time.Minute),
		"TicketRepeatInterval": d(24 * time.Hour),
		"SeverityLabel":        LabelSeverity,
		"SeverityPage":         SeverityPage,
		"SeverityTicket":       SeverityTicket,
		"SharedEdge":           AlertSharedEdgeIncident,
		"ErrorBudget":          AlertErrorBudgetBurn,
		"ProviderDown":         AlertProviderDown,
		"ProviderPages":        AlertErrorBudgetBurn + "|" + AlertProviderDown,
		"Regional":             AlertRegionalFailure,
		"BurnAlerts":           strings.Join([]string{AlertErrorBudgetBurn, AlertLatencyBudgetBurn}, "|"),
		"LayerLabel":           LabelLayer,
		"EdgeLabel":            "edge",
		"RegionLabel":          "region",
		"CauseLabel":           LabelCause,
		"CauseNetwork":         CauseNetwork,
		"CauseProviders":       CauseProviders,
		"WebhookURL":           s.Alertmanager.WebhookURL,
	}
	var b bytes.Buffer
	b.WriteString(generatedHeader)
	if err := t.Option("missingkey=error").Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render Alertmanager config: %w", err)
	}
	return b.Bytes(), nil
}
