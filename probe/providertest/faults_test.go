package providertest

import (
	"net/http"
	"testing"
	"time"
)

func TestEveryFaultKindRoundTripsThroughParseFault(t *testing.T) {
	seen := map[FaultKind]bool{}
	for _, k := range FaultKinds {
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		got, err := ParseFault(k.String())
		if err != nil || got != k {
			t.Errorf("ParseFault(%q) = %q, %v", k.String(), got, err)
		}
		if k.Description() == "" || !k.Valid() {
			t.Errorf("%s has no description", k)
		}
	}
	for _, s := range []string{"", "none", "healthy", " Healthy "} {
		if got, err := ParseFault(s); err != nil || got != Healthy {
			t.Errorf("ParseFault(%q) = %q, %v; want Healthy", s, got, err)
		}
	}
	if _, err := ParseFault("cf_599"); err == nil {
		t.Error("ParseFault accepted an unknown kind")
	}
	if Healthy.String() != "healthy" {
		t.Errorf("Healthy.String() = %q", Healthy.String())
	}
}

func TestEveryCloudflarePageKindHasItsTableEntry(t *testing.T) {
	pages := 0
	for _, k := range FaultKinds {
		if _, ok := cfErrors[k]; ok {
			pages++
		}
	}
	if pages != len(cfErrors) {
		t.Errorf("%d cfErrors entries are not fault kinds", len(cfErrors)-pages)
	}
}

func TestParseEdgeAndFormat(t *testing.T) {
	for in, want := range map[string]Edge{"": EdgeCloudflare, "Cloudflare": EdgeCloudflare, "google": EdgeGoogle, "none": EdgeNone} {
		if got, err := ParseEdge(in); err != nil || got != want {
			t.Errorf("ParseEdge(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseEdge("akamai"); err == nil {
		t.Error("ParseEdge accepted akamai")
	}
	for in, want := range map[string]Format{"": FormatAuto, "auto": FormatAuto, "HTML": FormatHTML, "json": FormatJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("markdown"); err == nil {
		t.Error("ParseFormat accepted markdown")
	}
}

func TestFaultStringShowsDelayAndFormat(t *testing.T) {
	if got := (Fault{Kind: CF522, Delay: 200 * time.Millisecond, Format: FormatJSON}).String(); got != "cf_522+200ms/json" {
		t.Errorf("got %q", got)
	}
}

func TestProblemTypeNegotiatesLikeCloudflare(t *testing.T) {
	cases := []struct {
		accept string
		format Format
		want   string
	}{
		{"application/json", FormatAuto, "application/json"},
		{"application/problem+json", FormatAuto, "application/problem+json"},
		{"application/json, text/markdown;q=0.9", FormatAuto, "application/json"},
		{"text/markdown, application/json", FormatAuto, ""}, // equal q: the first listed (Markdown, served as HTML here)
		{"*/*", FormatAuto, ""},
		{"", FormatAuto, ""},
		{"application/json;q=0", FormatAuto, ""},
		{"application/json", FormatHTML, ""},
		{"text/html", FormatJSON, "application/json"},
		{"application/problem+json", FormatJSON, "application/problem+json"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		if c.accept != "" {
			r.Header.Set("Accept", c.accept)
		}
		if got := problemType(r, c.format); got != c.want {
			t.Errorf("Accept %q format %q: %q, want %q", c.accept, c.format, got, c.want)
		}
	}
}

func TestRulesAreReadNewestFirstAndConsumed(t *testing.T) {
	now := time.Unix(0, 0)
	s := &Server{opts: Options{Now: func() time.Time { return now }}}
	s.Inject("", Fault{Kind: CF500})
	s.InjectN("openai", Fault{Kind: Origin503}, 1)
	s.InjectFor("gemini", Fault{Kind: GFE502}, time.Minute)
	s.InjectN("", Fault{Kind: TLSHandshakeFailure}, 1)
	steps := []struct {
		provider string
		want     FaultKind
		tlsDue   bool
	}{
		{"openai", Origin503, true},
		{"openai", CF500, true},
		{"gemini", GFE502, true},
		{"anthropic", CF500, true},
	}
	for i, st := range steps {
		f, tlsDue := s.match(st.provider, ScopeAll)
		if f.Kind != st.want || tlsDue != st.tlsDue {
			t.Errorf("step %d %s: %s tls=%v, want %s tls=%v", i, st.provider, f.Kind, tlsDue, st.want, st.tlsDue)
		}
	}
	if f, ok := s.matchHandshake(); !ok || f.Kind != TLSHandshakeFailure {
		t.Error("the handshake rule did not match")
	}
	if _, ok := s.matchHandshake(); ok {
		t.Error("an InjectN(1) handshake rule matched twice")
	}
	now = now.Add(time.Minute)
	if f, _ := s.match("gemini", ScopeAll); f.Kind != CF500 {
		t.Errorf("after the window gemini got %s, want the edge-wide rule", f.Kind)
	}
}
