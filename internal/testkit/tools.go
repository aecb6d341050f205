// Package testkit is the test kit shared by llmprobe's packages, kept apart
// from all of them as Alertmanager keeps notify/test: a real Prometheus (3,
// built and cached by scripts/test.sh, or Debian's 2.42) and a real
// Alertmanager (the Debian package prometheus-alertmanager) on free
// loopback ports for end-to-end tests of the generated rules, routes and
// dashboards, both promtools, a webhook receiver, golden files, and a
// buffer safe for concurrent writes. Tests that need a missing binary are
// skipped with a message naming its package or how to build it. Every
// process started is stopped in t.Cleanup.
package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Binary finds a tool on PATH or skips the test, naming the Debian package.
func Binary(t testing.TB, names []string, debianPackage string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("%s not found: install the Debian package %s (scripts/test.sh does)", strings.Join(names, " or "), debianPackage)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes: a process's
// or a logger's output, read by the test while it runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *SyncBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *SyncBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is a server process that runs until Stop or the end of the test.
type process struct {
	cancel context.CancelFunc
	exited chan struct{}
	logs   *SyncBuffer
}

// stop interrupts the process (a graceful shutdown, as SIGTERM would be)
// and waits for it to exit.
func (p *process) stop() {
	p.cancel()
	<-p.exited
}

// start runs a server process until the test ends and waits for readyURL
// to answer 200.
func start(t testing.TB, name, bin string, args []string, readyURL string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	logs := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{cancel: cancel, exited: make(chan struct{}), logs: logs}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(logs.String(), 4000))
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready:\n%s", name, tail(logs.String(), 4000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after a minute:\n%s", name, tail(logs.String(), 4000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// PrometheusVersion picks the Prometheus a test runs.
type PrometheusVersion int

const (
	// Prometheus3 (the default) is the build of Prometheus3Version that
	// scripts/test.sh caches (Prometheus3Dir).
	Prometheus3 PrometheusVersion = iota
	// Prometheus2 is Debian's, 2.42: the oldest version supported.
	Prometheus2
)

// PrometheusOptions configure a test Prometheus.
type PrometheusOptions struct {
	Version            PrometheusVersion
	ScrapeTargets      []string      // host:port of the workers to scrape
	ScrapeInterval     time.Duration // default 1s
	EvaluationInterval time.Duration // default 1s
	// ScrapeSettings are more settings of the workers' scrape job, YAML
	// at the job's level (e.g. "scrape_native_histograms: true").
	ScrapeSettings  []string
	RuleFiles       []string // rule files, read in place
	AlertmanagerURL string   // optional: http://127.0.0.1:PORT
	// Config, when set, is the whole configuration file instead of one
	// built from the fields above.
	Config string
	// Agent runs Prometheus in agent mode (--agent): scrape and remote
	// write only; Query and WaitFor do not work on an agent.
	Agent     bool
	ExtraArgs []string // more flags
}

// Prometheus is a running test Prometheus.
type Prometheus struct {
	URL  string
	Logs func() string
	api  v1.API
	proc *process
}

// StartPrometheus starts Prometheus on a loopback port with a
// configuration built from opts.
func StartPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	var bin string
	switch opts.Version {
	case Prometheus2:
		bin = debianPrometheus(t)
	default:
		bin = Prometheus3Tool(t, "prometheus")
	}
	dir := t.TempDir()
	config := opts.Config
	if config == "" {
		config = prometheusConfig(t, opts)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	args := []string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--log.level=warn"}
	if opts.Agent {
		args = append(args, "--agent", "--storage.agent.path="+filepath.Join(dir, "wal"))
	} else {
		args = append(args, "--storage.tsdb.path="+filepath.Join(dir, "data"))
	}
	name := "prometheus"
	if opts.Agent {
		name = "prometheus --agent"
	}
	proc := start(t, name, bin, append(args, opts.ExtraArgs...), "http://"+addr+"/-/ready")
	client, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	return &Prometheus{URL: "http://" + addr, Logs: proc.logs.String, api: v1.NewAPI(client), proc: proc}
}

// prometheusConfig writes the configuration the options describe.
func prometheusConfig(t testing.TB, opts PrometheusOptions) string {
	t.Helper()
	scrape := opts.ScrapeInterval
	if scrape == 0 {
		scrape = time.Second
	}
	eval := opts.EvaluationInterval
	if eval == 0 {
		eval = time.Second
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  evaluation_interval: %s\n", model.Duration(scrape), model.Duration(eval))
	if len(opts.RuleFiles) > 0 {
		b.WriteString("rule_files:\n")
		for _, f := range opts.RuleFiles {
			abs, err := filepath.Abs(f)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  - %q\n", abs)
		}
	}
	if opts.AlertmanagerURL != "" {
		fmt.Fprintf(&b, "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [%q]\n", strings.TrimPrefix(opts.AlertmanagerURL, "http://"))
	}
	b.WriteString("scrape_configs:\n  - job_name: llmprobe\n")
	for _, s := range opts.ScrapeSettings {
		fmt.Fprintf(&b, "    %s\n", s)
	}
	b.WriteString("    static_configs:\n      - targets: [")
	for i, target := range opts.ScrapeTargets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", target)
	}
	b.WriteString("]\n")
	return b.String()
}

// Stop shuts Prometheus down before the test ends (as a node or pod
// going away would) and waits for it to exit.
func (p *Prometheus) Stop() { p.proc.stop() }

// API is the official Prometheus HTTP API client for this server.
func (p *Prometheus) API() v1.API { return p.api }

// Query runs an instant query now.
func (p *Prometheus) Query(ctx context.Context, expr string) (model.Value, error) {
	v, _, _, err := p.api.Query(ctx, expr, time.Now())
	return v, err
}

// WaitFor polls an instant query until cond accepts its vector or timeout
// passes; it returns the last vector and whether cond held.
func (p *Prometheus) WaitFor(t testing.TB, expr string, timeout time.Duration, cond func(model.Vector) bool) (model.Vector, bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last model.Vector
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := p.Query(ctx, expr)
		cancel()
		if err != nil {
			t.Fatalf("query %s: %v", expr, err)
		}
		if vec, ok := v.(model.Vector); ok {
			last = vec
			if cond(vec) {
				return vec, true
			}
		}
		if time.Now().After(deadline) {
			return last, false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Alertmanager is a running test Alertmanager.
type Alertmanager struct {
	URL  string
	Logs func() string
}

// StartAlertmanager starts Alertmanager on a loopback port with the given
// configuration (clustering off).
func StartAlertmanager(t testing.TB, configYAML string) *Alertmanager {
	t.Helper()
	bin := Binary(t, []string{"prometheus-alertmanager", "alertmanager"}, "prometheus-alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	args := []string{"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr,
		"--cluster.listen-address=", "--log.level=warn"}
	proc := start(t, "alertmanager", bin, args, "http://"+addr+"/-/ready")
	return &Alertmanager{URL: "http://" + addr, Logs: proc.logs.String}
}

// ClearEnv unsets, for the test, every LLMPROBE_*, OTEL_*, AWS_* and *_API_KEY
// variable and GOOGLE_APPLICATION_CREDENTIALS, and turns off AWS files and
// the metadata service, so the developer's own environment cannot leak into a test of
// the configuration.
func ClearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LLMPROBE_") || strings.HasSuffix(k, "_API_KEY") || strings.HasPrefix(k, "OTEL_") ||
			strings.HasPrefix(k, "AWS_") || k == "GOOGLE_APPLICATION_CREDENTIALS" {
			t.Setenv(k, "") // restored at cleanup
			os.Unsetenv(k)
		}
	}
	// Credential chains look at files and metadata services too: no test
	// may find the machine's own AWS files or call 169.254.169.254.
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
}

// Eventually polls cond until it holds, failing the test after a minute: a
// bound that only catches a hang, so a loaded machine never fails it.
// Nothing asserts how long it took.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Get fetches url and returns the status code and the body, failing the
// test when the request fails.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
