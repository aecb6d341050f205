package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/cloudauth"
)

// EnvPrefix is the prefix of llmprobe's own settings.
const EnvPrefix = "LLMPROBE"

// Settings are the worker's own settings, from LLMPROBE_* variables (README,
// Configuration). Per-provider settings (LLMPROBE_<ID>_BASE_URL, _MODEL,
// ...) and API keys are read by probe.ResolveProvider.
type Settings struct {
	Region             string         `envconfig:"REGION" default:"local" desc:"region label of this worker"`
	Interval           time.Duration  `envconfig:"INTERVAL" default:"30s" desc:"how often every check runs"`
	Timeout            time.Duration  `envconfig:"TIMEOUT" default:"20s" desc:"per-probe timeout; at most the interval"`
	Listen             string         `envconfig:"LISTEN" default:":9469" desc:"address of /metrics, /api/status and the status page"`
	MaxConnections     int            `envconfig:"MAX_CONNECTIONS" default:"256" desc:"HTTP connections served at once; more wait their turn"`
	Providers          []string       `envconfig:"PROVIDERS" desc:"comma list of provider ids to probe (default all)"`
	Kinds              []string       `envconfig:"CHECKS" default:"reach,chat,stream" desc:"check kinds to run; chat and stream need the provider's key"`
	CAFile             string         `envconfig:"CA_FILE" desc:"extra trusted root certificates, PEM"`
	Concurrency        int64          `envconfig:"CONCURRENCY" default:"64" desc:"probes in flight at once"`
	ControlTargets     ControlTargets `envconfig:"CONTROL_TARGETS" default:"cloudflare=https://www.cloudflare.com/cdn-cgi/trace,google=https://www.gstatic.com/generate_204" desc:"name=url list of endpoints outside any provider; empty disables"`
	StatusPages        bool           `envconfig:"STATUS_PAGES" default:"true" desc:"poll the providers' public status pages"`
	StatusPageInterval time.Duration  `envconfig:"STATUS_PAGE_INTERVAL" default:"2m" desc:"how often status pages are read"`
	DailyRequestBudget int64          `envconfig:"DAILY_REQUEST_BUDGET" default:"10000" desc:"chat+stream requests per provider per UTC day; 0 unlimited"`
	DailyTokenBudget   int64          `envconfig:"DAILY_TOKEN_BUDGET" default:"500000" desc:"tokens per provider per UTC day; 0 unlimited"`
	History            int            `envconfig:"HISTORY" default:"60" desc:"recent results kept per check for /api/status"`
	LogFormat          string         `envconfig:"LOG_FORMAT" default:"text" desc:"text or json"`
	LogLevel           LogLevel       `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	ShutdownTimeout    time.Duration  `envconfig:"SHUTDOWN_TIMEOUT" default:"10s" desc:"bound on a graceful shutdown"`
	PProf              bool           `envconfig:"PPROF" default:"false" desc:"serve Go's profiles at /debug/pprof/ on LLMPROBE_LISTEN"`
}

var reLabelValue = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// ValidRegion reports whether r may be the region label: lower-case
// letters, digits, '.', '-' and '_', at most 63.
func ValidRegion(r string) bool { return reLabelValue.MatchString(r) }

// LoadSettings reads and validates the worker's settings from the process
// environment. Every error is a *ConfigError that names the variable and
// what is wrong with it.
func LoadSettings() (Settings, error) {
	var cfg Settings
	if err := envconfig.Process(EnvPrefix, &cfg); err != nil {
		return cfg, &ConfigError{envconfigError(err)}
	}
	if err := unknownVariables(); err != nil {
		return cfg, &ConfigError{err}
	}
	switch {
	case !ValidRegion(cfg.Region):
		return cfg, configErrorf("LLMPROBE_REGION: %q must be lower-case letters, digits, '.', '-' or '_' (it becomes a label value)", cfg.Region)
	case cfg.Timeout > cfg.Interval:
		return cfg, configErrorf("LLMPROBE_TIMEOUT: %s exceeds LLMPROBE_INTERVAL %s; a check never overlaps itself, so its timeout must fit in the interval", cfg.Timeout, cfg.Interval)
	case cfg.LogFormat != "text" && cfg.LogFormat != "json":
		return cfg, configErrorf("LLMPROBE_LOG_FORMAT: %q is not text or json", cfg.LogFormat)
	}
	if err := cfg.checkRanges(); err != nil {
		return cfg, &ConfigError{err}
	}
	if err := checkListen(cfg.Listen); err != nil {
		return cfg, configErrorf("LLMPROBE_LISTEN: %v", err)
	}
	if err := cfg.checkDescriptors(openFileLimit()); err != nil {
		return cfg, &ConfigError{err}
	}
	if tracingEnabled() {
		if _, err := tracingProtocol(); err != nil {
			return cfg, &ConfigError{err}
		}
	}
	for _, k := range cfg.Kinds {
		if _, err := probe.ParseKind(strings.TrimSpace(k)); err != nil {
			return cfg, configErrorf("LLMPROBE_CHECKS: %v", err)
		}
	}
	if _, err := probe.CustomIDs(os.Getenv); err != nil {
		return cfg, &ConfigError{err}
	}
	return cfg, nil
}

// envconfigError rewrites envconfig's error to lead with the variable and
// say what is wrong: a decoder's own words, or the type the value is not.
func envconfigError(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	var de decodeError
	if errors.As(pe.Err, &de) {
		return fmt.Errorf("%s: %v", pe.KeyName, de.err)
	}
	return fmt.Errorf("%s: %q is not a valid %s", pe.KeyName, pe.Value, pe.TypeName)
}

// decodeError is a setting's own decoder's verdict, worded for the user.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }

// LogLevel is LLMPROBE_LOG_LEVEL: debug, info, warn or error.
type LogLevel slog.Level

// Decode reads a level name (envconfig.Decoder).
func (l *LogLevel) Decode(s string) error {
	var v slog.Level
	if err := v.UnmarshalText([]byte(s)); err != nil {
		return decodeError{fmt.Errorf("%q is not debug, info, warn or error", s)}
	}
	*l = LogLevel(v)
	return nil
}

// ControlTargets is LLMPROBE_CONTROL_TARGETS, parsed once when the settings
// load.
type ControlTargets []ControlTarget

// Decode reads "name=url,name=url" (envconfig.Decoder).
func (t *ControlTargets) Decode(s string) error {
	targets, err := ParseControlTargets(s)
	if err != nil {
		return decodeError{err}
	}
	*t = targets
	return nil
}

// CheckVariables are the variables of `llmprobe check` that the worker
// does not read; to `run` they are typos (of LLMPROBE_PROVIDERS and
// LLMPROBE_CHECKS, most likely).
var CheckVariables = []string{"LLMPROBE_PROVIDER", "LLMPROBE_CHECK", "LLMPROBE_OUTPUT"}

// maxListed bounds how many names or errors one message lists.
const maxListed = 10

// UnknownCheckVariables rejects the LLMPROBE_* variables that neither
// `llmprobe check` nor the worker reads (the two may share an environment),
// so a typo in check's variables is an error too.
func UnknownCheckVariables() error { return unknownVariables(CheckVariables...) }

// unknownVariables rejects LLMPROBE_* variables that nothing reads, so a
// typo (LLMPROBE_INTERVALL) is an error and not a silent default. The
// names in also are further variables the caller reads.
func unknownVariables(also ...string) error {
	known := map[string]bool{probe.EnvCustomProviders: true, probe.EnvAzureResource: true, probe.EnvAzureAPIVersion: true,
		probe.EnvVertexProject: true, probe.EnvVertexLocation: true, probe.EnvCAFile: true}
	for _, k := range also {
		known[k] = true
	}
	var keys strings.Builder
	_ = envconfig.Usagef(EnvPrefix, &Settings{}, &keys, "{{range .}}{{usage_key .}}\n{{end}}")
	for _, k := range strings.Fields(keys.String()) {
		known[k] = true
	}
	for _, id := range probe.KnownIDs(os.Getenv) {
		for _, s := range probe.ProviderSettings {
			known[probe.EnvName(id, s)] = true
		}
	}
	var unknown []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, EnvPrefix+"_") && !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		if slices.Contains(CheckVariables, k) {
			return fmt.Errorf("%s: a variable of llmprobe check, which the worker does not read (the worker's are LLMPROBE_PROVIDERS and LLMPROBE_CHECKS)", k)
		}
	}
	return fmt.Errorf("%s: unknown variable (see the README's configuration table)", listed(unknown))
}

// listed joins at most maxListed items and says how many more there were.
func listed(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// Checks turns the settings into checks: reach for every provider, chat and
// stream where the provider's key (or, for Bedrock and Vertex, its
// credential chain) is set, one of each per model of LLMPROBE_<ID>_MODELS.
// skipped says which catalog providers or checks were left out and why
// (Azure without a resource, Vertex without a project, Bedrock without AWS
// credentials). Errors are *ConfigError.
func (cfg Settings) Checks() (checks []probe.Check, skipped []string, err error) {
	return cfg.checks(context.Background(), cloudauth.For)
}

// signerFor finds a provider's credentials (cloudauth.For; tests inject).
type signerFor func(context.Context, probe.Provider) (probe.Signer, string, error)

func (cfg Settings) checks(ctx context.Context, signers signerFor) (checks []probe.Check, skipped []string, err error) {
	env := os.Getenv
	ids := probe.KnownIDs(env)
	explicit := len(cfg.Providers) > 0
	if explicit {
		ids = nil
		seen := map[string]bool{}
		for _, id := range cfg.Providers {
			id = strings.TrimSpace(id)
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	kinds := map[probe.Kind]bool{}
	for _, k := range cfg.Kinds {
		kind, _ := probe.ParseKind(strings.TrimSpace(k))
		kinds[kind] = true
	}
	for _, id := range ids {
		p, err := probe.ResolveProvider(id, env)
		if err != nil {
			if explicit {
				return nil, nil, configErrorf("LLMPROBE_PROVIDERS: %w", err)
			}
			return nil, nil, &ConfigError{err}
		}
		if p.BaseURL == "" {
			if explicit {
				return nil, nil, &ConfigError{probe.MissingBaseURL(p)}
			}
			skipped = append(skipped, fmt.Sprintf("%s: %v", id, probe.MissingBaseURL(p)))
			continue
		}
		var key probe.Secret
		if p.KeyEnv != "" {
			key = probe.Secret(strings.TrimSpace(env(p.KeyEnv)))
			if err := probe.CheckKey(p.KeyEnv, key); err != nil {
				return nil, nil, &ConfigError{err}
			}
		}
		var signer probe.Signer
		if p.Credentials != probe.CredentialsKey && (kinds[probe.KindChat] || kinds[probe.KindStream]) {
			var why string
			if signer, why, err = signers(ctx, p); err != nil {
				return nil, nil, &ConfigError{fmt.Errorf("provider %s: %w", id, err)}
			}
			if why != "" {
				skipped = append(skipped, fmt.Sprintf("%s chat and stream: %s", id, why))
			}
		}
		for _, kind := range probe.Kinds {
			if !kinds[kind] || kind != probe.KindReach && !key.Set() && signer == nil {
				continue
			}
			models := []string{""}
			if kind != probe.KindReach {
				models = p.Models
				if len(models) == 0 {
					return nil, nil, configErrorf("%s: provider %s has credentials but no model or deployment", probe.EnvName(id, probe.SettingModel), id)
				}
			}
			for _, model := range models {
				c := probe.Check{Provider: p, Kind: kind, Model: model, BaseURL: p.BaseURL, APIKey: key, Region: cfg.Region, Timeout: cfg.Timeout}
				if kind != probe.KindReach {
					c.Signer = signer
				}
				if err := c.Validate(); err != nil {
					return nil, nil, &ConfigError{err}
				}
				checks = append(checks, c)
			}
		}
	}
	if len(checks) == 0 {
		return nil, skipped, configErrorf("no checks to run: LLMPROBE_PROVIDERS and LLMPROBE_CHECKS leave nothing (chat and stream need the provider's API key)")
	}
	return checks, skipped, nil
}

// ConfigError is a bad setting: a variable, a file or an address. Its
// message names what is wrong; `llmprobe` exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}
