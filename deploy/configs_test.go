package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/slo"
)

func runTool(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The shipped Prometheus configurations are Prometheus 3's (they scrape
// native histograms, which 2.42 has no settings for); the generated rules
// they load must pass promtool of both 2.42 and 3.
func TestPrometheusConfigsPassPromtool(t *testing.T) {
	promtool := testkit.Prometheus3Tool(t, "promtool")
	out := runTool(t, promtool, "check", "config", "prometheus/prometheus.yml")
	if !strings.Contains(out, "SUCCESS") || !strings.Contains(out, "rules found") {
		t.Errorf("central config: %s", out)
	}
	runTool(t, promtool, "check", "config", "--agent", "prometheus/agent.yml")
	rules, _ := filepath.Glob("prometheus/rules/*.yml")
	if len(rules) < 2 {
		t.Fatalf("rule files: %v", rules)
	}
	testkit.EachPromtool(t, func(t *testing.T, promtool string) {
		out := runTool(t, promtool, append([]string{"check", "rules"}, rules...)...)
		if strings.Count(out, "SUCCESS") != len(rules) {
			t.Errorf("promtool check rules: %s", out)
		}
	})
}

// Both shipped scrape configurations ask for protobuf first and native
// histograms, keep the classic buckets, and the agent forwards native
// histograms and exemplars.
func TestPrometheusConfigsScrapeNativeHistograms(t *testing.T) {
	type scrape struct {
		JobName       string   `yaml:"job_name"`
		Protocols     []string `yaml:"scrape_protocols"`
		Native        bool     `yaml:"scrape_native_histograms"`
		AlwaysClassic bool     `yaml:"always_scrape_classic_histograms"`
	}
	for _, file := range []string{"prometheus/prometheus.yml", "prometheus/agent.yml"} {
		var cfg struct {
			ScrapeConfigs []scrape `yaml:"scrape_configs"`
			RemoteWrite   []struct {
				Native    bool `yaml:"send_native_histograms"`
				Exemplars bool `yaml:"send_exemplars"`
			} `yaml:"remote_write"`
		}
		readYAML(t, file, &cfg)
		var job *scrape
		for i := range cfg.ScrapeConfigs {
			if cfg.ScrapeConfigs[i].JobName == "llmprobe" {
				job = &cfg.ScrapeConfigs[i]
			}
		}
		if job == nil {
			t.Fatalf("%s has no llmprobe job", file)
		}
		if len(job.Protocols) == 0 || job.Protocols[0] != "PrometheusProto" || !job.Native || !job.AlwaysClassic {
			t.Errorf("%s: llmprobe job %+v, want PrometheusProto first, native histograms and the classic buckets", file, *job)
		}
		if file == "prometheus/agent.yml" && (len(cfg.RemoteWrite) != 1 || !cfg.RemoteWrite[0].Native || !cfg.RemoteWrite[0].Exemplars) {
			t.Errorf("%s: remote_write %+v, want native histograms and exemplars sent", file, cfg.RemoteWrite)
		}
	}
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	amtool := testkit.Binary(t, []string{"amtool"}, "prometheus-alertmanager")
	runTool(t, amtool, "check-config", "alertmanager/alertmanager.yml")
}

// existingAlertmanager stands for a user's own Alertmanager configuration,
// with its own routes, inhibitions and receivers, into which the generated
// subtree is merged as its header and the README say.
const existingAlertmanager = `
route:
  receiver: team-default
  group_by: [alertname]
  routes:
    - matchers: ['severity="page"']
      receiver: team-pager
inhibit_rules:
  - source_matchers: ['alertname="ClusterDown"']
    target_matchers: ['severity="page"']
    equal: [cluster]
receivers:
  - name: team-default
  - name: team-pager
`

// The Alertmanager subtree merges into an existing configuration: amtool
// accepts the result, llmprobe's alerts take llmprobe's routes, and the
// user's own alerts still take theirs.
func TestAlertmanagerSubtreeMergesIntoAnExistingConfig(t *testing.T) {
	amtool := testkit.Binary(t, []string{"amtool"}, "prometheus-alertmanager")
	var cfg, subtree map[string]any
	if err := yaml.Unmarshal([]byte(existingAlertmanager), &cfg); err != nil {
		t.Fatal(err)
	}
	readYAML(t, slo.FileAlertmanagerSubtree, &subtree)
	if _, ok := subtree["global"]; ok || len(subtree) != 3 {
		t.Fatalf("the subtree has keys %v, want only route, inhibit_rules and receivers", slices.Collect(maps.Keys(subtree)))
	}
	// The merge, as documented: the route first among the root's routes,
	// inhibit rules and receivers appended.
	root := cfg["route"].(map[string]any)
	root["routes"] = append([]any{subtree["route"]}, root["routes"].([]any)...)
	cfg["inhibit_rules"] = append(cfg["inhibit_rules"].([]any), subtree["inhibit_rules"].([]any)...)
	cfg["receivers"] = append(cfg["receivers"].([]any), subtree["receivers"].([]any)...)
	merged, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(file, merged, 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, amtool, "check-config", file)
	for _, c := range []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=" + slo.AlertErrorBudgetBurn, "severity=page", "provider=openai", "layer=origin"}, slo.ReceiverPage},
		{[]string{"alertname=" + slo.AlertWorkerDown, "severity=ticket", "region=eu-west"}, slo.ReceiverTicket},
		{[]string{"alertname=" + slo.AlertSharedEdgeIncident, "severity=page", "edge=cloudflare"}, slo.ReceiverPage},
		// The user's own alerts are routed as before.
		{[]string{"alertname=NodeDown", "severity=page"}, "team-pager"},
		{[]string{"alertname=DiskFilling", "severity=ticket"}, "team-default"},
	} {
		out := strings.TrimSpace(runTool(t, amtool, append([]string{"config", "routes", "test", "--config.file=" + file}, c.labels...)...))
		out = out[strings.LastIndex(out, "\n")+1:] // after amtool's warnings
		if out != c.want {
			t.Errorf("%v routes to %q, want %s", c.labels, out, c.want)
		}
	}
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
			checkInterval(t, name+"'s LLMPROBE_INTERVAL", s.Environment["LLMPROBE_INTERVAL"])
			if s.Environment["LLMPROBE_STATUS_PAGES"] != "false" {
				t.Errorf("%s: a simulated stack must not poll real status pages", name)
			}
		}
	}
	if len(regions) < 2 {
		t.Errorf("compose runs workers in %d regions, want at least 2", len(regions))
	}
}

