package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/buildinfo"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/cloudauth"
)

// checkFlags are the `llmprobe check` settings. Each flag has an env
// variable; a flag given on the command line wins.
type checkFlags struct {
	provider, check, model, baseURL, caFile, region, output string
	timeout                                                 time.Duration
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f checkFlags
	fs.StringVar(&f.provider, "provider", "", "provider id (required; env LLMPROBE_PROVIDER)")
	fs.StringVar(&f.check, "check", "", "reach, chat or stream (default chat when the provider's key is set, else reach; env LLMPROBE_CHECK)")
	fs.StringVar(&f.model, "model", "", "model (default the catalog's cheap model, or the first of LLMPROBE_<ID>_MODELS; env LLMPROBE_<ID>_MODEL)")
	fs.StringVar(&f.baseURL, "base-url", "", "API root replacing the provider's, as the SDK's base URL variable (env LLMPROBE_<ID>_BASE_URL)")
	fs.StringVar(&f.caFile, "ca-file", "", "extra trusted root certificates, PEM (env LLMPROBE_CA_FILE)")
	fs.DurationVar(&f.timeout, "timeout", 20*time.Second, "probe timeout (env LLMPROBE_TIMEOUT)")
	fs.StringVar(&f.region, "region", "", "region label (default local; env LLMPROBE_REGION)")
	fs.StringVar(&f.output, "output", "", "text or json (default text; env LLMPROBE_OUTPUT)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: llmprobe check --provider ID [flags]\n\nProbe one provider once. Exit 0 on success, 1 when the probe failed, 2 on a usage error.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	c, prober, output, err := resolveCheck(ctx, f, set, os.Getenv)
	if err != nil {
		return err
	}
	res := prober.Probe(ctx, c)
	if err := printResult(stdout, res, output); err != nil {
		return err
	}
	if !res.Success() {
		return errFailed
	}
	return nil
}

// resolveCheck merges flags over env variables into one check. Every error
// names the flag or variable that is wrong.
func resolveCheck(ctx context.Context, f checkFlags, set map[string]bool, env func(string) string) (probe.Check, *probe.Prober, string, error) {
	var c probe.Check
	pick := func(flagName, flagValue, envName string) (value, source string) {
		if set[flagName] {
			return flagValue, "--" + flagName
		}
		if v := strings.TrimSpace(env(envName)); v != "" {
			return v, envName
		}
		return flagValue, "--" + flagName
	}
	id, _ := pick("provider", f.provider, "LLMPROBE_PROVIDER")
	if id == "" {
		return c, nil, "", usagef("--provider is required (valid: %s)", strings.Join(probe.KnownIDs(env), ", "))
	}
	p, err := probe.ResolveProvider(id, env)
	if err != nil {
		return c, nil, "", usagef("--provider: %v", err)
	}
	if set["base-url"] {
		u, err := probe.ParseBaseURL(f.baseURL)
		if err != nil {
			return c, nil, "", usagef("--base-url: %v", err)
		}
		p.BaseURL = u
	}
	if p.BaseURL == "" {
		return c, nil, "", usageError{probe.MissingBaseURL(p)}
	}
	c.Provider, c.BaseURL = p, p.BaseURL
	if p.KeyEnv != "" {
		c.APIKey = probe.Secret(strings.TrimSpace(env(p.KeyEnv)))
	}

	kind, src := pick("check", f.check, "LLMPROBE_CHECK")
	if p.Credentials != probe.CredentialsKey && kind != string(probe.KindReach) {
		// Bedrock and Vertex: their credential chain stands for the key. A
		// chain that finds nothing leaves the signer nil (reach by default,
		// no_api_key for chat); a broken one is a configuration error.
		signer, _, err := cloudauth.For(ctx, p)
		if err != nil {
			return c, nil, "", usagef("provider %s: %v", p.ID, err)
		}
		c.Signer = signer
	}
	switch {
	case kind == "" && (c.APIKey.Set() || c.Signer != nil):
		c.Kind = probe.KindChat
	case kind == "":
		c.Kind = probe.KindReach
	default:
		if c.Kind, err = probe.ParseKind(kind); err != nil {
			return c, nil, "", usagef("%s: %v", src, err)
		}
	}
	if c.Kind != probe.KindReach {
		c.Model = p.DefaultModel
		if set["model"] {
			c.Model = strings.TrimSpace(f.model)
		}
		if c.Model == "" {
			return c, nil, "", usagef("--model: provider %s has no default model; set --model or %s", p.ID, probe.EnvName(p.ID, probe.SettingModel))
		}
	}
	if c.Kind == probe.KindReach {
		c.Signer = nil // reach is keyless for signed providers
	}

	c.Timeout = f.timeout
	if !set["timeout"] {
		if v := strings.TrimSpace(env("LLMPROBE_TIMEOUT")); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return c, nil, "", usagef("LLMPROBE_TIMEOUT: %q is not a duration (e.g. 20s)", v)
			}
			c.Timeout = d
		}
	}
	if c.Timeout <= 0 {
		return c, nil, "", usagef("--timeout: must be positive, got %s", c.Timeout)
	}
	region, _ := pick("region", f.region, "LLMPROBE_REGION")
	if region == "" {
		region = "local"
	}
	c.Region = region

	output, src := pick("output", f.output, "LLMPROBE_OUTPUT")
	if output == "" {
		output = "text"
	}
	if output != "text" && output != "json" {
		return c, nil, "", usagef("%s: %q is not an output format (want text or json)", src, output)
	}

	prober := &probe.Prober{UserAgent: buildinfo.Get().UserAgent()}
	caFile, src := pick("ca-file", f.caFile, probe.EnvCAFile)
	if caFile != "" {
		pool, err := probe.LoadCAFile(caFile)
		if err != nil {
			return c, nil, "", usagef("%s: %v", src, err)
		}
		prober.RootCAs = pool
	}
	return c, prober, output, nil
}

