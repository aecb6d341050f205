// The worker's status page: one server-rendered HTML page
// (html/template, CSS and JavaScript embedded with go:embed and inlined, so
// it works offline and from a saved copy) built from the same
// StatusReport that /api/status serves.
//
// The page shows one row per provider and check: the state now and which
// layer failed in plain words, the reason with its documented meaning,
// availability over the last hour and day split by outcome, p50/p95 TTFB,
// the last error and when, and a strip of recent results. Every outcome has
// an Okabe–Ito colour and also a letter or symbol, so nothing is told by
// colour alone. A small script re-fetches the live part (/?fragment=live)
// every few seconds and swaps it in place; without JavaScript the page
// reloads itself every 30 s.

package worker

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
)

var (
	//go:embed assets/page.html.tmpl
	pageTemplate string
	//go:embed assets/style.css
	styleSheet string
	//go:embed assets/refresh.js
	refreshJS string
)

// FragmentParam is the query parameter that asks for the live part of the
// page only: /?fragment=live. The page's script fetches it to refresh.
const (
	FragmentParam = "fragment"
	FragmentLive  = "live"
)

var (
	// styleCSS is the page's whole style: the outcome colours from
	// probe.Outcome.Style, then the style sheet that uses them.
	styleCSS = outcomeColors() + styleSheet
	tmpl     = template.Must(template.New("page").Parse(pageTemplate))
	// csp allows exactly the inlined style and script (by hash), fetches to
	// this origin, and nothing else: no external resources, no other script.
	csp = "default-src 'none'; style-src '" + hash(styleCSS) + "'; script-src '" + hash(refreshJS) +
		"'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// PageHandler serves the status page for status at "/" (mount it on
// "GET /{$}" or "/"): the whole page, or with ?fragment=live only the part
// that changes. Other paths answer 404, methods other than GET and HEAD 405.
func PageHandler(status *StatusStore) http.Handler {
	return handler{report: status.Report}
}

type handler struct {
	report func() StatusReport
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := "page"
	switch f := r.URL.Query().Get(FragmentParam); f {
	case "":
	case FragmentLive:
		name = "live"
	default:
		http.Error(w, "unknown fragment (want "+FragmentParam+"="+FragmentLive+")", http.StatusBadRequest)
		return
	}
	v := newView(h.report())
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		http.Error(w, "render status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(buf.Bytes())
}
