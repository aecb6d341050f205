package probe

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// Variable names of per-provider settings (contract: DESIGN.md, Checks).
const (
	EnvCustomProviders = "LLMPROBE_CUSTOM_PROVIDERS" // comma list of user-named OpenAI-compatible endpoints
	EnvCAFile          = "LLMPROBE_CA_FILE"
	EnvAzureResource   = "LLMPROBE_AZURE_RESOURCE"
	EnvAzureAPIVersion = "LLMPROBE_AZURE_API_VERSION"
)

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
// custom list, with LLMPROBE_<ID>_BASE_URL, LLMPROBE_<ID>_MODEL and the
// Azure settings applied. Errors name the variable and what is wrong.
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
	if raw := strings.TrimSpace(env(EnvName(id, "BASE_URL"))); raw != "" {
		u, err := ParseBaseURL(raw)
		if err != nil {
			return Provider{}, fmt.Errorf("%s: %w", EnvName(id, "BASE_URL"), err)
		}
		p.BaseURL = u
	}
	if m := strings.TrimSpace(env(EnvName(id, "MODEL"))); m != "" {
		p.DefaultModel = m
	} else if p.API == APIAzure {
		p.DefaultModel = strings.TrimSpace(env(EnvName(id, "DEPLOYMENT")))
	}
	return p, nil
}

func validAzureResource(r string) bool {
	if len(r) > 64 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// MissingBaseURL explains how to configure a provider that has no API root
// yet (Azure, custom endpoints), naming the variables to set.
func MissingBaseURL(p Provider) error {
	if p.API == APIAzure {
		return fmt.Errorf("provider azure needs %s (or %s)", EnvAzureResource, EnvName(p.ID, "BASE_URL"))
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
