package worker

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/llmprobe/llmprobe/probe"
)

// serve runs the handler over s and returns the response and its body.
func serve(t *testing.T, s *StatusStore, method, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	PageHandler(s).ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	res := rec.Result()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// find returns every element below n for which match holds, in order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

// text is the element's text with runs of white space folded.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkRow returns the table row of one check.
func checkRow(t *testing.T, doc *html.Node, provider, kind string) *html.Node {
	t.Helper()
	rows := find(doc, func(n *html.Node) bool {
		return n.Data == "tr" && attr(n, "data-provider") == provider && attr(n, "data-check") == kind
	})
	if len(rows) != 1 {
		t.Fatalf("%d rows for %s/%s, want 1", len(rows), provider, kind)
	}
	return rows[0]
}

func TestPageShowsEachCheckWithWhoFailedWhyAndHowOften(t *testing.T) {
	res, body := serve(t, fixtureStore(t), http.MethodGet, "/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := parse(t, body)
	for _, tt := range []struct {
		name           string
		provider, kind string
		state          string
		want           []string // in the row's text
		reason         string   // the reason whose meaning is the tooltip
		cells, letters int      // recent samples, and how many show the state's letter
	}{
		{"a healthy reach check is served via Cloudflare", "openai", "reach", "success",
			[]string{"OK", "served via Cloudflare FRA", "HTTP 401", "100%", "80 ms", "none"}, "ok", 45, 45},
		{"an edge outage names the Cloudflare edge", "openai", "chat", "edge_error",
			[]string{"Edge error", "Cloudflare edge", "edge_5xx", "HTTP 502", "88.8%", "1m ago"}, "edge_5xx", 45, 5},
		{"a Cloudflare 520 blames the Anthropic origin, reported by Cloudflare", "anthropic", "chat", "origin_error",
			[]string{"Origin error", "Anthropic origin", "origin_bad_response", "HTTP 520", "reported by Cloudflare", "84.4%"}, "origin_bad_response", 45, 7},
		{"a healthy Gemini check is served via the Google Front End", "gemini", "chat", "success",
			[]string{"OK", "served via Google Front End", "100%"}, "ok", 45, 45},
		{"a refused connection blames the network from this region", "mistral", "reach", "network_error",
			[]string{"Network error", "network from this region (eu-west)", "connect_refused", "no response", "57.7%"}, "connect_refused", 45, 19},
		{"a rejected key blames the probe config, and availability is not judged", "groq", "chat", "probe_error",
			[]string{"Probe error", "probe config", "auth", "n/a"}, "auth", 3, 3},
		{"a check that never ran waits for its first probe", "deepseek", "reach", "pending",
			[]string{"Pending", "waiting for the first probe", "—", "no results yet"}, "", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			row := checkRow(t, doc, tt.provider, tt.kind)
			if got := attr(row, "data-state"); got != tt.state {
				t.Errorf("data-state %q, want %q", got, tt.state)
			}
			txt := text(row)
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("row lacks %q:\n%s", w, txt)
				}
			}
			if tt.reason != "" {
				abbr := find(row, func(n *html.Node) bool { return n.Data == "abbr" })
				if len(abbr) != 1 || text(abbr[0]) != tt.reason || attr(abbr[0], "title") != meanings[probe.Reason(tt.reason)] || attr(abbr[0], "title") == "" {
					t.Errorf("reason %q should carry its meaning as title; got %d abbr", tt.reason, len(abbr))
				}
			}
			cells := find(row, func(n *html.Node) bool { return n.Data == "li" })
			letters := 0
			for _, c := range cells {
				if text(c) == styleOf(probe.Outcome(tt.state)).Symbol && strings.Contains(attr(c, "class"), "o-"+tt.state) {
					letters++
				}
				if attr(c, "title") == "" {
					t.Errorf("recent cell without a title")
				}
			}
			if len(cells) != tt.cells || letters != tt.letters {
				t.Errorf("recent strip has %d cells, %d marked %s; want %d and %d", len(cells), letters, tt.state, tt.cells, tt.letters)
			}
		})
	}
}

