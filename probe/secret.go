package probe

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
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

// MinKeyLength is the shortest API key the probe accepts. Scrubbing removes
// every run of ScrubRun or more characters of a key from what the probe
// reports; a shorter key could not be told from ordinary text, so it could
// not be scrubbed safely.
const MinKeyLength = ScrubRun

// ScrubRun is the shortest run of a secret's characters that Scrub removes
// wherever it appears: a key cut short by a clip, split by a line break or
// echoed in part is still removed, down to this many characters.
const ScrubRun = 8

// CheckKey reports a key too short to scrub, naming the variable or flag
// (name) that holds it. An empty key is fine: it means no key.
func CheckKey(name string, key Secret) error {
	if key.Set() && len(key) < MinKeyLength {
		return fmt.Errorf("%s: the key has %d characters; at least %d are needed to scrub it safely from every output", name, len(key), MinKeyLength)
	}
	if key.Set() && !utf8.ValidString(string(key)) {
		return fmt.Errorf("%s: the key is not valid UTF-8", name)
	}
	return nil
}

// keyLike matches strings shaped like provider API keys (sk-..., gsk_...,
// xai-..., AIza...), masked ones included, AWS access key ids (AKIA...,
// ASIA...) and Google OAuth2 access tokens (ya29....), so provider messages
// that echo a credential fragment are scrubbed too.
var keyLike = regexp.MustCompile(`\b(?:sk|gsk|xai)[-_][A-Za-z0-9*._-]{6,}|\bAIza[A-Za-z0-9_*-]{10,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bya29\.[A-Za-z0-9._-]{8,}`)

// Scrub removes the given secrets, any run of ScrubRun or more of their
// characters, and anything shaped like an API key or access token from s.
func Scrub(s string, secrets ...Secret) string {
	return newScrubber(secrets).text(s)
}

// scrubber removes a set of secrets from text. Build it once per probe:
// it indexes every run of ScrubRun characters of each secret.
type scrubber struct {
	runs  map[string]struct{} // every ScrubRun-long substring of a long secret
	short []string            // secrets shorter than ScrubRun, matched whole
}

func newScrubber(secrets []Secret) *scrubber {
	sc := &scrubber{}
	for _, s := range secrets {
		k := string(s)
		switch {
		case len(k) >= ScrubRun:
			if sc.runs == nil {
				sc.runs = map[string]struct{}{}
			}
			for i := 0; i+ScrubRun <= len(k); i++ {
				sc.runs[k[i:i+ScrubRun]] = struct{}{}
			}
		case len(k) >= 4: // shorter keys are refused (CheckKey); a signer's never are
			sc.short = append(sc.short, k)
		}
	}
	return sc
}

