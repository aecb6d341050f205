package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
)

func runTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPrometheusConfigsPassPromtool(t *testing.T) {
	promtool := testkit.Binary(t, []string{"promtool"}, "prometheus")
	out := runTool(t, promtool, "check", "config", "prometheus/prometheus.yml")
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "rules found") {
		t.Errorf("central config: %s", out)
	}
	runTool(t, promtool, "check", "config", "--agent", "prometheus/agent.yml")
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	amtool := testkit.Binary(t, []string{"amtool"}, "prometheus-alertmanager")
	runTool(t, amtool, "check-config", "alertmanager/alertmanager.yml")
}

func TestComposeFileIsValid(t *testing.T) {
	bin := testkit.Binary(t, []string{"docker-compose"}, "docker-compose")
	cmd := exec.Command(bin, "-f", "docker-compose.yml", "config")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	var doc struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Volumes     []any             `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fakes", "probe-eu-west", "probe-us-east", "prometheus", "alertmanager", "grafana"} {
		if _, ok := doc.Services[s]; !ok {
			t.Errorf("compose has no service %s", s)
		}
	}
	regions := map[string]bool{}
	for name, s := range doc.Services {
		if strings.HasPrefix(name, "probe-") {
			regions[s.Environment["LLMPROBE_REGION"]] = true
			// docker-compose config folds the env file into environment
			if got := s.Environment["LLMPROBE_OPENAI_BASE_URL"]; got != "http://fakes:8081/openai/v1" {
				t.Errorf("%s: LLMPROBE_OPENAI_BASE_URL %q, want the simulated providers by default", name, got)
			}
			if s.Environment["LLMPROBE_STATUS_PAGES"] != "false" {
				t.Errorf("%s: a simulated stack must not poll real status pages", name)
			}
		}
	}
	if len(regions) < 2 {
		t.Errorf("compose runs workers in %d regions, want at least 2", len(regions))
	}
}

// TestKustomizeOverlays renders every region overlay and checks what a
// regional deployment must have.
func TestKustomizeOverlays(t *testing.T) {
	kubectl := testkit.Binary(t, []string{"kubectl"}, "kubectl")
	overlays, _ := filepath.Glob("kubernetes/overlays/*")
	if len(overlays) < 3 {
		t.Fatalf("%d overlays, want at least 3", len(overlays))
	}
	for _, dir := range overlays {
		region := filepath.Base(dir)
		t.Run(region, func(t *testing.T) {
			out := runTool(t, kubectl, "kustomize", dir)
			kinds := map[string]bool{}
			dec := yaml.NewDecoder(bytes.NewReader([]byte(out)))
			for {
				var obj map[string]any
				if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				kind, _ := obj["kind"].(string)
				kinds[kind] = true
				if kind == "Deployment" {
					checkDeployment(t, obj, region)
				}
			}
			for _, k := range []string{"Deployment", "Service", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"} {
				if !kinds[k] {
					t.Errorf("overlay %s renders no %s", region, k)
				}
			}
		})
	}
}

func checkDeployment(t *testing.T, obj map[string]any, region string) {
	t.Helper()
	b, _ := yaml.Marshal(obj)
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []struct {
						Env []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
						EnvFrom []struct {
							SecretRef struct {
								Name string `yaml:"name"`
							} `yaml:"secretRef"`
						} `yaml:"envFrom"`
						Resources struct {
							Requests map[string]string `yaml:"requests"`
							Limits   map[string]string `yaml:"limits"`
						} `yaml:"resources"`
						LivenessProbe   *struct{} `yaml:"livenessProbe"`
						ReadinessProbe  *struct{} `yaml:"readinessProbe"`
						SecurityContext struct {
							ReadOnlyRootFilesystem   bool `yaml:"readOnlyRootFilesystem"`
							AllowPrivilegeEscalation bool `yaml:"allowPrivilegeEscalation"`
						} `yaml:"securityContext"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	pod := d.Spec.Template.Spec
	if !pod.SecurityContext.RunAsNonRoot || len(pod.Containers) != 1 {
		t.Fatalf("pod must run as non-root with one container: %+v", pod.SecurityContext)
	}
	c := pod.Containers[0]
	var got string
	for _, e := range c.Env {
		if e.Name == "LLMPROBE_REGION" {
			got = e.Value
		}
	}
	if got != region {
		t.Errorf("LLMPROBE_REGION = %q, want %q", got, region)
	}
	if len(c.EnvFrom) == 0 || c.EnvFrom[0].SecretRef.Name != "llmprobe-keys" {
		t.Error("API keys must come from the llmprobe-keys Secret")
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Limits["memory"] == "" || c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("resources and liveness/readiness probes must be set")
	}
	if !c.SecurityContext.ReadOnlyRootFilesystem || c.SecurityContext.AllowPrivilegeEscalation {
		t.Error("the container must have a read-only root and no privilege escalation")
	}
}