// kustomize renders a kustomization and returns its objects by kind.
func kustomize(t *testing.T, kubectl, dir string) map[string][]map[string]any {
	t.Helper()
	out := runTool(t, kubectl, "kustomize", dir)
	objs := map[string][]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(out)))
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		kind, _ := obj["kind"].(string)
		objs[kind] = append(objs[kind], obj)
	}
	return objs
}

// TestKustomizeOverlays renders every region overlay and checks what a
// regional deployment must have: its namespace, the worker and nothing
// else (no rules: one region alone never meets their two-region quorum).
func TestKustomizeOverlays(t *testing.T) {
	kubectl := testkit.Binary(t, []string{"kubectl"}, "kubectl")
	overlays, _ := filepath.Glob("kubernetes/overlays/*")
	if len(overlays) < 3 {
		t.Fatalf("%d overlays, want at least 3", len(overlays))
	}
	for _, dir := range overlays {
		region := filepath.Base(dir)
		t.Run(region, func(t *testing.T) {
			objs := kustomize(t, kubectl, dir)
			var kinds []string
			for k := range objs {
				kinds = append(kinds, k)
			}
			slices.Sort(kinds)
			if want := []string{"Deployment", "Namespace", "NetworkPolicy", "Service", "ServiceMonitor"}; !slices.Equal(kinds, want) {
				t.Errorf("overlay %s renders %v, want exactly %v", region, kinds, want)
			}
			checkNamespaced(t, objs)
			for _, d := range objs["Deployment"] {
				checkDeployment(t, d, region)
			}
		})
	}
}