func TestPageHeaderShowsRegionReadinessControlsAndStatusPages(t *testing.T) {
	_, body := serve(t, fixtureStore(t), http.MethodGet, "/")
	doc := parse(t, body)
	meta := find(doc, func(n *html.Node) bool { return n.Data == "section" && attr(n, "class") == "meta" })
	if len(meta) != 1 {
		t.Fatalf("%d header sections", len(meta))
	}
	txt := text(meta[0])
	for _, w := range []string{"eu-west", "15:44:00 UTC", "warming up", "1 edge error", "2 origin errors", "1 network error",
		"1 probe error", "2 OK", "1 pending", "cloudflare up", "google down", "OpenAI: Chat Completions: partial outage", "Anthropic: operational"} {
		if !strings.Contains(txt, w) {
			t.Errorf("header lacks %q:\n%s", w, txt)
		}
	}
	titles := find(doc, func(n *html.Node) bool { return n.Data == "title" })
	if len(titles) != 1 || text(titles[0]) != "✕ 5 failing · llmprobe · eu-west" {
		t.Errorf("document title %q", text(titles[0]))
	}
	down := find(meta[0], func(n *html.Node) bool { return strings.Contains(attr(n, "title"), "generate_204") })
	if len(down) != 1 || !strings.Contains(attr(down[0], "title"), "i/o timeout") {
		t.Errorf("the failed control target should name its URL and error in its title")
	}
}

func TestFragmentIsTheLivePartOnly(t *testing.T) {
	s := fixtureStore(t)
	res, body := serve(t, s, http.MethodGet, "/?fragment=live")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if !strings.HasPrefix(body, `<div class="snapshot"`) || strings.Contains(body, "<html") || strings.Contains(body, "<script") || strings.Contains(body, "<style") {
		t.Errorf("fragment is not just the live part:\n%.300s", body)
	}
	doc := parse(t, body)
	if got := attr(checkRow(t, doc, "openai", "chat"), "data-state"); got != "edge_error" {
		t.Errorf("fragment openai/chat state %q", got)
	}
	snap := find(doc, func(n *html.Node) bool { return attr(n, "class") == "snapshot" })
	if len(snap) != 1 || attr(snap[0], "data-title") == "" || attr(snap[0], "data-generated") != "2026-04-20T15:44:00.000Z" {
		t.Errorf("snapshot should carry the document title and generation time")
	}
	// The full page embeds the same fragment.
	_, page := serve(t, s, http.MethodGet, "/")
	if !strings.Contains(page, `<main id="live">`+body+`</main>`) {
		t.Errorf("the page's live part differs from the fragment")
	}
}

func TestHandlerRefusesOtherPathsMethodsAndFragments(t *testing.T) {
	s := fixtureStore(t)
	for _, tt := range []struct {
		name, method, target string
		want                 int
	}{
		{"an unknown fragment is a bad request", http.MethodGet, "/?fragment=rows", http.StatusBadRequest},
		{"POST is not allowed", http.MethodPost, "/", http.StatusMethodNotAllowed},
		{"another path is not found", http.MethodGet, "/style.css", http.StatusNotFound},
		{"HEAD is served", http.MethodHead, "/", http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if res, _ := serve(t, s, tt.method, tt.target); res.StatusCode != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.target, res.StatusCode, tt.want)
			}
		})
	}
}

