package providertest

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// This file holds the HTML that edges write. The pages follow the captures
// in the corpus (providers-and-edges.md §1.3, §1.4, §4) closely enough for a
// classifier to learn from them: titles, ids, classes, texts and footers are
// those of the real pages; styling is cut.

// statusBox is one of the three boxes of a branded Cloudflare 5xx page.
func statusBox(id, icon, label, title string, failed bool) string {
	mark, state, source := "cf-icon-ok", `<span class="leading-1.3 text-2xl text-green-success">Working</span>`, ""
	if failed {
		mark, state, source = "cf-icon-error", `<span class="leading-1.3 text-2xl text-red-error">Error</span>`, " cf-error-source"
	}
	return `<div id="` + id + `" class="relative w-1/3 md:w-full py-15 md:p-0 md:py-8 md:text-left md:border-solid md:border-0 md:border-b md:border-gray-400 overflow-hidden float-left md:float-none text-center` + source + `">
  <div class="relative mb-10 md:m-0">
    <span class="` + icon + ` block md:hidden h-20 bg-center bg-no-repeat"></span>
    <span class="` + mark + ` w-12 h-12 absolute left-1/2 md:left-auto md:right-0 md:top-0 -ml-6 -bottom-4"></span>
  </div>
  <span class="md:block w-full truncate">` + label + `</span>
  <h3 class="md:inline-block mt-3 md:mt-0 text-2xl text-gray-600 font-light leading-1.3">` + title + `</h3>
  ` + state + `
</div>
`
}

// cfFooter carries the Ray ID and, as real pages do, the client's IP (the
// reason llmprobe never stores edge HTML).
func (s *Server) cfFooter(x *exchange, code int) string {
	ip, _, err := net.SplitHostPort(x.r.RemoteAddr)
	if err != nil {
		ip = x.r.RemoteAddr
	}
	return `<div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
  <p class="text-13">
    <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">` + x.ray + `</strong></span>
    <span class="cf-footer-separator sm:hidden">&bull;</span>
    <span id="cf-footer-item-ip" class="cf-footer-item hidden sm:block sm:mb-1">Your IP: <button type="button" id="cf-footer-ip-reveal" class="cf-footer-ip-reveal-btn">Click to reveal</button><span class="hidden" id="cf-footer-ip">` + html.EscapeString(ip) + `</span></span>
    <span class="cf-footer-separator sm:hidden">&bull;</span>
    <span class="cf-footer-item sm:block sm:mb-1"><span>Performance &amp; security by</span> <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_` + strconv.Itoa(code) + `" id="brand_link" target="_blank">Cloudflare</a></span>
  </p>
</div>
`
}

// cfBrandedPage is the 2020s Cloudflare 5xx template: title
// "{host} | 52x: ...", cf-wrapper / cf-error-details, and the Browser /
// Cloudflare / Host boxes with Error where Cloudflare puts the fault.
func (s *Server) cfBrandedPage(x *exchange, e cfError) string {
	host := html.EscapeString(hostOnly(x.r.Host))
	code := strconv.Itoa(e.code)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if IE 7]>    <html class="no-js ie7 oldie" lang="en-US"> <![endif]-->
<!--[if IE 8]>    <html class="no-js ie8 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>` + host + ` | ` + code + `: ` + e.title + `</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" />
</head>
<body>
<div id="cf-wrapper">
<div id="cf-error-details" class="p-0">
<header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
  <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
    <span class="inline-block">` + e.title + `</span>
    <span class="code-label">Error code ` + code + `</span>
  </h1>
  <div>
    Visit <a href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_` + code + `&utm_campaign=` + host + `" target="_blank" rel="noopener noreferrer">cloudflare.com</a> for more information.
  </div>
  <div class="mt-3">` + s.now().UTC().Format("2006-01-02 15:04:05 UTC") + `</div>
</header>
<div class="my-8 bg-gradient-gray">
<div class="w-240 lg:w-full mx-auto">
<div class="clearfix md:px-8">
`)
	b.WriteString(statusBox("cf-browser-status", "cf-icon-browser", "You", "Browser", false))
	b.WriteString(statusBox("cf-cloudflare-status", "cf-icon-cloud", html.EscapeString(s.popName()), "Cloudflare", e.blame == "cloudflare"))
	b.WriteString(statusBox("cf-host-status", "cf-icon-server", host, "Host", e.blame == "host"))
	b.WriteString(`</div>
</div>
</div>
<div class="w-240 lg:w-full mx-auto mb-8 lg:px-8">
<div class="clearfix">
  <div class="w-1/2 md:w-full float-left pr-6 md:pb-10 md:pr-0 leading-relaxed">
    <h2 class="text-3xl font-normal leading-1.3 mb-4">What happened?</h2>
    <p>` + e.what + `</p>
  </div>
  <div class="w-1/2 md:w-full float-left leading-relaxed">
    <h2 class="text-3xl font-normal leading-1.3 mb-4">What can I do?</h2>
    <p class="mb-6">` + e.todo + `</p>
  </div>
