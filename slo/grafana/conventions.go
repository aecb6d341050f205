package grafana

// Paths of the generated files, relative to the output directory (deploy/).
// The compose stack mounts grafana/provisioning at /etc/grafana/provisioning,
// so Grafana loads these at start.
const (
	FileRules         = "grafana/provisioning/alerting/llmprobe-rules.yml"
	FileContactPoints = "grafana/provisioning/alerting/llmprobe-contact-points.yml"
	FilePolicies      = "grafana/provisioning/alerting/llmprobe-policies.yml"
)

// Rule groups, in file order: the fast pages (a provider check failing now,
// a shared-edge incident) on their short interval, one per SLO
// (availability, latency and slowness), one for the regional incidents, one
// for the probes' own health.
const (
	GroupFast         = "llmprobe-fast"
	GroupAvailability = "llmprobe-slo-availability"
	GroupLatency      = "llmprobe-slo-latency"
	GroupIncidents    = "llmprobe-incidents"
	GroupProbes       = "llmprobe-probes"
)

// Folder is the Grafana folder of the rules; the dashboards live in the
// folder of the same name.
const Folder = "llmprobe"

// OrgID is the Grafana organization everything is provisioned into.
const OrgID int64 = 1

// Query reference IDs of every rule: A is the PromQL, B the condition.
const (
	RefQuery     = "A"
	RefCondition = "B"
)

// ExprDatasourceUID is the datasource UID of Grafana's server-side
// expressions.
const ExprDatasourceUID = "__expr__"

// FiresForEverySeries is condition B, a math expression over A. It is 1 for
// every series A returns, whatever its value (the network-down alert's value
// is 0, and Prometheus fires on any returned series), and A returns no
// series when the alert is inactive.
const FiresForEverySeries = "is_number($A) || is_nan($A) || is_inf($A)"

// queryLookback is A's relative time range. A is an instant query
// evaluated at the end of the range; every window is written in the PromQL.
const queryLookback = 600 // seconds

// Annotations Grafana reads to link a rule to its dashboard panel.
const (
	AnnotationDashboardUID = "__dashboardUid__"
	AnnotationPanelID      = "__panelId__"
)

// Contact points are named like the Alertmanager receivers
// (slo.ReceiverPage, slo.ReceiverTicket); each holds one webhook receiver
// whose UID is the contact point's name plus this suffix.
const webhookUIDSuffix = "-webhook"
