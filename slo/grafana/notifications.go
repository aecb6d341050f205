package grafana

import (
	"fmt"
	"time"

	sdk "github.com/grafana/grafana-foundation-sdk/go/alerting"
	"github.com/grafana/grafana-foundation-sdk/go/cog"

	"github.com/llmprobe/llmprobe/slo"
)

// GroupBy is how notifications are grouped, as in the Alertmanager
// configuration: one group per provider and layer, whichever alert of the
// outage fires; edge and region group the alerts that have no provider.
var GroupBy = []string{"provider", slo.LabelLayer, "edge", "region"}

// ContactPoints are the page and ticket contact points, named like the
// Alertmanager receivers, each a webhook to the spec's
// alertmanager.webhookURL that also sends resolved notifications.
func ContactPoints(s slo.Spec) ([]ContactPointGroup, error) {
	var out []ContactPointGroup
	for _, name := range []string{slo.ReceiverPage, slo.ReceiverTicket} {
		cp, err := sdk.NewContactPointBuilder().
			Uid(name + webhookUIDSuffix).
			Type(sdk.ContactPointTypeWebhook).
			Settings(map[string]any{"url": s.Alertmanager.WebhookURL, "httpMethod": "POST"}).
			DisableResolveMessage(false).
			Build()
		if err != nil {
			return nil, fmt.Errorf("build contact point %s: %w", name, err)
		}
		out = append(out, ContactPointGroup{OrgID: OrgID, Name: name, Receivers: []sdk.ContactPoint{cp}})
	}
	return out, nil
}

// matcher is a label matcher in the object_matchers form.
func matcher(name, value string) sdk.ObjectMatcher {
	return sdk.ObjectMatcher{name, "=", value}
}

// PolicyTree is the notification policy tree, routed and timed like the
// Alertmanager configuration of the same profile: tickets by default,
// severity=page to the page contact point, and a provider's edge-layer page
// waits longer so that a shared-edge incident can be seen first (Grafana
// cannot inhibit it, but the wait still lets the incident arrive first).
func PolicyTree(p slo.Profile) (sdk.NotificationPolicy, error) {
	d := func(nominal time.Duration) string { return slo.FormatDuration(p.ScaleAtLeast(nominal, time.Second)) }
	edge := sdk.NewNotificationPolicyBuilder().
		ObjectMatchers(sdk.ObjectMatchers{{"alertname", "=~", slo.AlertErrorBudgetBurn + "|" + slo.AlertProviderDown}, matcher(slo.LabelLayer, "edge")}).
		GroupWait(slo.FormatDuration(slo.EdgeGroupWait(p)))
	page := sdk.NewNotificationPolicyBuilder().
		ObjectMatchers(sdk.ObjectMatchers{matcher(slo.LabelSeverity, slo.SeverityPage)}).
		Receiver(slo.ReceiverPage).
		GroupWait(slo.FormatDuration(slo.PageGroupWait(p))).
		RepeatInterval(d(time.Hour)).
		Routes([]cog.Builder[sdk.NotificationPolicy]{edge})
	ticket := sdk.NewNotificationPolicyBuilder().
		ObjectMatchers(sdk.ObjectMatchers{matcher(slo.LabelSeverity, slo.SeverityTicket)}).
		Receiver(slo.ReceiverTicket).
		GroupWait(d(2 * time.Minute)).
		RepeatInterval(d(24 * time.Hour))
	root, err := sdk.NewNotificationPolicyBuilder().
		Receiver(slo.ReceiverTicket).
		GroupBy(GroupBy).
		GroupWait(d(30 * time.Second)).
		GroupInterval(d(5 * time.Minute)).
		RepeatInterval(d(12 * time.Hour)).
		Routes([]cog.Builder[sdk.NotificationPolicy]{page, ticket}).
		Build()
	if err != nil {
		return sdk.NotificationPolicy{}, fmt.Errorf("build notification policy: %w", err)
	}
	return root, nil
}