</div>
</div>
`)
	b.WriteString(s.cfFooter(x, e.code))
	b.WriteString("</div>\n</div>\n</body>\n</html>\n")
	return b.String()
}

// cf1xxxPage is the page of Cloudflare's 1xxx errors (1015, 1020, 1016):
// "Error <code>" in cf-error-code, no status boxes.
func (s *Server) cf1xxxPage(x *exchange, e cfError) string {
	host := html.EscapeString(hostOnly(x.r.Host))
	code := strconv.Itoa(e.code)
	title := host + " | " + code + ": " + e.title
	what := e.what
	switch e.code {
	case 1020:
		title = "Access denied | " + host + " used Cloudflare to restrict access"
		what = "You do not have access to " + host + ". The site owner may have set restrictions that prevent you from accessing the site."
	case 1015:
		what = "The owner of this website (" + host + ") has banned you temporarily from accessing this website."
	}
	return `<!DOCTYPE html>
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>` + title + `</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css" />
</head>
<body>
<div id="cf-wrapper">
<div id="cf-error-details" class="cf-error-details-wrapper">
<div class="cf-wrapper cf-header cf-error-overview">
  <h1><span class="cf-error-type" data-translate="error">Error</span> <span class="cf-error-code">` + code + `</span></h1>
  <h2 class="cf-subheadline" data-translate="error_desc">` + e.title + `</h2>
</div>
<div class="cf-section cf-wrapper">
<div class="cf-columns two">
  <div class="cf-column">
    <h2 data-translate="what_happened">What happened?</h2>
    <p>` + what + `</p>
  </div>
  <div class="cf-column">
    <h2 data-translate="what_can_i_do">What can I do?</h2>
    <p>` + e.todo + `</p>
  </div>
</div>
</div>
` + s.cfFooter(x, e.code) + `</div>
</div>
</body>
</html>
`
}

// challengePage is a managed challenge interstitial: "Just a moment...",
// window._cf_chl_opt and a script under /cdn-cgi/challenge-platform/.
func challengePage(host, ray string) string {
	return `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"><meta http-equiv="refresh" content="390"></head><body class="no-js"><div class="main-wrapper" role="main"><div class="main-content"><noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "` + html.EscapeString(host) + `",cType: 'managed',cRay: '` + ray + `',cH: '` + randFrom(alnum, 43) + `',cITimeS: '1700000000',cTTimeMs: '1000',cMTimeMs: '390000',cTplC: 0,cTplV: 5,cTplB: 'cf',cK: ""};var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=` + ray + `';document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>`
}

// gfeErrors are Google Front End's generic error pages.
var gfeErrors = map[FaultKind]struct {
	status int
	title  string
	text   string
}{
	GFE500: {500, "Server Error", "There was an error. Please try again later."},
	GFE502: {502, "Server Error", "The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds."},
	GFE503: {503, "Service Unavailable", "The service you requested is not available at this time.<p>Please try again in 30 seconds."},
	GFE504: {504, "Gateway Timeout", "The server did not answer in time.<p>Please try again in 30 seconds."},
}

// gfePage is Google's "That’s an error." page. It has no server header
// (no "scaffolding on HTTPServer2"): the Gemini application never saw the
// request. Behind a Cloudflare edge, Cloudflare carries it and stamps its
// headers, as it would for a Google load balancer page behind it.
func (s *Server) gfePage(x *exchange, kind FaultKind) response {
	e := gfeErrors[kind]
	body := fmt.Sprintf(`<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error %d (%s)!!1</title>
  <style>
    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}html{background:#fff;color:#222;padding:15px}body{margin:7%% auto 0;max-width:390px;min-height:180px;padding:30px 0 15px}* > body{background:url(//www.google.com/images/errors/robot.png) 100%% 5px no-repeat;padding-right:205px}p{margin:11px 0 22px;overflow:hidden}ins{color:#777;text-decoration:none}a img{border:0}#logo{display:inline-block;height:54px;width:150px}
  </style>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>%d.</b> <ins>That’s an error.</ins>
  <p>%s  <ins>That’s all we know.</ins>
`, e.status, e.title, e.status, e.text)
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Referrer-Policy", "no-referrer")
	if s.opts.Edge == EdgeCloudflare {
		s.stampCloudflare(h, x.ray)
	} else {
		h.Set("Alt-Svc", gfeAltSvc)
	}
	return response{status: e.status, header: h, body: []byte(body)}
}

// html200 is a login page where the API answers JSON: a captive portal or
// a corporate proxy's sign-in. The configured edge carried it.
func (s *Server) html200(x *exchange) response {
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	s.stampEdge(h, x.ray)
	body := `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to continue</title></head>
<body>
<h1>Network login required</h1>
<p>You must sign in before you can use this network.</p>
<form method="post" action="/login"><label>User <input name="user"></label> <label>Password <input name="password" type="password"></label> <button type="submit">Sign in</button></form>
</body>
</html>
`
	return response{status: http.StatusOK, header: h, body: []byte(body)}
}

// envoy503 is what Anthropic's service mesh answered in the 2025 outages:
// plain text, no request id, relayed untouched by the edge.
func (s *Server) envoy503(x *exchange) response {
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	s.stampEdge(h, x.ray)
	return response{status: http.StatusServiceUnavailable, header: h,
		body: []byte("upstream connect error or disconnect/reset before headers. reset reason: overflow")}
}

// notFoundPlain answers a path outside every provider prefix.
func (s *Server) notFoundPlain(x *exchange) response {
	h := http.Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	s.stampEdge(h, x.ray)
	return response{status: http.StatusNotFound, header: h, body: []byte("404 page not found\n")}
}
