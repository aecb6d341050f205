package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// testKey is the fake API key every test uses; no test output may show it.
const testKey = "sk-llmprobe-test-7f3a9c-DO-NOT-PRINT"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds llmprobe once per test run: the acceptance tests run the
// real binary, as users and the corpus harness do.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "llmprobe-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "llmprobe")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

type verdict struct {
	outcome probe.Outcome
	reason  probe.Reason
}

// want is what DESIGN.md's classification table says for each fault
// providertest can inject, for a chat check (stream faults: a stream check).
var want = map[providertest.FaultKind]verdict{
	providertest.Healthy:                {probe.OutcomeSuccess, probe.ReasonOK},
	providertest.CF500:                  {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.CF502Branded:           {probe.OutcomeOriginError, probe.ReasonOrigin5xx},
	providertest.CF503Branded:           {probe.OutcomeOriginError, probe.ReasonOrigin5xx},
	providertest.CF504Branded:           {probe.OutcomeOriginError, probe.ReasonOriginTimeout},
	providertest.CF502Unbranded:         {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.CF504Unbranded:         {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.CF520:                  {probe.OutcomeOriginError, probe.ReasonOriginBadResponse},
	providertest.CF521:                  {probe.OutcomeOriginError, probe.ReasonOriginDown},
	providertest.CF522:                  {probe.OutcomeOriginError, probe.ReasonOriginTimeout},
	providertest.CF523:                  {probe.OutcomeOriginError, probe.ReasonOriginDown},
	providertest.CF524:                  {probe.OutcomeOriginError, probe.ReasonOriginTimeout},
	providertest.CF525:                  {probe.OutcomeOriginError, probe.ReasonOriginTLS},
	providertest.CF526:                  {probe.OutcomeOriginError, probe.ReasonOriginTLS},
	providertest.CF527:                  {probe.OutcomeOriginError, probe.ReasonOriginDown},
	providertest.CF530:                  {probe.OutcomeOriginError, probe.ReasonOriginDown},
	providertest.CF1015:                 {probe.OutcomeEdgeError, probe.ReasonEdgeRateLimited},
	providertest.CF1020:                 {probe.OutcomeEdgeError, probe.ReasonEdgeBlocked},
	providertest.CFChallenge:            {probe.OutcomeEdgeError, probe.ReasonEdgeBlocked},
	providertest.OpenAICFBadGateway:     {probe.OutcomeOriginError, probe.ReasonOrigin5xx},
	providertest.OpenAICFGatewayTimeout: {probe.OutcomeOriginError, probe.ReasonOriginTimeout},
	providertest.GFE500:                 {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.GFE502:                 {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.GFE503:                 {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.GFE504:                 {probe.OutcomeEdgeError, probe.ReasonEdge5xx},
	providertest.HTML200:                {probe.OutcomeEdgeError, probe.ReasonEdgeHTML},
	providertest.Origin500:              {probe.OutcomeOriginError, probe.ReasonOrigin5xx},
	providertest.Origin503:              {probe.OutcomeOriginError, probe.ReasonOverloaded}, // Anthropic: see wantFor
	providertest.Overloaded529:          {probe.OutcomeOriginError, probe.ReasonOverloaded},
	providertest.Envoy503:               {probe.OutcomeOriginError, probe.ReasonOrigin5xx},
	providertest.RateLimit429:           {probe.OutcomeOriginError, probe.ReasonRateLimited},
	providertest.Quota429:               {probe.OutcomeProbeError, probe.ReasonQuota},
	providertest.Auth401:                {probe.OutcomeProbeError, probe.ReasonAuth},
	providertest.BadRequest400:          {probe.OutcomeProbeError, probe.ReasonBadRequest},
	providertest.ModelNotFound404:       {probe.OutcomeProbeError, probe.ReasonModelNotFound},
	providertest.Region403:              {probe.OutcomeProbeError, probe.ReasonBlockedLocation},
	providertest.Invalid200:             {probe.OutcomeOriginError, probe.ReasonInvalidResponse},
	providertest.TLSHandshakeFailure:    {probe.OutcomeEdgeError, probe.ReasonTLSHandshake},
	providertest.ResetBeforeHeaders:     {probe.OutcomeEdgeError, probe.ReasonConnectionReset},
	providertest.CloseBeforeHeaders:     {probe.OutcomeEdgeError, probe.ReasonConnectionReset},
	providertest.StallBeforeHeaders:     {probe.OutcomeOriginError, probe.ReasonTTFBTimeout},
	providertest.StallMidStream:         {probe.OutcomeOriginError, probe.ReasonStreamError},
	providertest.ErrorEventMidStream:    {probe.OutcomeOriginError, probe.ReasonOverloaded},
	providertest.CutMidStream:           {probe.OutcomeOriginError, probe.ReasonStreamError},
}

func wantFor(provider string, kind providertest.FaultKind) verdict {
	if provider == "anthropic" && kind == providertest.Origin503 {
		return verdict{probe.OutcomeOriginError, probe.ReasonOrigin5xx} // Anthropic's 503 is an api_error, not an overload
	}
	return want[kind]
}

// checkKind is the check that exercises a fault: stream faults need a stream.
func checkKind(kind providertest.FaultKind) string {
	switch kind {
	case providertest.StallMidStream, providertest.ErrorEventMidStream, providertest.CutMidStream:
		return "stream"
	}
	return "chat"
}

// cdnFault says which edge writes a fault's page, "" for faults any edge shows.
func cdnFault(kind providertest.FaultKind) providertest.Edge {
	s := string(kind)
	switch {
	case strings.HasPrefix(s, "cf_") || strings.HasPrefix(s, "openai_cf_"):
		return providertest.EdgeCloudflare
	case strings.HasPrefix(s, "gfe_"):
		return providertest.EdgeGoogle
	}
	return ""
}

// credentialEnv is the environment that gives provider the fake's
// credentials: its key variable, AWS's static keys (and no metadata
// service, no shared files), or Google ADC pointing at the fake token
// endpoint of tokens (a plain-HTTP server) and a Vertex project.
func credentialEnv(t *testing.T, provider string, tokens *providertest.Server) []string {
	t.Helper()
	switch provider {
	case "bedrock":
		return []string{"AWS_ACCESS_KEY_ID=" + providertest.FakeAWSAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + testKey, "AWS_REGION=us-east-1",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none")}
	case "vertex":
		adc := filepath.Join(t.TempDir(), "adc.json")
		if err := os.WriteFile(adc, tokens.GoogleCredentialsJSON(), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"GOOGLE_APPLICATION_CREDENTIALS=" + adc, "LLMPROBE_VERTEX_PROJECT=llmprobe-test", "LLMPROBE_VERTEX_LOCATION=us-central1"}
	}
	p, _ := probe.LookupProvider(provider)
	return []string{p.KeyEnv + "=" + testKey}
}

// target is a provider and the model its checks use ("" = the default).
type target struct{ provider, model string }

func (tg target) String() string {
	if tg.model == "" {
		return tg.provider
	}
	return tg.provider + "+" + tg.model
}

// runBinary runs the built llmprobe with a clean environment plus env.
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin := binary(t) // built first: the build's time is no part of the bound
	// The bound only catches a hang: no verdict depends on the machine's speed.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run llmprobe: %v", err)
	}
	return out.String(), errb.String(), code
}

// TestCheckClassifiesEveryFault: every fault
// providertest injects is classified as DESIGN.md says, through the built
// binary, over HTTP and HTTPS, for the providers whose edge writes it.
func TestCheckClassifiesEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary hundreds of times; skipped with -short")
	}
	for _, kind := range providertest.FaultKinds {
		if _, ok := want[kind]; !ok {
			t.Errorf("fault %q has no expected verdict in this table", kind)
		}
	}
	// The fake Google token endpoint of Vertex's credentials: plain HTTP.
	tokens := providertest.NewServer(providertest.Options{Edge: providertest.EdgeNone, APIKey: testKey})
	t.Cleanup(tokens.Close)
	for _, scheme := range []string{"http", "https"} {
		for _, edge := range []providertest.Edge{providertest.EdgeCloudflare, providertest.EdgeGoogle, providertest.EdgeNone} {
			opts := providertest.Options{Edge: edge, APIKey: testKey}
			var srv *providertest.Server
			if scheme == "https" {
				srv = providertest.NewTLSServer(opts)
			} else {
				srv = providertest.NewServer(opts)
			}
			t.Cleanup(srv.Close)
			caFile := ""
			if scheme == "https" {
				var err error
				if caFile, err = srv.WriteCAFile(t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			targets := []target{{"openai", ""}, {"anthropic", ""}}
			switch edge {
			case providertest.EdgeGoogle:
				targets = []target{{"gemini", ""}, {"vertex", ""}, {"vertex", "claude-haiku-4-5@20251001"}}
			case providertest.EdgeNone:
				targets = []target{{"bedrock", ""}} // Bedrock's runtime has no CDN in front
			}
			for _, kind := range append([]providertest.FaultKind{providertest.Healthy}, providertest.FaultKinds...) {
				if k := cdnFault(kind); k != "" && k != edge {
					continue
				}
				if kind == providertest.TLSHandshakeFailure && scheme == "http" {
					continue
				}
				formats := []providertest.Format{providertest.FormatAuto}
				if cdnFault(kind) == providertest.EdgeCloudflare {
					formats = append(formats, providertest.FormatHTML)
				}
				for _, tg := range targets {
					if strings.HasPrefix(string(kind), "openai_") && tg.provider != "openai" {
						continue
					}
					for _, format := range formats {
						name := fmt.Sprintf("%s/%s/%s/%s", scheme, tg, orDash(string(kind)), format)
						t.Run(name, func(t *testing.T) {
							checkFault(t, srv, tokens, caFile, tg, kind, format)
						})
					}
				}
			}
		}
	}
}

// faultMu serialises injection: one server fronts many subtests, and a
// fault applies to every request of its provider until cleared.
var faultMu sync.Mutex

func checkFault(t *testing.T, srv, tokens *providertest.Server, caFile string, tg target, kind providertest.FaultKind, format providertest.Format) {
	provider := tg.provider
	faultMu.Lock()
	defer faultMu.Unlock()
	srv.Clear()
	if kind != providertest.Healthy {
		srv.Inject(provider, providertest.Fault{Kind: kind, Format: format})
	}
	defer srv.Clear()
	// Only a stall waits for the timeout; it is long enough that connect,
	// TLS and the first event come first on a loaded machine. Every other
	// fault answers at once, so its timeout only catches a hang.
	timeout := "60s"
	if kind == providertest.StallBeforeHeaders || kind == providertest.StallMidStream {
		timeout = "3s"
	}
	args := []string{"check", "--provider", provider, "--check", checkKind(kind), "--base-url", srv.BaseURL(provider),
		"--timeout", timeout, "--output", "json", "--region", "test"}
	if caFile != "" {
		args = append(args, "--ca-file", caFile)
	}
	if tg.model != "" {
		args = append(args, "--model", tg.model)
	}
	stdout, stderr, code := runBinary(t, credentialEnv(t, provider, tokens), args...)
	if strings.Contains(stdout+stderr, testKey) {
		t.Fatalf("the API key appears in the output:\n%s\n%s", stdout, stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s\nstderr: %s", err, stdout, stderr)
	}
	w := wantFor(provider, kind)
	if res["outcome"] != string(w.outcome) || res["reason"] != string(w.reason) {
		t.Fatalf("got %v/%v (%v), want %s/%s", res["outcome"], res["reason"], res["error"], w.outcome, w.reason)
	}
	wantCode := 1
	if w.outcome == probe.OutcomeSuccess {
		wantCode = 0
	}
	if code != wantCode {
		t.Errorf("exit %d, want %d", code, wantCode)
	}
	for _, field := range []string{"provider", "check", "model", "region", "outcome", "reason", "status_code", "edge", "authored_by", "request_id", "edge_ray", "timings", "error", "started_at"} {
		if _, ok := res[field]; !ok {
			t.Errorf("JSON lacks contract field %q", field)
		}
	}
}

func TestCheckReportsTTFBOfASlowOrigin(t *testing.T) {
	const delay = 300 * time.Millisecond
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			opts := providertest.Options{APIKey: testKey}
			var srv *providertest.Server
			if tls {
				srv = providertest.NewTLSServer(opts)
			} else {
				srv = providertest.NewServer(opts)
			}
			defer srv.Close()
			srv.Inject("openai", providertest.Fault{Delay: delay})
			args := []string{"check", "--provider", "openai", "--base-url", srv.BaseURL("openai"), "--output", "json"}
			if tls {
				ca, err := srv.WriteCAFile(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				args = append(args, "--ca-file", ca)
			}
			stdout, stderr, code := runBinary(t, []string{"OPENAI_API_KEY=" + testKey}, args...)
			var res probe.Result
			if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 {
				t.Fatalf("exit %d, %v: %s %s", code, err, stdout, stderr)
			}
			ttfb := res.Timings.TTFB
			if ttfb < delay {
				t.Fatalf("ttfb %v is shorter than the injected %v", ttfb, delay)
			}
			if tls && res.Timings.TLS <= 0 {
				t.Errorf("tls phase not measured: %+v", res.Timings)
			}
			t.Logf("ttfb %v for an injected %v delay: error %v", ttfb, delay, ttfb-delay)
		})
	}
}

func TestCheckUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badPEM := filepath.Join(dir, "bad.pem")
	os.WriteFile(badPEM, []byte("not a certificate"), 0o600)
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		message string
	}{
		{"no provider", []string{}, nil, "--provider is required (valid: openai, anthropic, gemini"},
		{"an unknown provider lists the valid ids", []string{"--provider", "openia"}, nil, `--provider: unknown provider "openia" (valid: openai, anthropic, gemini, mistral, groq, deepseek, xai, openrouter, azure, bedrock, vertex)`},
		{"a malformed base URL", []string{"--provider", "openai", "--base-url", "api.openai.com/v1"}, nil, "--base-url: \"api.openai.com/v1\": scheme must be http or https"},
		{"a base URL variable is named", []string{"--provider", "openai"}, map[string]string{"LLMPROBE_OPENAI_BASE_URL": "http://"}, "LLMPROBE_OPENAI_BASE_URL:"},
		{"an unreadable CA file", []string{"--provider", "openai", "--ca-file", filepath.Join(dir, "missing.pem")}, nil, "--ca-file: open "},
		{"an invalid CA file", []string{"--provider", "openai", "--ca-file", badPEM}, nil, "--ca-file: " + badPEM + ": no PEM certificates found"},
		{"a CA file variable is named", []string{"--provider", "openai"}, map[string]string{"LLMPROBE_CA_FILE": badPEM}, "LLMPROBE_CA_FILE: "},
		{"a bad duration flag", []string{"--provider", "openai", "--timeout", "soon"}, nil, `invalid value "soon" for flag -timeout`},
		{"a bad duration variable", []string{"--provider", "openai"}, map[string]string{"LLMPROBE_TIMEOUT": "soon"}, `LLMPROBE_TIMEOUT: "soon" is not a duration`},
		{"a zero timeout", []string{"--provider", "openai", "--timeout", "0s"}, nil, "--timeout: must be positive"},
		{"an unknown check", []string{"--provider", "openai", "--check", "ping"}, nil, `--check: unknown check "ping"`},
		{"an unknown output", []string{"--provider", "openai", "--output", "yaml"}, nil, `--output: "yaml" is not an output format`},
		{"azure without a resource", []string{"--provider", "azure"}, nil, "provider azure needs LLMPROBE_AZURE_RESOURCE"},
		{"vertex without a project", []string{"--provider", "vertex", "--check", "reach"}, nil, "provider vertex needs LLMPROBE_VERTEX_PROJECT"},
		{"both a model and a model list", []string{"--provider", "openai"}, map[string]string{"LLMPROBE_OPENAI_MODEL": "a", "LLMPROBE_OPENAI_MODELS": "a,b"},
			"LLMPROBE_OPENAI_MODEL and LLMPROBE_OPENAI_MODELS are both set"},
		{"an output limit out of range", []string{"--provider", "openai"}, map[string]string{"LLMPROBE_OPENAI_MAX_TOKENS": "-1"}, "LLMPROBE_OPENAI_MAX_TOKENS: \"-1\" is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.ClearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"check"}, tt.args...), &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.message) {
				t.Fatalf("stderr %q does not say %q", stderr.String(), tt.message)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q on a usage error", stdout.String())
			}
		})
	}
}

