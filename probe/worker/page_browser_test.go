package worker_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// -screenshots keeps the browser test's screenshots in a directory of your
// choice (go test ./cmd/llmprobe -run StatusPage -args -screenshots=DIR);
// by default they go to the test's temporary directory.
var screenshotDir = flag.String("screenshots", "", "directory for the status page screenshots (default: a temporary one)")

// statusSchema is the JSON Schema of /api/status (page_schema_test.go).
const statusSchema = "testdata/status.schema.json"

// chromiumPath finds Debian's chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("the status page browser test needs Chromium: install the Debian package chromium (scripts/test.sh does)")
	return ""
}

// browser starts headless Chromium, driven over the DevTools protocol
// (--remote-debugging-port=0), and returns its tab's context. Cleanup closes
// the browser and waits for it to exit. The profile (--user-data-dir) is a
// temporary directory chromedp makes and removes itself: it also ends
// Chromium's leftover child processes, which can still write there after
// the browser exits, so a t.TempDir would sometimes fail its cleanup.
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("remote-debugging-port", "0"), // on 127.0.0.1; chromedp reads the websocket address it prints
		remote.WebSocket,
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser; it runs without a deadline on
	// ctx itself, since a deadline there would end the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// eval runs a JavaScript expression in the page, bounded.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// row is what the page shows for one check.
type row struct {
	State string `json:"state"`
	Text  string `json:"text"`
}

func pageRow(t *testing.T, ctx context.Context, provider, check string) row {
	t.Helper()
	return eval[row](t, ctx, fmt.Sprintf(`(() => {
		const r = document.querySelector('tr[data-provider=%q][data-check=%q]');
		return r ? {state: r.dataset.state, text: r.innerText.replace(/\s+/g, " ")} : {state: "", text: ""};
	})()`, provider, check))
}

// waitRow polls the page (bounded) until the check's row satisfies ok.
func waitRow(t *testing.T, ctx context.Context, what, provider, check string, ok func(row) bool) row {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for {
		r := pageRow(t, ctx, provider, check)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %s/%s row shows %+v", what, provider, check, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func emulate(t *testing.T, ctx context.Context, scheme string, deficiency emulation.SetEmulatedVisionDeficiencyType) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedVisionDeficiency, emulation.SetEmulatedVisionDeficiencyParams{Type: deficiency}); err != nil {
		t.Fatal(err)
	}
}

