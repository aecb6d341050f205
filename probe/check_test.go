package probe

import "testing"

func TestScrubRemovesKeysButNotWords(t *testing.T) {
	const key = Secret("sk-proj-abcdef123456")
	tests := []struct{ in, want string }{
		{"Incorrect API key provided: sk-proj-abcdef123456.", "Incorrect API key provided: [redacted]."},
		{"Incorrect API key provided: sk-proj-****abcd. See docs", "Incorrect API key provided: [redacted]. See docs"},
		{"bad key gsk_0123456789abcdef and AIzaSyA-0123456789abcdef", "bad key [redacted] and [redacted]"},
		{"key xai-**********yy rejected", "key [redacted] rejected"},
		{"skipping the skeleton task; asked for sketches", "skipping the skeleton task; asked for sketches"},
		{"the key abcdef sk-proj-abcdef123456 leaked", "the key abcdef [redacted] leaked"},
	}
	for _, tt := range tests {
		if got := Scrub(tt.in, key); got != tt.want {
			t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if s := key.String(); s != redacted {
		t.Errorf("String() = %q", s)
	}
	if b, _ := key.MarshalJSON(); string(b) != `"[redacted]"` {
		t.Errorf("MarshalJSON() = %s", b)
	}
}
