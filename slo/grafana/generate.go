package grafana

import (
	"fmt"

	"github.com/llmprobe/llmprobe/slo"
)

// Generate builds the Grafana alerting provisioning files from the spec and
// the result slo.Generate returned for it and profile p: the rules are
// res.Alerts, rule for rule.
func Generate(s slo.Spec, p slo.Profile, res slo.Result) ([]slo.File, error) {
	groups, err := RuleGroups(res)
	if err != nil {
		return nil, err
	}
	rf := RulesFile{APIVersion: 1}
	for _, g := range groups {
		fg, err := fileGroup(g)
		if err != nil {
			return nil, err
		}
		rf.Groups = append(rf.Groups, fg)
	}
	cps, err := ContactPoints(s)
	if err != nil {
		return nil, err
	}
	tree, err := PolicyTree(p)
	if err != nil {
		return nil, err
	}
	profile := fmt.Sprintf("Profile %s; generated from the SLO spec with llmprobe generate --alerting grafana.", p.Name)
	rules, err := Render(rf,
		"Grafana-managed alert rules of llmprobe: each is a rule of "+slo.FileAlertRules,
		"with the same PromQL (query A) and fires for every series A returns (condition B).",
		profile)
	if err != nil {
		return nil, fmt.Errorf("render Grafana alert rules: %w", err)
	}
	contacts, err := Render(ContactPointsFile{APIVersion: 1, ContactPoints: cps},
		"Contact points of llmprobe's Grafana alerts: a webhook (alertmanager.webhookURL of the SLO spec).",
		profile)
	if err != nil {
		return nil, fmt.Errorf("render Grafana contact points: %w", err)
	}
	policies, err := Render(PoliciesFile{APIVersion: 1, Policies: []Policy{{OrgID: OrgID, Tree: tree}}},
		"Notification policy tree of llmprobe's Grafana alerts, routed like "+slo.FileAlertmanager+".",
		"It replaces the organization's whole tree. Grafana has no inhibition rules.",
		profile)
	if err != nil {
		return nil, fmt.Errorf("render Grafana notification policies: %w", err)
	}
	return []slo.File{
		{Path: FileRules, Data: rules},
		{Path: FileContactPoints, Data: contacts},
		{Path: FilePolicies, Data: policies},
	}, nil
}