// TestStatusPageInChromiumFollowsAnEdgeOutage runs a real worker against
// providertest fakes, opens its status page in headless Chromium, breaks
// OpenAI's Cloudflare edge and mends it, and reads each change off the page
// after the page's own refresh: the test never reloads it.
func TestStatusPageInChromiumFollowsAnEdgeOutage(t *testing.T) {
	bin := chromiumPath(t)
	cf := providertest.NewServer(providertest.Options{APIKey: fakeKey})
	defer cf.Close()
	gfe := providertest.NewServer(providertest.Options{APIKey: fakeKey, Edge: providertest.EdgeGoogle})
	defer gfe.Close()
	w := startWorker(t, map[string]string{
		// A generous timeout: under -race and a loaded CI machine a tight one
		// turns healthy loopback probes into ttfb_timeout. No fake stalls, so
		// the timeout never shapes a verdict; the interval paces the test.
		"LLMPROBE_REGION": "eu-west", "LLMPROBE_INTERVAL": "2s", "LLMPROBE_TIMEOUT": "2s",
		"LLMPROBE_PROVIDERS":          "openai,anthropic,gemini",
		"LLMPROBE_OPENAI_BASE_URL":    cf.BaseURL("openai"),
		"LLMPROBE_ANTHROPIC_BASE_URL": cf.BaseURL("anthropic"),
		"LLMPROBE_GEMINI_BASE_URL":    gfe.BaseURL("gemini"),
		"OPENAI_API_KEY":              fakeKey, "ANTHROPIC_API_KEY": fakeKey, "GEMINI_API_KEY": fakeKey,
	})
	testkit.Eventually(t, "/readyz", func() bool { code, _ := testkit.Get(t, w.url+"/readyz"); return code == 200 })

	ctx := browser(t, bin)
	shots := *screenshotDir
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	nav, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(nav, chromedp.Navigate(w.url+"/?refresh=1")); err != nil {
		t.Fatalf("open the status page: %v", err)
	}
	for _, c := range []string{"reach", "chat", "stream"} {
		waitRow(t, ctx, "openai "+c+" ok", "openai", c, func(r row) bool {
			return r.State == "success" && strings.Contains(r.Text, "served via Cloudflare")
		})
	}
	if r := pageRow(t, ctx, "gemini", "chat"); r.State != "success" || !strings.Contains(r.Text, "Google Front End") {
		t.Errorf("gemini chat row: %+v", r)
	}
	// A reload or navigation would drop this mark; the page must refresh in place.
	eval[bool](t, ctx, `window.llmprobeTestMark = "same document"; true`)
	screenshot(t, ctx, shots, "1-healthy-light.png")

	cf.Inject("openai", providertest.Fault{Kind: providertest.CF502Unbranded})
	r := waitRow(t, ctx, "openai chat to show the Cloudflare edge failing", "openai", "chat", func(r row) bool {
		return r.State == "edge_error" && strings.Contains(r.Text, "Edge error") && strings.Contains(r.Text, "Cloudflare edge")
	})
	for _, want := range []string{"edge_5xx", "HTTP 502", "gpt-4o-mini"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("openai chat row lacks %q: %s", want, r.Text)
		}
	}
	for _, c := range []struct{ provider, check string }{{"anthropic", "chat"}, {"gemini", "stream"}} {
		if r := pageRow(t, ctx, c.provider, c.check); r.State != "success" {
			t.Errorf("%s/%s should stay ok during OpenAI's edge outage: %+v", c.provider, c.check, r)
		}
	}
	if mark := eval[string](t, ctx, `String(window.llmprobeTestMark)`); mark != "same document" {
		t.Errorf("the page was reloaded (mark %q); it should swap its table in place", mark)
	}
	if title := eval[string](t, ctx, `document.title`); !strings.Contains(title, "failing") {
		t.Errorf("document title %q should count the failing checks", title)
	}
	if refresh := eval[string](t, ctx, `document.getElementById("refresh-state").textContent`); !strings.Contains(refresh, "refreshed") {
		t.Errorf("refresh state %q", refresh)
	}
	screenshot(t, ctx, shots, "2-edge-outage-light.png")
	emulate(t, ctx, "dark", emulation.SetEmulatedVisionDeficiencyTypeNone)
	screenshot(t, ctx, shots, "3-edge-outage-dark.png")
	emulate(t, ctx, "light", emulation.SetEmulatedVisionDeficiencyTypeDeuteranopia)
	screenshot(t, ctx, shots, "4-edge-outage-deuteranopia.png")
	emulate(t, ctx, "", emulation.SetEmulatedVisionDeficiencyTypeNone)

	cf.Clear()
	r = waitRow(t, ctx, "openai chat to recover", "openai", "chat", func(r row) bool { return r.State == "success" })
	if !strings.Contains(r.Text, "edge_5xx") {
		t.Errorf("after recovery the row should still name the last error: %s", r.Text)
	}
	if html := eval[string](t, ctx, `document.documentElement.outerHTML`); strings.Contains(html, fakeKey) {
		t.Errorf("the page shows the API key")
	}

	// /api/status, the same report, matches its schema.
	_, body := testkit.Get(t, w.url+"/api/status")
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(statusSchema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("/api/status does not match %s: %v", statusSchema, err)
	}

	// With the worker gone the page keeps its last table and says it is stale.
	if err := w.stop(t); err != nil {
		t.Fatalf("stop worker: %v", err)
	}
	deadline := time.Now().Add(time.Minute) // only catches a hang
	for eval[string](t, ctx, `document.getElementById("refresh-state").className`) != "refresh stale" {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not report the failed refresh")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := pageRow(t, ctx, "openai", "chat"); r.State != "success" {
		t.Errorf("a failed refresh should keep the last table: %+v", r)
	}
}
