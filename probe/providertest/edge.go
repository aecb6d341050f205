package providertest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
)

// Edge names the CDN or front end the fake edge imitates.
type Edge string

const (
	// EdgeCloudflare stamps server: cloudflare, cf-ray and cf-cache-status:
	// DYNAMIC on every response, origin ones included, as Cloudflare does
	// for api.openai.com and api.anthropic.com: those headers show who
	// carried a response, not who failed.
	EdgeCloudflare Edge = "cloudflare"
	// EdgeGoogle adds what Google Front End adds (alt-svc); Gemini's origin
	// keeps its "server: scaffolding on HTTPServer2".
	EdgeGoogle Edge = "google"
	// EdgeNone adds no CDN header: the origin answers directly.
	EdgeNone Edge = "none"
)

// ParseEdge turns "cloudflare", "google" or "none" ("" = cloudflare) into an
// Edge.
func ParseEdge(s string) (Edge, error) {
	switch e := Edge(strings.ToLower(strings.TrimSpace(s))); e {
	case "":
		return EdgeCloudflare, nil
	case EdgeCloudflare, EdgeGoogle, EdgeNone:
		return e, nil
	}
	return "", fmt.Errorf("providertest: unknown edge %q (want cloudflare, google or none)", s)
}

// gfeAltSvc is the alt-svc Google Front End sends on googleapis.com.
const gfeAltSvc = `h3=":443"; ma=2592000,h3-29=":443"; ma=2592000`

// newRay returns a Cloudflare Ray ID: 16 lower-case hex digits. The cf-ray
// header appends "-POP"; pages and problem JSON show the bare ID.
func newRay() string {
	return fmt.Sprintf("%016x", rand.Uint64())
}

// stampEdge adds the configured edge's headers to a response the edge
// carried but did not write (origin answers, relayed pages).
func (s *Server) stampEdge(h http.Header, ray string) {
	switch s.opts.Edge {
	case EdgeCloudflare:
		s.stampCloudflare(h, ray)
	case EdgeGoogle:
		h.Set("Alt-Svc", gfeAltSvc)
	}
}

// stampCloudflare sets what Cloudflare puts on every response it serves.
// Cloudflare replaces the origin's Server header.
func (s *Server) stampCloudflare(h http.Header, ray string) {
	h.Set("Server", "cloudflare")
	h.Set("Cf-Ray", ray+"-"+s.opts.POP)
	h.Set("Cf-Cache-Status", "DYNAMIC")
}

// popCity names the Cloudflare box of a branded error page, which shows the
// data centre's city. Unknown POPs show the code itself.
var popCity = map[string]string{
	"AMS": "Amsterdam", "ATL": "Atlanta", "CDG": "Paris", "DFW": "Dallas",
	"EWR": "Newark", "FRA": "Frankfurt", "HKG": "Hong Kong", "IAD": "Ashburn",
	"LAX": "Los Angeles", "LHR": "London", "MAD": "Madrid", "NRT": "Tokyo",
	"ORD": "Chicago", "SEA": "Seattle", "SFO": "San Francisco", "SIN": "Singapore",
	"SJC": "San Jose", "SYD": "Sydney", "WAW": "Warsaw", "ZRH": "Zurich",
}

func (s *Server) popName() string {
	if c, ok := popCity[s.opts.POP]; ok {
		return c
	}
	return s.opts.POP
}
