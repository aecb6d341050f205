package slo

import (
	"fmt"
	"time"
)

// File is one generated file, by its path under the output directory.
type File struct {
	Path string
	Data []byte
}

// Result is everything generated from one spec and profile.
type Result struct {
	// SLI holds the recording rules, Alerts the alerting rules: the data
	// the files are rendered from, for other generators (Grafana alert
	// rules, dashboards) to reuse.
	SLI    RuleFile
	Alerts RuleFile
	// Files are the rendered files, in a stable order.
	Files []File
	// Warnings say where the probe rate cannot measure an objective.
	Warnings []string
}

// builder holds what every generation step reads.
type builder struct {
	spec    Spec
	profile Profile
	slos    []SLO
}

// Generate runs the pipeline, in order: validate the spec, expand its SLOs,
// build the SLI recording rules (metadata, inventory, windows), build the
// alerts, check measurability, and render the rule files, the
// PrometheusRule and the Alertmanager configuration. The output depends on
// nothing but its arguments.
func Generate(s Spec, p Profile) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	b := &builder{spec: s, profile: p, slos: s.SLOs()}
	res := Result{
		SLI:      RuleFile{Groups: append(b.recordingGroups(), b.fastGroup())},
		Alerts:   RuleFile{Groups: []RuleGroup{b.fastAlertGroup(), b.alertGroup()}},
		Warnings: Measurability(s, p),
	}
	header := []string{
		fmt.Sprintf("Profile %s: SLO window %s, probe interval %s, %d regions (quorum %d), at least %d failed probes per burn condition.",
			p.Name, p.Range(time.Duration(s.Window)), s.ProbeInterval, s.Regions, s.Quorum(), s.MinFailedProbes),
		"Rule names are documented in slo/conventions.go; regenerate with llmprobe generate.",
	}
	sli, err := marshalYAML(res.SLI, append([]string{"SLI recording rules of llmprobe."}, header...)...)
	if err != nil {
		return Result{}, fmt.Errorf("render SLI rules: %w", err)
	}
	alerts, err := marshalYAML(res.Alerts, append([]string{"Alerting rules of llmprobe; they read the series of " + FileSLIRules + "."}, header...)...)
	if err != nil {
		return Result{}, fmt.Errorf("render alerting rules: %w", err)
	}
	operator, err := operatorRule(append(append([]RuleGroup{}, res.SLI.Groups...), res.Alerts.Groups...), p)
	if err != nil {
		return Result{}, fmt.Errorf("render PrometheusRule: %w", err)
	}
	am, err := alertmanagerConfig(s, p, false)
	if err != nil {
		return Result{}, err
	}
	amSubtree, err := alertmanagerConfig(s, p, true)
	if err != nil {
		return Result{}, err
	}
	res.Files = []File{
		{Path: FileSLIRules, Data: sli},
		{Path: FileAlertRules, Data: alerts},
		{Path: FileAlertmanager, Data: am},
		{Path: FileAlertmanagerSubtree, Data: amSubtree},
		{Path: FilePrometheusRule, Data: operator},
	}
	return res, nil
}
