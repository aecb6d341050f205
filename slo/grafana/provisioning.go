package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	sdk "github.com/grafana/grafana-foundation-sdk/go/alerting"
	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/slo"
)

// The types below are Grafana's alerting file provisioning format
// (apiVersion 1). Its rules, receivers and policies are the SDK's own
// types; only the envelopes that name a group, a contact point or an
// organization are Grafana's file format.

// RulesFile holds the rule groups.
type RulesFile struct {
	APIVersion int         `json:"apiVersion"`
	Groups     []RuleGroup `json:"groups"`
}

// RuleGroup is a rule group as a provisioning file writes it: the SDK's
// RuleGroup has a numeric interval and a folder UID, the file a duration
// and the folder's title.
type RuleGroup struct {
	OrgID    int64  `json:"orgId"`
	Name     string `json:"name"`
	Folder   string `json:"folder"`
	Interval string `json:"interval"`
	Rules    []Rule `json:"rules"`
}

// Rule is an SDK rule with the file format's panel link, dashboardUid and
// panelId, which Grafana's file provisioning reads into the rule's own
// fields (the SDK's Rule has none; the same link is in its annotations,
// which is what the Ruler API and the notifications read).
type Rule struct {
	Rule         sdk.Rule
	DashboardUID string
	PanelID      int64
}

// MarshalJSON writes dashboardUid and panelId among the rule's fields.
func (r Rule) MarshalJSON() ([]byte, error) {
	raw, err := json.Marshal(r.Rule)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["dashboardUid"] = r.DashboardUID
	m["panelId"] = r.PanelID
	return json.Marshal(m)
}

// UnmarshalJSON reads dashboardUid and panelId and decodes the rest
// strictly into the SDK's Rule: an unknown field is an error.
func (r *Rule) UnmarshalJSON(raw []byte) error {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if err := json.Unmarshal(m["dashboardUid"], &r.DashboardUID); err != nil {
		return fmt.Errorf("dashboardUid: %w", err)
	}
	if err := json.Unmarshal(m["panelId"], &r.PanelID); err != nil {
		return fmt.Errorf("panelId: %w", err)
	}
	delete(m, "dashboardUid")
	delete(m, "panelId")
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return r.Rule.UnmarshalJSONStrict(rest)
}

// ContactPointsFile holds the contact points.
type ContactPointsFile struct {
	APIVersion    int                 `json:"apiVersion"`
	ContactPoints []ContactPointGroup `json:"contactPoints"`
}

// ContactPointGroup is a named contact point and its receivers.
type ContactPointGroup struct {
	OrgID     int64              `json:"orgId"`
	Name      string             `json:"name"`
	Receivers []sdk.ContactPoint `json:"receivers"`
}

// PoliciesFile holds the organization's notification policy tree.
type PoliciesFile struct {
	APIVersion int      `json:"apiVersion"`
	Policies   []Policy `json:"policies"`
}

// Policy is a policy tree with its organization: the file writes orgId
// beside the SDK's fields.
type Policy struct {
	OrgID int64
	Tree  sdk.NotificationPolicy
}

// MarshalJSON writes orgId among the tree's fields.
func (p Policy) MarshalJSON() ([]byte, error) {
	raw, err := json.Marshal(p.Tree)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["orgId"] = p.OrgID
	return json.Marshal(m)
}

// UnmarshalJSON reads orgId and decodes the rest strictly into the SDK's
// NotificationPolicy: an unknown field is an error.
func (p *Policy) UnmarshalJSON(raw []byte) error {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	if v, ok := m["orgId"]; ok {
		if err := json.Unmarshal(v, &p.OrgID); err != nil {
			return fmt.Errorf("orgId: %w", err)
		}
		delete(m, "orgId")
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return p.Tree.UnmarshalJSONStrict(rest)
}

// fileGroup wraps an SDK rule group for the file.
func fileGroup(g sdk.RuleGroup) (RuleGroup, error) {
	var name string
	if g.Title != nil {
		name = *g.Title
	}
	var interval time.Duration
	if g.Interval != nil {
		interval = time.Duration(*g.Interval) * time.Second
	}
	out := RuleGroup{OrgID: OrgID, Name: name, Folder: Folder, Interval: slo.FormatDuration(interval)}
	for _, r := range g.Rules {
		panelID, err := strconv.ParseInt(r.Annotations[AnnotationPanelID], 10, 64)
		if err != nil {
			return RuleGroup{}, fmt.Errorf("rule %s: panel ID: %w", r.Title, err)
		}
		out.Rules = append(out.Rules, Rule{Rule: r, DashboardUID: r.Annotations[AnnotationDashboardUID], PanelID: panelID})
	}
	return out, nil
}

// Render writes v (one of the file types) as YAML after the header lines.
// It goes through JSON so that the SDK's JSON encoding is the one written,
// and through a generic value so that keys come out sorted.
func Render(v any, header ...string) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(generatedHeader)
	for _, h := range header {
		b.WriteString("# " + h + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	return b.Bytes(), nil
}

// Decode reads a file written by Render into v (a pointer to one of the
// file types), through the SDK's JSON decoding.
func Decode(data []byte, v any) error {
	var generic any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		return fmt.Errorf("decode YAML: %w", err)
	}
	raw, err := json.Marshal(generic)
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode provisioning: %w", err)
	}
	return nil
}

const generatedHeader = "# Code generated by llmprobe generate; DO NOT EDIT.\n"
