package probe

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// Pages that CDNs, portals and proxies write carry whatever they like: the
// client's IP address (Cloudflare's block pages), a user name, a ticket
// number. The probe reads them for evidence and keeps at most their title
// or error code, with addresses masked.

// htmlMarks are tags only HTML has; any of them anywhere in a body that is
// not JSON makes it a page, whatever comes before it (a byte-order mark,
// a line of text, a proxy's banner).
var htmlMarks = [][]byte{
	[]byte("<!doctype html"), []byte("<html"), []byte("<head"), []byte("<body"), []byte("<title"), []byte("<meta "),
	[]byte("<script"), []byte("<iframe"), []byte("<div"), []byte("<center>"), []byte("<h1"), []byte("<p>"), []byte("<br"),
}

// byteOrderMarks of UTF-8, UTF-16 and UTF-32.
var byteOrderMarks = [][]byte{{0xef, 0xbb, 0xbf}, {0x00, 0x00, 0xfe, 0xff}, {0xff, 0xfe, 0x00, 0x00}, {0xfe, 0xff}, {0xff, 0xfe}}

// pageBody returns body without a byte-order mark, NUL bytes (UTF-16 or
// UTF-32 text read as bytes) and surrounding space.
func pageBody(body []byte) []byte {
	for _, bom := range byteOrderMarks {
		if bytes.HasPrefix(body, bom) {
			body = body[len(bom):]
			break
		}
	}
	if bytes.IndexByte(body, 0) >= 0 {
		body = bytes.ReplaceAll(body, []byte{0}, nil)
	}
	return bytes.TrimSpace(body)
}

// looksHTML reports an HTML body: by its content type, or by its content
// wherever the markup starts. A body that is JSON is never HTML, even when
// a string in it quotes markup.
func looksHTML(h http.Header, body []byte) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	if strings.Contains(ct, "text/html") || strings.Contains(ct, "xhtml") {
		return true
	}
	b := pageBody(body)
	if len(b) == 0 || json.Valid(b) {
		return false
	}
	lower := bytes.ToLower(b)
	for _, m := range htmlMarks {
		if bytes.Contains(lower, m) {
			return true
		}
	}
	return false
}

// bodySummary is a printable one-line hint of a body that is not JSON: a
// page's title, never its text; for plain text its first line. Addresses
// are masked either way.
func bodySummary(h http.Header, body []byte) string {
	b := pageBody(body)
	if len(b) == 0 {
		return "empty body"
	}
	if m := reTitle.FindSubmatch(b); m != nil {
		return "page titled " + pageText(string(m[1]))
	}
	if looksHTML(h, body) || b[0] == '<' {
		return "HTML page"
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return pageText(string(line))
}

// maxPageText bounds a title or line kept from a page.
const maxPageText = 120

// pageText is a title or a line of a page as the probe keeps it: one line,
// clipped, IP addresses masked.
func pageText(s string) string {
	return clip(maskAddresses(s), maxPageText)
}

var (
	reIPv4 = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	reIPv6 = regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){5,7}[0-9a-f]{1,4}\b|(?i)(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}\b)?(?::[0-9a-f]{1,4}\b)*`)
)

// maskAddresses replaces IPv4 and IPv6 addresses with a placeholder: a
// block page shows the client's address, which is nobody's business on a
// status page.
func maskAddresses(s string) string {
	s = reIPv4.ReplaceAllString(s, "[address]")
	return reIPv6.ReplaceAllStringFunc(s, func(m string) string {
		if m == "::" || strings.Trim(m, ":") == "" {
			return m
		}
		return "[address]"
	})
}
