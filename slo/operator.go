package slo

// prometheusRule is a Prometheus Operator PrometheusRule
// (monitoring.coreos.com/v1): the same rule groups as the rule files, for
// clusters where the operator loads rules. The namespace and any label the
// Prometheus ruleSelector wants are left to kustomize.
type prometheusRule struct {
	APIVersion string             `yaml:"apiVersion"`
	Kind       string             `yaml:"kind"`
	Metadata   prometheusRuleMeta `yaml:"metadata"`
	Spec       RuleFile           `yaml:"spec"`
}

type prometheusRuleMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

// operatorRule renders the PrometheusRule holding every group.
func operatorRule(groups []RuleGroup, p Profile) ([]byte, error) {
	pr := prometheusRule{
		APIVersion: "monitoring.coreos.com/v1",
		Kind:       "PrometheusRule",
		Metadata: prometheusRuleMeta{
			Name: PrometheusRuleName,
			Labels: map[string]string{
				"app.kubernetes.io/name":      "llmprobe",
				"app.kubernetes.io/component": "slo-rules",
			},
		},
		Spec: RuleFile{Groups: groups},
	}
	return marshalYAML(pr, "The llmprobe SLO recording and alerting rules (profile "+p.Name+"), the same groups as", "deploy/"+FileSLIRules+" and deploy/"+FileAlertRules+".")
}