// printResult writes one result as JSON (one line) or as a short summary.
func printResult(w io.Writer, r probe.Result, output string) error {
	if output == "json" {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := io.WriteString(w, formatText(r))
	return err
}

// formatText is the human summary: verdict line, error, phases and a bar.
func formatText(r probe.Result) string {
	var b strings.Builder
	what := r.Provider + " " + string(r.Check)
	if r.Model != "" {
		what += " " + r.Model
	}
	verdict := strings.ToUpper(string(r.Outcome))
	fmt.Fprintf(&b, "%s from %s: %s (%s)", what, r.Region, verdict, r.Reason)
	if r.StatusCode != 0 {
		fmt.Fprintf(&b, " HTTP %d", r.StatusCode)
	}
	if r.Edge != "" && r.Edge != probe.EdgeNone {
		fmt.Fprintf(&b, " via %s", r.Edge)
		if r.EdgePOP != "" {
			fmt.Fprintf(&b, " %s", r.EdgePOP)
		}
	}
	if r.AuthoredBy != probe.AuthorNone {
		fmt.Fprintf(&b, ", written by the %s", r.AuthoredBy)
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "  error:  %s\n", r.Error)
	}
	if r.RequestID != "" || r.EdgeRay != "" {
		fmt.Fprintf(&b, "  ids:    request %s  ray %s\n", orDash(r.RequestID), orDash(r.EdgeRay))
	}
	if r.Answer != "" {
		fmt.Fprintf(&b, "  answer: %q (%d in, %d out tokens)\n", r.Answer, r.Tokens.Input, r.Tokens.Output)
	}
	t := r.Timings
	phases := []struct {
		name string
		mark byte
		d    time.Duration
	}{{"dns", 'd', t.DNS}, {"connect", 'c', t.Connect}, {"tls", 's', t.TLS}, {"ttfb", 'w', t.TTFB}, {"transfer", 'x', t.Transfer}}
	b.WriteString("  phases:")
	for _, p := range phases {
		fmt.Fprintf(&b, " %s %s", p.name, fmtMS(p.d))
	}
	if t.TTFT > 0 {
		fmt.Fprintf(&b, " ttft %s", fmtMS(t.TTFT))
	}
	fmt.Fprintf(&b, " total %s\n", fmtMS(t.Total))
	const width = 50
	bar := make([]byte, 0, width)
	if t.Total > 0 {
		for _, p := range phases {
			n := int(float64(width) * float64(p.d) / float64(t.Total))
			if p.d > 0 && n == 0 {
				n = 1
			}
			for i := 0; i < n && len(bar) < width; i++ {
				bar = append(bar, p.mark)
			}
		}
	}
	for len(bar) < width {
		bar = append(bar, '.')
	}
	fmt.Fprintf(&b, "  [%s]  d=dns c=connect s=tls w=waiting x=transfer\n", bar)
	return b.String()
}

func fmtMS(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/1e6) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
