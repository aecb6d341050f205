package probe

import (
	"net/http"
	"strings"
	"testing"
)

func TestLooksHTMLByContentWhereverTheMarkupStarts(t *testing.T) {
	plain := http.Header{"Content-Type": {"text/plain"}}
	for body, want := range map[string]bool{
		"\xef\xbb\xbf<!DOCTYPE html><html><body>blocked</body></html>":    true,  // a byte-order mark first
		"Client 203.0.113.77 is not allowed\n<html><body>x</body></html>": true,  // text before <html>
		"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00":                          true,  // UTF-16
		`{"error":{"message":"<html> is not JSON"}}`:                      false, // JSON that quotes markup
		"upstream connect error or disconnect/reset before headers":       false,
		"": false,
	} {
		if got := looksHTML(plain, []byte(body)); got != want {
			t.Errorf("looksHTML(%q) = %v, want %v", body, got, want)
		}
	}
}

func TestBodySummaryKeepsATitleOrALineWithoutAddresses(t *testing.T) {
	for body, want := range map[string]string{
		"<html><head><title>Blocked 203.0.113.77</title></head><body>Your IP 203.0.113.77</body></html>": "page titled Blocked [address]",
		"\xef\xbb\xbf<!DOCTYPE html><html><body><p>Your IP: 2001:db8::77</p></body></html>":              "HTML page",
		"Client 2001:db8:0:0:0:0:0:77 denied\nmore":                                                      "Client [address] denied",
		"upstream connect error or disconnect/reset before headers. reset reason: connection failure":    "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
		"  ": "empty body",
	} {
		if got := bodySummary(nil, []byte(body)); got != want {
			t.Errorf("bodySummary(%q) = %q, want %q", body, got, want)
		}
	}
	if got := maskAddresses("at 12:30:45 on std::vector"); got != "at 12:30:45 on std::vector" {
		t.Errorf("maskAddresses masks what is no address: %q", got)
	}
}

func TestACloudflarePlainErrorKeepsOnlyItsCode(t *testing.T) {
	v := Classify(Observation{Provider: "openai", API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 403,
		Header: http.Header{"Server": {"cloudflare"}}, Body: []byte("error code: 1020 (your address 203.0.113.77 is blocked)")})
	if v.Reason != ReasonEdgeBlocked || strings.Contains(v.Message, "203.0.113") || !strings.Contains(v.Message, "error code 1020") {
		t.Fatalf("got %s/%s %q", v.Outcome, v.Reason, v.Message)
	}
}
