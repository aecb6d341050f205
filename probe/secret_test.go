package probe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// gatewayKey is a custom gateway's key: no provider prefix, so only the
// key itself (not its shape) can find it.
const gatewayKey = Secret("GwK7c1a9e3b5d7f9a2c4e6b8d0f1a3c5e7b9") // 36 characters

func TestScrubRemovesEveryLongEnoughPartOfAKey(t *testing.T) {
	k := string(gatewayKey)
	tests := []struct{ name, in string }{
		{"the whole key", "denied for " + k + " today"},
		{"35 of its 36 characters, cut at a clip", "denied for " + k[:35] + "…"},
		{"its last characters, the start cut off", "…" + k[20:] + " rejected"},
		{"split by a line break that a clip turns into a space", "key " + k[:18] + "\n" + k[18:]},
		{"inside a longer word", "token=" + k + "&next=1"},
		{"twice, overlapping fragments", k[:12] + k[6:30]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub(tt.in, gatewayKey)
			if run := secretRun(got, k); run != "" {
				t.Fatalf("Scrub(%q) = %q still holds %q of the key", tt.in, got, run)
			}
			if !strings.Contains(got, redacted) {
				t.Errorf("Scrub(%q) = %q shows no placeholder where the key was", tt.in, got)
			}
		})
	}
	// Text that shares fewer than ScrubRun characters with the key stays.
	if in := "GwK7c1a is a prefix of seven"; Scrub(in, gatewayKey) != in {
		t.Errorf("Scrub(%q) = %q: a run shorter than %d characters is not the key", in, Scrub(in, gatewayKey), ScrubRun)
	}
}

func TestScrubKeepsTextValidUTF8(t *testing.T) {
	key := Secret("ключ-секрет-😀-12345")
	in := "x" + string(key)[2:] + "ü"
	got := Scrub(in, key)
	if !utf8.ValidString(got) || strings.Contains(got, "секрет") {
		t.Fatalf("Scrub(%q) = %q: want valid UTF-8 without the key", in, got)
	}
}

func TestScrubbedIDsAreKeptWholeOrNotAtAll(t *testing.T) {
	sc := newScrubber([]Secret{gatewayKey})
	for in, want := range map[string]string{
		"req_1cd77762e8da2615da2e76e35b64c469": "req_1cd77762e8da2615da2e76e35b64c469",
		string(gatewayKey):                     "",
		"req-" + string(gatewayKey)[3:15]:      "",
		"sk-proj-0123456789abcdef":             "", // key-shaped, whoever's it is
	} {
		if got := sc.id(in); got != want {
			t.Errorf("id(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckKeyRefusesKeysTooShortToScrub(t *testing.T) {
	for key, ok := range map[Secret]bool{"": true, "abc": false, "demo-ke": false, "demo-key": true, gatewayKey: true, "bad\xffkey-0000": false} {
		err := CheckKey("GATEWAY_API_KEY", key)
		if (err == nil) != ok {
			t.Errorf("CheckKey(%d characters) = %v, want ok=%v", len(key), err, ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "GATEWAY_API_KEY: ") {
			t.Errorf("error %q does not lead with the variable", err)
		}
		if err != nil && strings.Contains(err.Error(), string(key)) {
			t.Errorf("error %q shows the key", err)
		}
	}
}

// secretRun returns a run of ScrubRun characters of key found in s, or "".
func secretRun(s, key string) string {
	for i := 0; i+ScrubRun <= len(key); i++ {
		if strings.Contains(s, key[i:i+ScrubRun]) {
			return key[i : i+ScrubRun]
		}
	}
	return ""
}

// FuzzScrub: whatever the text and the key, no part of the output outside
// the placeholders holds ScrubRun characters of the key, and the output is
// valid UTF-8 when the input was.
func FuzzScrub(f *testing.F) {
	f.Add("denied for GwK7c1a9e3b5d7f9a2c4e6b8d0f1a3c5e7b9 today", string(gatewayKey))
	f.Add("sk-proj-****abcd. See docs", "sk-proj-abcdef123456")
	f.Add("aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaa")
	f.Add("ключ-секрет-😀", "секрет-😀-1")
	f.Fuzz(func(t *testing.T, s, key string) {
		if len(key) < ScrubRun {
			return
		}
		got := Scrub(s, Secret(key))
		for _, piece := range strings.Split(got, redacted) {
			if run := secretRun(piece, key); run != "" {
				t.Fatalf("Scrub(%q, %q) = %q holds %q", s, key, got, run)
			}
		}
		if utf8.ValidString(s) && utf8.ValidString(key) && !utf8.ValidString(got) {
			t.Fatalf("Scrub(%q, %q) = %q is not valid UTF-8", s, key, got)
		}
	})
}
