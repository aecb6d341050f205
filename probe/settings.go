package probe

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Variable names of per-provider settings (contract: DESIGN.md, Checks).
const (
	EnvCustomProviders = "LLMPROBE_CUSTOM_PROVIDERS" // comma list of user-named OpenAI-compatible endpoints
	EnvCAFile          = "LLMPROBE_CA_FILE"
	EnvAzureResource   = "LLMPROBE_AZURE_RESOURCE"
	EnvAzureAPIVersion = "LLMPROBE_AZURE_API_VERSION"
	EnvVertexProject   = "LLMPROBE_VERTEX_PROJECT"
	EnvVertexLocation  = "LLMPROBE_VERTEX_LOCATION"
	EnvAWSRegion       = "AWS_REGION" // the AWS SDKs' own variable
)

// Per-provider setting names, the <SETTING> of LLMPROBE_<ID>_<SETTING>.
const (
	SettingBaseURL    = "BASE_URL"
	SettingModel      = "MODEL"
	SettingModels     = "MODELS"
	SettingMaxTokens  = "MAX_TOKENS"
	SettingDeployment = "DEPLOYMENT"
)

// ProviderSettings lists the per-provider settings every provider id takes.
var ProviderSettings = []string{SettingBaseURL, SettingModel, SettingModels, SettingMaxTokens, SettingDeployment}

// MaxOutputTokens bounds LLMPROBE_<ID>_MAX_TOKENS: a probe is one word.
const MaxOutputTokens = 65536

// EnvName returns LLMPROBE_<ID>_<SETTING>, e.g. LLMPROBE_OPENAI_BASE_URL.
func EnvName(id, setting string) string {
	return "LLMPROBE_" + strings.ToUpper(id) + "_" + setting
}