func TestPageEscapesTextAndNeverShowsKeyShapedStrings(t *testing.T) {
	_, body := serve(t, fixtureStore(t), http.MethodGet, "/")
	for _, bad := range []string{"<b>", "<img", "<script>alert", secretLike, "sk-proj-"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	doc := parse(t, body)
	row := checkRow(t, doc, "gw_<b>", "reach")
	if !strings.Contains(text(row), "gw_<b> origin") {
		t.Errorf("escaped provider id should read back as text: %s", text(row))
	}
	// The probe error's message reaches the tooltip scrubbed and escaped.
	last := find(checkRow(t, doc, "groq", "chat"), func(n *html.Node) bool { return strings.Contains(attr(n, "title"), "invalid_api_key") })
	if len(last) != 1 || !strings.Contains(attr(last[0], "title"), "[redacted]") {
		t.Errorf("last error title should hold the scrubbed message")
	}
	if scripts := find(doc, func(n *html.Node) bool { return n.Data == "script" }); len(scripts) != 1 {
		t.Errorf("%d script elements, want only the page's own", len(scripts))
	}
}

func TestContentSecurityPolicyAllowsExactlyTheInlinedStyleAndScript(t *testing.T) {
	res, body := serve(t, fixtureStore(t), http.MethodGet, "/")
	policy := res.Header.Get("Content-Security-Policy")
	doc := parse(t, body)
	for _, el := range []string{"style", "script"} {
		nodes := find(doc, func(n *html.Node) bool { return n.Data == el })
		if len(nodes) != 1 || nodes[0].FirstChild == nil {
			t.Fatalf("want one inline <%s>", el)
		}
		sum := sha256.Sum256([]byte(nodes[0].FirstChild.Data))
		want := el + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	if !strings.Contains(policy, "default-src 'none'") || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", res.Header)
	}
	// The outcome colours are the one table's (probe.Outcome.Style).
	style := find(doc, func(n *html.Node) bool { return n.Data == "style" })[0].FirstChild.Data
	for _, o := range probe.Outcomes {
		for _, want := range []string{"--" + string(o) + ": " + o.Style().Color + ";", "--" + string(o) + ": " + o.Style().ColorDark + ";"} {
			if !strings.Contains(style, want) {
				t.Errorf("the page's style lacks %q", want)
			}
		}
	}
}

func TestEmptyStoreRendersAPageWithNoChecks(t *testing.T) {
	s := NewStatusStore("local", nil, 0, newFakeClockAt(fixtureNow), nil)
	res, body := serve(t, s, http.MethodGet, "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "No checks are configured.") || !strings.Contains(body, "not polled") {
		t.Errorf("empty page: %d\n%s", res.StatusCode, body)
	}
}

func TestWordsAndNumbers(t *testing.T) {
	now := fixtureNow
	for _, tt := range []struct{ name, got, want string }{
		{"a near-perfect ratio is not rounded up to 100%", percent(0.99996), "99.9%"},
		{"a perfect ratio", percent(1), "100%"},
		{"no failures at all", percent(0), "0.0%"},
		{"sub-10 ms keeps a decimal", millis(3.25), "3.2 ms"},
		{"milliseconds", millis(123.4), "123 ms"},
		{"seconds", millis(19250), "19.25 s"},
		{"no data", millis(0), "—"},
		{"seconds ago", ago(now.Add(-12*time.Second), now), "12s ago"},
		{"minutes ago", ago(now.Add(-3*time.Minute-10*time.Second), now), "3m ago"},
		{"hours ago", ago(now.Add(-5*time.Hour), now), "5h ago"},
		{"days ago", ago(now.Add(-72*time.Hour), now), "3d ago"},
		{"never", ago(time.Time{}, now), ""},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestBlameNamesTheLayerInPlainWords(t *testing.T) {
	for _, tt := range []struct {
		name        string
		last        probe.Result
		who, detail string
	}{
		{"an edge error without any CDN blames the front end", probe.Result{Outcome: probe.OutcomeEdgeError, Edge: "none", StatusCode: 200},
			"front end (no CDN seen)", "HTTP 200"},
		{"a Google Front End page names Google", probe.Result{Outcome: probe.OutcomeEdgeError, Edge: "google", StatusCode: 502},
			"Google Front End edge", "HTTP 502"},
		{"an origin JSON error carried by Cloudflare says via", probe.Result{Outcome: probe.OutcomeOriginError, Edge: "cloudflare", AuthoredBy: "origin", StatusCode: 529},
			"OpenAI origin", "HTTP 529 · via Cloudflare"},
		{"a stall names the origin with no response", probe.Result{Outcome: probe.OutcomeOriginError, Edge: "cloudflare", AuthoredBy: "none"},
			"OpenAI origin", "no response · via Cloudflare"},
		{"success without a CDN", probe.Result{Outcome: probe.OutcomeSuccess, Edge: "none", StatusCode: 200},
			"served, no CDN seen", "HTTP 200"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.last
			who, detail := blame(CheckReport{Provider: "openai", Last: &l}, "eu-west")
			if who != tt.who || detail != tt.detail {
				t.Errorf("blame = %q, %q; want %q, %q", who, detail, tt.who, tt.detail)
			}
		})
	}
}
