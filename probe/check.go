package probe

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Secret holds an API key. Every way of printing it prints a placeholder, so
// a key that strays into a log line, an error or JSON shows nothing.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string               { return redactedOrEmpty(s) }
func (s Secret) GoString() string             { return redactedOrEmpty(s) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redactedOrEmpty(s) + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redactedOrEmpty(s)), nil }
func (s Secret) Reveal() string               { return string(s) }
func (s Secret) Set() bool                    { return s != "" }
func redactedOrEmpty(s Secret) string {
	if s == "" {
		return ""
	}
	return redacted
}

// keyLike matches strings shaped like provider API keys (sk-..., gsk_...,
// xai-..., AIza...), masked ones included, AWS access key ids (AKIA...,
// ASIA...) and Google OAuth2 access tokens (ya29....), so provider messages
// that echo a credential fragment are scrubbed too.
var keyLike = regexp.MustCompile(`\b(?:sk|gsk|xai)[-_][A-Za-z0-9*._-]{6,}|\bAIza[A-Za-z0-9_*-]{10,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bya29\.[A-Za-z0-9._-]{8,}`)

// Scrub removes the given secrets and anything shaped like an API key or
// access token from s.
func Scrub(s string, secrets ...Secret) string {
	for _, key := range secrets {
		if key != "" && len(key) >= 4 {
			s = strings.ReplaceAll(s, string(key), redacted)
		}
	}
	return keyLike.ReplaceAllString(s, redacted)
}

// Signer authorizes a chat or stream request with credentials that are not
// one static key: AWS SigV4 from the default credential chain, OAuth2
// access tokens from Google's Application Default Credentials (package
// probe/cloudauth). Sign adds the credentials to req, whose body is body,
// and returns every secret it used (secret keys, session tokens, access
// tokens) so that the prober scrubs them from all it reports. An
// implementation must be safe for concurrent use and never print a secret.
type Signer interface {
	Sign(ctx context.Context, req *http.Request, body []byte) ([]Secret, error)
}

// Check is one probe target: a provider, a kind and a model, with where and
// how to reach it. The zero Timeout means DefaultTimeout.
type Check struct {
	Provider Provider
	Kind     Kind
	Model    string // empty for reach
	BaseURL  string // API root; the provider's default when empty
	APIKey   Secret
	// Signer authorizes chat and stream requests of providers whose
	// credentials are not a key (Provider.Credentials); reach never uses it.
	Signer  Signer
	Region  string
	Timeout time.Duration
	// MaxTokens is the output limit of chat and stream probes; 0 means
	// the provider's setting, else OutputTokenLimit's default.
	MaxTokens int
}

// DefaultTimeout bounds one probe when the check sets none.
const DefaultTimeout = 20 * time.Second

// Name identifies the check in logs: provider/kind[/model].
func (c Check) Name() string {
	if c.Model == "" {
		return c.Provider.ID + "/" + string(c.Kind)
	}
	return c.Provider.ID + "/" + string(c.Kind) + "/" + c.Model
}

// baseURL returns the API root the check talks to.
func (c Check) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return c.Provider.BaseURL
}

// usesDefaultBaseURL reports whether the check talks to the provider's real
// API root, so the catalog's usual edge may stand in when no response came.
func (c Check) usesDefaultBaseURL() bool {
	if c.Provider.stockBaseURL != "" && c.baseURL() == c.Provider.stockBaseURL {
		return true
	}
	cat, ok := LookupProvider(c.Provider.ID)
	return ok && cat.BaseURL != "" && c.baseURL() == cat.BaseURL
}

// Keyed reports whether the check carries credentials: a key, or a signer
// on a chat or stream check.
func (c Check) Keyed() bool {
	return c.APIKey.Set() || c.Signer != nil && c.Kind != KindReach
}

// OutputLimit is the output token limit the check's request asks for.
func (c Check) OutputLimit() int {
	switch {
	case c.MaxTokens > 0:
		return c.MaxTokens
	case c.Provider.MaxTokens > 0:
		return c.Provider.MaxTokens
	}
	return OutputTokenLimit(c.Provider.API, c.Model)
}

// Validate reports what is wrong with the check before it is probed.
func (c Check) Validate() error {
	if c.Provider.ID == "" {
		return fmt.Errorf("check has no provider")
	}
	switch c.Kind {
	case KindReach, KindChat, KindStream:
	default:
		return fmt.Errorf("check %s: unknown kind %q", c.Provider.ID, c.Kind)
	}
	if c.baseURL() == "" {
		return fmt.Errorf("check %s: no base URL", c.Provider.ID)
	}
	if _, err := ParseBaseURL(c.baseURL()); err != nil {
		return fmt.Errorf("check %s: base URL: %w", c.Provider.ID, err)
	}
	if c.Kind != KindReach && c.Model == "" {
		return fmt.Errorf("check %s/%s: no model", c.Provider.ID, c.Kind)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("check %s: negative timeout", c.Provider.ID)
	}
	if c.MaxTokens < 0 || c.MaxTokens > MaxOutputTokens {
		return fmt.Errorf("check %s: output limit %d out of range 1-%d", c.Provider.ID, c.MaxTokens, MaxOutputTokens)
	}
	if c.Provider.API == APIVertex && c.Provider.Project == "" {
		return fmt.Errorf("check %s: %v", c.Provider.ID, MissingBaseURL(c.Provider))
	}
	return nil
}