// CustomIDs returns the user-named endpoints of LLMPROBE_CUSTOM_PROVIDERS.
func CustomIDs(env func(string) string) ([]string, error) {
	var ids []string
	for _, id := range strings.Split(env(EnvCustomProviders), ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !ValidID(id) {
			return nil, fmt.Errorf("%s: %q is not a valid id (lower-case letters, digits and _, starting with a letter)", EnvCustomProviders, id)
		}
		if _, ok := LookupProvider(id); ok {
			return nil, fmt.Errorf("%s: %q is a built-in provider; set %s instead", EnvCustomProviders, id, EnvName(id, "BASE_URL"))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// KnownIDs returns the catalog ids followed by the custom ones.
func KnownIDs(env func(string) string) []string {
	ids := ProviderIDs()
	custom, _ := CustomIDs(env)
	return append(ids, custom...)
}

// ResolveProvider returns the provider with id, from the catalog or the
// custom list, with LLMPROBE_<ID>_BASE_URL, _MODEL or _MODELS, _MAX_TOKENS
// and the Azure, Bedrock (AWS_REGION) and Vertex settings applied. Errors
// name the variable and what is wrong.
func ResolveProvider(id string, env func(string) string) (Provider, error) {
	p, ok := LookupProvider(id)
	if !ok {
		custom, err := CustomIDs(env)
		if err != nil {
			return Provider{}, err
		}
		for _, c := range custom {
			if c == id {
				p, ok = CustomProvider(id, "", ""), true
			}
		}
	}
	if !ok {
		return Provider{}, fmt.Errorf("unknown provider %q (valid: %s)", id, strings.Join(KnownIDs(env), ", "))
	}
	if p.API == APIAzure {
		if r := strings.TrimSpace(env(EnvAzureResource)); r != "" {
			if !validAzureResource(r) {
				return Provider{}, fmt.Errorf("%s: %q is not an Azure resource name (letters, digits and hyphens)", EnvAzureResource, r)
			}
			p.BaseURL = AzureBaseURL(r)
		}
		if v := strings.TrimSpace(env(EnvAzureAPIVersion)); v != "" {
			p.AzureAPIVersion = v
		}
	}
	if err := resolveCloud(&p, env); err != nil {
		return Provider{}, err
	}
	if raw := strings.TrimSpace(env(EnvName(id, SettingBaseURL))); raw != "" {
		u, err := ParseBaseURL(raw)
		if err != nil {
			return Provider{}, fmt.Errorf("%s: %w", EnvName(id, SettingBaseURL), err)
		}
		p.BaseURL = u
	}
	if p.API == APIVertex && p.Project == "" {
		p.BaseURL = "" // every Vertex path names the project: skipped or an error, as Azure without a resource
	}
	models, err := resolveModels(id, env)
	if err != nil {
		return Provider{}, err
	}
	switch {
	case len(models) > 0:
		p.Models = models
	case p.API == APIAzure && strings.TrimSpace(env(EnvName(id, SettingDeployment))) != "":
		p.Models = []string{strings.TrimSpace(env(EnvName(id, SettingDeployment)))}
	case p.API == APIAzure:
		p.Models = nil
	case p.DefaultModel != "":
		p.Models = []string{p.DefaultModel}
	}
	p.DefaultModel = ""
	if len(p.Models) > 0 {
		p.DefaultModel = p.Models[0]
	}
	if raw := strings.TrimSpace(env(EnvName(id, SettingMaxTokens))); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxOutputTokens {
			return Provider{}, fmt.Errorf("%s: %q is not a whole number of output tokens from 1 to %d", EnvName(id, SettingMaxTokens), raw, MaxOutputTokens)
		}
		p.MaxTokens = n
	}
	return p, nil
}

// resolveModels reads LLMPROBE_<ID>_MODEL (one model) or
// LLMPROBE_<ID>_MODELS (a comma list, each its own check); setting both is
// an error, since one would silently win.
func resolveModels(id string, env func(string) string) ([]string, error) {
	one, many := strings.TrimSpace(env(EnvName(id, SettingModel))), strings.TrimSpace(env(EnvName(id, SettingModels)))
	switch {
	case one != "" && many != "":
		return nil, fmt.Errorf("%s and %s are both set: set %s for one model or %s for several, not both",
			EnvName(id, SettingModel), EnvName(id, SettingModels), EnvName(id, SettingModel), EnvName(id, SettingModels))
	case one != "":
		return []string{one}, nil
	case many == "":
		return nil, nil
	}
	var models []string
	seen := map[string]bool{}
	for _, m := range strings.Split(many, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			return nil, fmt.Errorf("%s: %q has an empty entry (a comma list of model names)", EnvName(id, SettingModels), many)
		}
		if seen[m] {
			return nil, fmt.Errorf("%s: model %q is listed twice", EnvName(id, SettingModels), m)
		}
		seen[m] = true
		models = append(models, m)
	}
	return models, nil
}

// resolveCloud applies the region, location and project of Bedrock and
// Vertex.
func resolveCloud(p *Provider, env func(string) string) error {
	switch p.API {
	case APIBedrock:
		r, err := cloudSetting(env, EnvAWSRegion, validCloudName, "an AWS region (e.g. us-east-1)")
		if err != nil {
			return err
		}
		p.Region = firstNonEmpty(r, p.Region)
		p.BaseURL = BedrockBaseURL(p.Region)
		p.stockBaseURL = p.BaseURL
	case APIVertex:
		l, err := cloudSetting(env, EnvVertexLocation, validCloudName, "a Google Cloud location (e.g. us-central1 or global)")
		if err != nil {
			return err
		}
		p.Region = firstNonEmpty(l, p.Region)
		pr, err := cloudSetting(env, EnvVertexProject, validProject, "a Google Cloud project id (letters, digits, '-', '.', ':')")
		if err != nil || pr == "" {
			return err
		}
		p.Project = pr
		p.BaseURL = VertexBaseURL(p.Region)
		p.stockBaseURL = p.BaseURL
		p.ReachPath = "/v1/projects/" + p.Project + "/locations/" + p.Region + "/endpoints"
	}
	return nil
}

// cloudSetting reads one region, location or project variable; an error
// names it and says what it should be.
func cloudSetting(env func(string) string, name string, valid func(string) bool, want string) (string, error) {
	v := strings.TrimSpace(env(name))
	if v != "" && !valid(v) {
		return "", fmt.Errorf("%s: %q is not %s", name, v, want)
	}
	return v, nil
}

// validCloudName accepts AWS regions and Google Cloud locations: lower-case
// letters, digits and hyphens.
func validCloudName(s string) bool { return nameOf(s, 32, false, "-") }

// validProject accepts Google Cloud project ids, domain-scoped ones included.
func validProject(s string) bool { return nameOf(s, 64, false, "-.:") }

func validAzureResource(r string) bool { return nameOf(r, 64, true, "-") }

// nameOf reports whether s has at most max characters, each a lower-case
// letter, a digit, an upper-case letter if upper, or one of punct.
func nameOf(s string, max int, upper bool, punct string) bool {
	if len(s) > max {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || upper && c >= 'A' && c <= 'Z' || strings.ContainsRune(punct, c)) {
			return false
		}
	}
	return true
}

// MissingBaseURL explains how to configure a provider that has no API root
// yet (Azure, custom endpoints), naming the variables to set.
func MissingBaseURL(p Provider) error {
	switch p.API {
	case APIAzure:
		return fmt.Errorf("provider azure needs %s (or %s)", EnvAzureResource, EnvName(p.ID, SettingBaseURL))
	case APIVertex:
		return fmt.Errorf("provider vertex needs %s (its Google Cloud project; %s defaults to %s)", EnvVertexProject, EnvVertexLocation, DefaultVertexLocation)
	}
	return fmt.Errorf("provider %s needs %s", p.ID, EnvName(p.ID, "BASE_URL"))
}

// LoadCAFile returns the system roots plus the PEM certificates in path.
func LoadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificates found", path)
	}
	return pool, nil
}
