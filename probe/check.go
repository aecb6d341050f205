package probe

import (
	"fmt"
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
// xai-..., AIza...), masked ones included, so provider messages that echo a
// key fragment are scrubbed too.
var keyLike = regexp.MustCompile(`\b(?:sk|gsk|xai)[-_][A-Za-z0-9*._-]{6,}|\bAIza[A-Za-z0-9_*-]{10,}`)

// Scrub removes the key and anything shaped like an API key from s.
func Scrub(s string, key Secret) string {
	if key != "" && len(key) >= 4 {
		s = strings.ReplaceAll(s, string(key), redacted)
	}
	return keyLike.ReplaceAllString(s, redacted)
}

// Check is one probe target: a provider, a kind and a model, with where and
// how to reach it. The zero Timeout means DefaultTimeout.
type Check struct {
	Provider Provider
	Kind     Kind
	Model    string // empty for reach
	BaseURL  string // API root; the provider's default when empty
	APIKey   Secret
	Region   string
	Timeout  time.Duration
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
	cat, ok := LookupProvider(c.Provider.ID)
	return ok && cat.BaseURL != "" && c.baseURL() == cat.BaseURL
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
	return nil
}
