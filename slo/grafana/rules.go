package grafana

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	sdk "github.com/grafana/grafana-foundation-sdk/go/alerting"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/expr"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/llmprobe/llmprobe/slo"
)

// GroupOf is the Grafana rule group of an alert.
func GroupOf(alert string) string {
	switch alert {
	case slo.AlertErrorBudgetBurn:
		return GroupAvailability
	case slo.AlertLatencyBudgetBurn, slo.AlertDegraded:
		return GroupLatency
	case slo.AlertProviderDown, slo.AlertSharedEdgeIncident:
		return GroupFast
	case slo.AlertRegionalFailure:
		return GroupIncidents
	}
	return GroupProbes
}

// groupOrder is the order of the groups in the rules file.
var groupOrder = []string{GroupFast, GroupAvailability, GroupLatency, GroupIncidents, GroupProbes}

// RuleUID is a rule's stable UID: the alert name without its LLMProbe
// prefix, then the severity for burn-rate alerts or the cause for the
// regional ones, which share an alert name.
func RuleUID(r slo.Rule) string {
	uid := "llmprobe-" + strings.ToLower(strings.TrimPrefix(r.Alert, "LLMProbe"))
	switch {
	case r.Labels[slo.LabelCause] != "":
		uid += "-" + r.Labels[slo.LabelCause]
	case r.Alert == slo.AlertErrorBudgetBurn || r.Alert == slo.AlertLatencyBudgetBurn:
		uid += "-" + r.Labels[slo.LabelSeverity]
	}
	return uid
}

// valueRef matches $value in a Prometheus alert template. In Grafana
// $value is every query's value in one string; the PromQL's value is
// $values.A.Value.
var valueRef = regexp.MustCompile(`\$value\b`)

// Annotations are a Prometheus rule's annotations as Grafana templates
// them ($value read from query A, query-listing constructs put in words,
// see grafanaText), plus the link to the alert's panel.
func Annotations(r slo.Rule) (map[string]string, error) {
	panel, ok := slo.AlertPanel(r.Alert, r.Labels)
	if !ok {
		return nil, fmt.Errorf("alert %s has no dashboard panel", r.Alert)
	}
	out := make(map[string]string, len(r.Annotations)+2)
	for k, v := range r.Annotations {
		text, err := grafanaText(v)
		if err != nil {
			return nil, fmt.Errorf("alert %s annotation %s: %w", r.Alert, k, err)
		}
		out[k] = valueRef.ReplaceAllString(text, "$$values."+RefQuery+".Value")
	}
	out[AnnotationDashboardUID] = panel.DashboardUID
	out[AnnotationPanelID] = strconv.FormatUint(uint64(panel.PanelID), 10)
	return out, nil
}

// forDuration is a rule's `for` as Grafana writes it: 0s when Prometheus'
// is empty.
func forDuration(f string) string {
	if f == "" {
		return "0s"
	}
	return f
}

// ruleBuilder turns one Prometheus alerting rule into a Grafana rule.
func ruleBuilder(r slo.Rule, group string) (*sdk.RuleBuilder, error) {
	ann, err := Annotations(r)
	if err != nil {
		return nil, err
	}
	promDS := common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(slo.DatasourceUID)}
	exprDS := common.DataSourceRef{Type: cog.ToPtr(ExprDatasourceUID), Uid: cog.ToPtr(ExprDatasourceUID)}
	a := sdk.NewQueryBuilder(RefQuery).
		DatasourceUid(slo.DatasourceUID).
		RelativeTimeRange(queryLookback, 0).
		Model(prometheus.NewDataqueryBuilder().RefId(RefQuery).Datasource(promDS).Expr(r.Expr).Instant())
	b := sdk.NewQueryBuilder(RefCondition).
		DatasourceUid(ExprDatasourceUID).
		Model(expr.NewTypeMathBuilder().RefId(RefCondition).Datasource(exprDS).Expression(FiresForEverySeries))
	return sdk.NewRuleBuilder(r.Alert).
		Uid(RuleUID(r)).
		OrgID(OrgID).
		FolderUID(Folder).
		RuleGroup(group).
		WithQuery(a).
		WithQuery(b).
		Condition(RefCondition).
		// No series is the inactive state, as in Prometheus; an error in
		// the query raises Grafana's DatasourceError alert.
		NoDataState(sdk.RuleNoDataStateOK).
		ExecErrState(sdk.RuleExecErrStateError).
		For(forDuration(r.For)).
		Labels(r.Labels).
		Annotations(ann), nil
}

// RuleGroups builds the Grafana rule groups from the Prometheus alerting
// rules of res, in their order, evaluated as often as the Prometheus group.
func RuleGroups(res slo.Result) ([]sdk.RuleGroup, error) {
	byGroup := map[string]*sdk.RuleGroupBuilder{}
	for _, pg := range res.Alerts.Groups {
		interval, err := time.ParseDuration(pg.Interval)
		if err != nil {
			return nil, fmt.Errorf("rule group %s: interval %q: %w", pg.Name, pg.Interval, err)
		}
		if interval%time.Second != 0 {
			return nil, fmt.Errorf("rule group %s: interval %s is not whole seconds", pg.Name, pg.Interval)
		}
		for _, r := range pg.Rules {
			if r.Alert == "" {
				continue
			}
			name := GroupOf(r.Alert)
			rb, err := ruleBuilder(r, name)
			if err != nil {
				return nil, err
			}
			gb, ok := byGroup[name]
			if !ok {
				gb = sdk.NewRuleGroupBuilder(name).FolderUid(Folder).Interval(sdk.Duration(interval / time.Second))
				byGroup[name] = gb
			}
			gb.WithRule(rb)
		}
	}
	var out []sdk.RuleGroup
	for _, name := range groupOrder {
		gb, ok := byGroup[name]
		if !ok {
			continue
		}
		g, err := gb.Build()
		if err != nil {
			return nil, fmt.Errorf("build rule group %s: %w", name, err)
		}
		out = append(out, g)
	}
	return out, nil
}