// The central kustomization carries the generated rules, in the same
// namespace, and no worker.
func TestKustomizeCentral(t *testing.T) {
	kubectl := testkit.Binary(t, []string{"kubectl"}, "kubectl")
	objs := kustomize(t, kubectl, "kubernetes/central")
	if len(objs) != 2 || len(objs["Namespace"]) != 1 || len(objs["PrometheusRule"]) != 1 {
		t.Fatalf("central renders %d kinds, want a Namespace and the PrometheusRule: %v", len(objs), objs)
	}
	checkNamespaced(t, objs)
	var rule struct {
		Spec struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []any  `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	b, _ := yaml.Marshal(objs["PrometheusRule"][0])
	if err := yaml.Unmarshal(b, &rule); err != nil {
		t.Fatal(err)
	}
	var names []string
	n := 0
	for _, g := range rule.Spec.Groups {
		names = append(names, g.Name)
		n += len(g.Rules)
	}
	if !slices.Contains(names, slo.GroupAlerts) || !slices.Contains(names, slo.GroupSLI) || n < 100 {
		t.Errorf("the PrometheusRule has groups %v with %d rules, want the SLI and alerting groups", names, n)
	}
}

// checkNamespaced checks that every namespaced object is in the namespace
// the kustomization also creates, so `kubectl apply -k` works on a fresh
// cluster.
func checkNamespaced(t *testing.T, objs map[string][]map[string]any) {
	t.Helper()
	if len(objs["Namespace"]) != 1 {
		t.Fatalf("%d Namespace objects, want one", len(objs["Namespace"]))
	}
	ns := objs["Namespace"][0]["metadata"].(map[string]any)["name"]
	for kind, list := range objs {
		for _, o := range list {
			if kind == "Namespace" {
				continue
			}
			if got := o["metadata"].(map[string]any)["namespace"]; got != ns {
				t.Errorf("%s %v is in namespace %v, want %v", kind, o["metadata"].(map[string]any)["name"], got, ns)
			}
		}
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
						Image string `yaml:"image"`
						Env   []struct {
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
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if got := env["LLMPROBE_REGION"]; got != region {
		t.Errorf("LLMPROBE_REGION = %q, want %q", got, region)
	}
	checkInterval(t, "the Deployment's LLMPROBE_INTERVAL", env["LLMPROBE_INTERVAL"])
	if !rePinnedImage.MatchString(c.Image) {
		t.Errorf("image %q is not pinned to a version tag", c.Image)
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

// rePinnedImage is an image with a version tag (v1.2.3), not latest.
var rePinnedImage = regexp.MustCompile(`^[a-z0-9.\-/]+:v[0-9]+\.[0-9]+\.[0-9]+$`)

// checkInterval checks that a deployment probes at the interval the
// generated rules were made for (their window counts and staleness limit
// assume it), as the rule files' header says.
func checkInterval(t *testing.T, what, got string) {
	t.Helper()
	want := time.Duration(slo.DefaultSpec(slo.DefaultProfile()).ProbeInterval)
	if d, err := time.ParseDuration(got); err != nil || d != want {
		t.Errorf("%s = %q, want %s: the interval llmprobe generate made the rules for", what, got, want)
	}
	header, err := os.ReadFile(slo.FileSLIRules)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(header), "probe interval "+slo.FormatDuration(want)+",") {
		t.Errorf("%s does not say it was made for a %s probe interval", slo.FileSLIRules, want)
	}
}

// scripts/test.sh (CI's command) leaves the host's services alone: a
// machine running a real Prometheus or Alertmanager keeps them running.
// The tests start their own on free loopback ports.
func TestTheTestScriptTouchesNoSystemService(t *testing.T) {
	script, err := os.ReadFile("../scripts/test.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(script), "\n") {
		code, _, _ := strings.Cut(line, "#")
		for _, word := range []string{"systemctl", "service ", "invoke-rc.d", "pkill", "killall"} {
			if strings.Contains(code, word) {
				t.Errorf("scripts/test.sh runs %q: %s", strings.TrimSpace(word), strings.TrimSpace(line))
			}
		}
	}
}
