package probe

import (
	"net/http"
	"strings"
	"testing"
)

func TestLooksHTMLByContentWhereverTheMarkupStarts(t *testing.T) {
	plain := http.Header{"Content-Type": {"text/plain"}}
	looks := func(body string) bool { return looksHTML(plain, []byte(body)) }
	expectEach(t, "looksHTML", looks, map[string]bool{
		"\xef\xbb\xbf<!DOCTYPE html><html><body>blocked</body></html>":    true,  // a byte-order mark first
		"Client 203.0.113.77 is not allowed\n<html><body>x</body></html>": true,  // text before <html>
		"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00":                          true,  // UTF-16
		`{"error":{"message":"<html> is not JSON"}}`:                      false, // JSON that quotes markup
		"upstream connect error or disconnect/reset before headers":       false,
		"": false,
	})
}

func TestBodySummaryKeepsATitleOrALineWithoutAddresses(t *testing.T) {
	summary := func(body string) string { return bodySummary(nil, []byte(body)) }
	expectEach(t, "bodySummary", summary, map[string]string{
		"<html><head><title>Blocked 203.0.113.77</title></head><body>Your IP 203.0.113.77</body></html>": "page titled Blocked [address]",
		"\xef\xbb\xbf<!DOCTYPE html><html><body><p>Your IP: 2001:db8::77</p></body></html>":              "HTML page",
		"Client 2001:db8:0:0:0:0:0:77 denied\nmore":                                                      "Client [address] denied",
		"upstream connect error or disconnect/reset before headers. reset reason: connection failure":    "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
		"  ": "empty body",
	})
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