// TestCheckBedrockReachOfflineIsANetworkVerdict: without credentials and
// without a network path, bedrock's keyless reach is a probe that ran and
// failed on the network, never a usage error. The API root is a closed
// port on 127.0.0.1, as an unreachable endpoint looks offline.
func TestCheckBedrockReachOfflineIsANetworkVerdict(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	stdout, stderr, code := runBinary(t, []string{"AWS_EC2_METADATA_DISABLED=true", "LLMPROBE_BEDROCK_BASE_URL=" + closed},
		"check", "--provider", "bedrock", "--check", "reach", "--output", "json", "--timeout", "60s")
	var res probe.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("exit %d, stdout %q, stderr %q: %v", code, stdout, stderr, err)
	}
	if code != exitFailed || res.Outcome != probe.OutcomeNetworkError || res.Reason != probe.ReasonConnectRefused || res.Provider != "bedrock" {
		t.Fatalf("exit %d, %s/%s (%s)", code, res.Outcome, res.Reason, res.Error)
	}
}

func TestCheckDefaultsToChatWithAKeyAndReachWithout(t *testing.T) {
	srv := providertest.NewServer(providertest.Options{APIKey: testKey})
	defer srv.Close()
	for _, tt := range []struct {
		key  string
		want string
	}{{"", "reach"}, {testKey, "chat"}} {
		testkit.ClearEnv(t)
		t.Setenv("OPENAI_API_KEY", tt.key)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"check", "--provider", "openai", "--base-url", srv.BaseURL("openai"), "--output", "json"}, &stdout, &stderr)
		var res probe.Result
		if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
			t.Fatalf("%v: %s %s", err, stdout.String(), stderr.String())
		}
		if code != exitOK || string(res.Check) != tt.want || res.Outcome != probe.OutcomeSuccess {
			t.Fatalf("key set %v: exit %d check %s outcome %s (%s)", tt.key != "", code, res.Check, res.Outcome, res.Error)
		}
	}
}

func TestCheckTextOutputShowsVerdictAndPhaseBar(t *testing.T) {
	srv := providertest.NewServer(providertest.Options{APIKey: testKey})
	defer srv.Close()
	srv.Inject("anthropic", providertest.Fault{Kind: providertest.Overloaded529})
	testkit.ClearEnv(t)
	t.Setenv("ANTHROPIC_API_KEY", testKey)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "--provider", "anthropic", "--base-url", srv.BaseURL("anthropic")}, &stdout, &stderr)
	out := stdout.String()
	if code != exitFailed {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"anthropic chat claude-haiku-4-5 from local: ORIGIN_ERROR (overloaded) HTTP 529 via cloudflare FRA, written by the origin", "error:  HTTP 529: Overloaded", "phases: dns", "d=dns c=connect s=tls w=waiting x=transfer"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}