// raw removes the secrets from s, before anything parses, cuts or joins it;
// it leaves key-shaped strings alone (text does that, on what is kept).
func (sc *scrubber) raw(s string) string {
	spans := sc.spans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(redacted)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// rawBytes is raw for a body; it returns b itself when nothing matched.
func (sc *scrubber) rawBytes(b []byte) []byte {
	if sc.empty() || len(b) == 0 {
		return b
	}
	if len(sc.spans(string(b))) == 0 {
		return b
	}
	return []byte(sc.raw(string(b)))
}

// text is what the probe keeps and reports: s without the secrets and
// without anything shaped like a key.
func (sc *scrubber) text(s string) string {
	return keyLike.ReplaceAllString(sc.raw(s), redacted)
}

// id keeps a value only if it holds no secret and nothing key-shaped: an id
// is reported as it came, or not at all.
func (sc *scrubber) id(s string) string {
	if s == "" || sc.text(s) != s {
		return ""
	}
	return s
}

func (sc *scrubber) empty() bool { return len(sc.runs) == 0 && len(sc.short) == 0 }

// spans returns the byte ranges of s to redact, sorted and merged, each
// widened to whole UTF-8 characters.
func (sc *scrubber) spans(s string) [][2]int {
	if sc.empty() {
		return nil
	}
	var spans [][2]int
	if len(sc.runs) > 0 {
		for i := 0; i+ScrubRun <= len(s); i++ {
			if _, ok := sc.runs[s[i:i+ScrubRun]]; ok {
				spans = append(spans, [2]int{i, i + ScrubRun})
			}
		}
	}
	for _, k := range sc.short {
		for from := 0; ; {
			j := strings.Index(s[from:], k)
			if j < 0 {
				break
			}
			spans = append(spans, [2]int{from + j, from + j + len(k)})
			from += j + 1
		}
	}
	if len(spans) == 0 {
		return nil
	}
	for i := range spans {
		for spans[i][0] > 0 && !utf8.RuneStart(s[spans[i][0]]) {
			spans[i][0]--
		}
		spans[i][1] = maskedTail(s, spans[i][1])
		for spans[i][1] < len(s) && !utf8.RuneStart(s[spans[i][1]]) {
			spans[i][1]++
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		if last := &merged[len(merged)-1]; sp[0] <= last[1] {
			last[1] = max(last[1], sp[1])
		} else {
			merged = append(merged, sp)
		}
	}
	return merged
}

// observation removes the secrets from everything in o that came from the
// network, before Classify reads it: header values, the body, the
// transport's error text, and what a stream's events said.
func (sc *scrubber) observation(o *Observation) {
	if sc.empty() {
		return
	}
	o.Detail = sc.raw(o.Detail)
	o.Body = sc.rawBytes(o.Body)
	if o.Header != nil {
		h := make(map[string][]string, len(o.Header))
		for k, vs := range o.Header {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = sc.raw(v)
			}
			h[k] = out
		}
		o.Header = h
	}
	if st := o.Stream; st != nil {
		st.Content, st.Finish = sc.raw(st.Content), sc.raw(st.Finish)
		if e := st.Err; e != nil {
			for _, f := range []*string{&e.Type, &e.Code, &e.Status, &e.Reason, &e.AWSType, &e.Detail, &e.LimitSource, &e.Message, &e.RequestID} {
				*f = sc.raw(*f)
			}
			for i := range e.QuotaIDs {
				e.QuotaIDs[i] = sc.raw(e.QuotaIDs[i])
			}
		}
	}
}

// maskedTail extends a match that ends at end over a masked rest of the
// key, as providers echo one ("sk-proj-****abcd"): the stars and the
// characters after them.
func maskedTail(s string, end int) int {
	if end >= len(s) || s[end] != '*' {
		return end
	}
	for end < len(s) && s[end] == '*' {
		end++
	}
	for end < len(s) && (isAlnum(s[end]) || s[end] == '-' || s[end] == '_') {
		end++
	}
	return end
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// RedactURL is a URL as the probe shows it: user info and the values of
// query parameters and the fragment replaced, since they often carry
// credentials (https://user:password@host, ?token=...). It works on the
// text, so a URL too malformed to parse is redacted too.
func RedactURL(raw string) string {
	rest, frag, hasFrag := strings.Cut(raw, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	if i := strings.Index(rest, "//"); i >= 0 {
		authority := rest[i+2:]
		if j := strings.IndexByte(authority, '/'); j >= 0 {
			authority = authority[:j]
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			rest = rest[:i+2] + "redacted@" + rest[i+2+at+1:]
		}
	} else if at := strings.LastIndexByte(rest, '@'); at >= 0 && !strings.Contains(rest[:at], "/") {
		rest = "redacted@" + rest[at+1:] // user:password@host with no scheme
	}
	if hasQuery {
		params := strings.Split(query, "&")
		for i, p := range params {
			if name, _, ok := strings.Cut(p, "="); ok {
				params[i] = name + "=redacted"
			} else if p != "" {
				params[i] = "redacted"
			}
		}
		rest += "?" + strings.Join(params, "&")
	}
	if hasFrag && frag != "" {
		rest += "#redacted"
	}
	return rest
}

// URLSecrets returns what RedactURL hides in raw (user name, password,
// query and fragment values), to scrub from errors that quote the URL.
func URLSecrets(raw string) []Secret {
	var out []Secret
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if u.User != nil {
		out = append(out, Secret(u.User.Username()))
		if p, ok := u.User.Password(); ok {
			out = append(out, Secret(p))
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			out = append(out, Secret(v))
		}
	}
	if u.Fragment != "" {
		out = append(out, Secret(u.Fragment))
	}
	return out
}
