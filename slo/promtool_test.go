package slo

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

// writeFiles writes generated files into dir, flat (by base name), and
// returns the paths by base name.
func writeFiles(t *testing.T, dir string, files []File) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files {
		p := filepath.Join(dir, path.Base(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out[path.Base(f.Path)] = p
	}
	return out
}

// Every generated rule file passes promtool check rules of the oldest
// supported Prometheus (Debian's 2.42) and of Prometheus 3.
func TestEveryGeneratedRuleFilePassesPromtoolCheckRules(t *testing.T) {
	testkit.EachPromtool(t, func(t *testing.T, promtool string) {
		checkRulesWith(t, promtool)
	})
}

func checkRulesWith(t *testing.T, promtool string) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			res := c.generate(t)
			dir := t.TempDir()
			files := writeFiles(t, dir, res.Files)
			// The PrometheusRule's groups, as a rule file.
			var pr prometheusRule
			if err := yaml.Unmarshal(mustRead(t, files[path.Base(FilePrometheusRule)]), &pr); err != nil {
				t.Fatal(err)
			}
			data, err := yaml.Marshal(pr.Spec)
			if err != nil {
				t.Fatal(err)
			}
			operatorGroups := filepath.Join(dir, "prometheusrule-groups.yml")
			if err := os.WriteFile(operatorGroups, data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{files[path.Base(FileSLIRules)], files[path.Base(FileAlertRules)], operatorGroups} {
				out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput()
				if err != nil {
					t.Errorf("promtool check rules %s: %v\n%s", filepath.Base(f), err, out)
				}
				if !strings.Contains(string(out), "SUCCESS") {
					t.Errorf("promtool check rules %s did not report SUCCESS:\n%s", filepath.Base(f), out)
				}
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// scenario is one promtool test file in testdata/scenarios. Its rules come
// from the default spec, or from <name>.slo.yaml beside it; a name starting
// with "test-profile-" uses the test profile.
type scenario struct {
	name string // file name without .yml
	file string
}

func scenarios(t *testing.T) []scenario {
	t.Helper()
	paths, err := filepath.Glob("testdata/scenarios/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	var out []scenario
	for _, p := range paths {
		out = append(out, scenario{name: strings.TrimSuffix(filepath.Base(p), ".yml"), file: p})
	}
	if len(out) < 10 {
		t.Fatalf("found %d scenarios in testdata/scenarios, want at least ten", len(out))
	}
	return out
}

// nativeHistograms says whether the scenario's input has native
// histograms (its name starts with "native-histograms-"): those run on
// Prometheus 3 only.
func (s scenario) nativeHistograms() bool { return strings.HasPrefix(s.name, "native-histograms-") }

func (s scenario) profile() Profile {
	if strings.HasPrefix(s.name, "test-profile-") {
		return TestProfile()
	}
	return DefaultProfile()
}

func (s scenario) spec(t *testing.T) Spec {
	t.Helper()
	specFile := strings.TrimSuffix(s.file, ".yml") + ".slo.yaml"
	if _, err := os.Stat(specFile); err != nil {
		return DefaultSpec(s.profile())
	}
	spec, err := Load(specFile, s.profile())
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// runScenario generates the rules for spec into a temporary directory next
// to a copy of the scenario and runs promtool test rules on it.
func runScenario(t *testing.T, promtool string, s scenario, spec Spec) ([]byte, error) {
	t.Helper()
	res, err := Generate(spec, s.profile())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, res.Files)
	test := filepath.Join(dir, filepath.Base(s.file))
	if err := os.WriteFile(test, mustRead(t, s.file), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", filepath.Base(test))
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

// TestScenarios runs every alerting scenario (one file each in
// testdata/scenarios, named for what it shows) against the generated rules
// with promtool test rules, of Prometheus 2.42 and of Prometheus 3: the
// same figures must hold on both, though Prometheus 3 reads a range
// [t-5m, t] as left-open and so leaves out a sample on its left edge.
// Scenarios keep their samples off the rule evaluations' range edges, or
// assert at times both agree on, or they fail here.
func TestScenarios(t *testing.T) {
	testkit.EachPromtool(t, func(t *testing.T, promtool string) {
		for _, s := range scenarios(t) {
			t.Run(strings.ReplaceAll(s.name, "-", " "), func(t *testing.T) {
				if s.nativeHistograms() && strings.Contains(t.Name(), "prometheus-2") {
					t.Skip("native histogram input: Prometheus 2.42's promtool cannot read it")
				}
				t.Parallel()
				out, err := runScenario(t, promtool, s, s.spec(t))
				if err != nil || !bytes.Contains(out, []byte("SUCCESS")) {
					t.Errorf("promtool test rules %s: %v\n%s", s.file, err, out)
				}
			})
		}
	})
}

// The scenarios can fail: with the guard each one relies on removed from
// the rules, promtool reports the alert the scenario says must not come.
func TestScenariosFailWhenTheirGuardIsRemoved(t *testing.T) {
	testkit.EachPromtool(t, scenariosFailWithout)
}

func scenariosFailWithout(t *testing.T, promtool string) {
	for _, tc := range []struct {
		name     string
		scenario string
		mutate   func(*Spec)
		want     string // in promtool's output
	}{
		{
			name:     "a single failed probe pages without the minimum failure count",
			scenario: "a-single-failed-probe-never-pages",
			mutate:   func(s *Spec) { s.MinFailedProbes = 1 },
			want:     `alertname="LLMProbeErrorBudgetBurn"`,
		},
		{
			name:     "a failure from one region pages without the region quorum",
			scenario: "a-network-failure-in-one-region-of-three-pages-no-provider",
			mutate:   func(s *Spec) { s.Regions = 1 },
			want:     `LLMProbeErrorBudgetBurn`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := scenario{name: tc.scenario, file: filepath.Join("testdata", "scenarios", tc.scenario+".yml")}
			spec := s.spec(t)
			tc.mutate(&spec)
			out, err := runScenario(t, promtool, s, spec)
			if err == nil {
				t.Fatalf("promtool test rules passed with the guard removed:\n%s", out)
			}
			if !bytes.Contains(out, []byte(tc.want)) {
				t.Errorf("promtool failed, but not with %s:\n%s", tc.want, out)
			}
		})
	}
}
