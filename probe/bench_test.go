package probe_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// benchKey is the key the benchmark's fake accepts.
const benchKey = "sk-bench-3f9a-NEVER-SHOWN"

// benchObservations are typical verdicts: a success, an origin JSON error,
// a branded Cloudflare page and a problem JSON.
var benchObservations = []probe.Observation{
	{API: probe.APIOpenAI, Kind: probe.KindChat, Keyed: true, StatusCode: 200,
		Header: http.Header{"Content-Type": {"application/json"}, "Cf-Ray": {"91994230fac4fd45-NRT"}, "Server": {"cloudflare"}, "X-Request-Id": {"req_1"}},
		Body:   []byte(`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1}}`)},
	{API: probe.APIAnthropic, Kind: probe.KindChat, Keyed: true, StatusCode: 529,
		Header: http.Header{"Content-Type": {"application/json"}, "Request-Id": {"req_01"}, "Server": {"cloudflare"}},
		Body:   []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)},
	{API: probe.APIOpenAI, Kind: probe.KindChat, Keyed: true, StatusCode: 520,
		Header: http.Header{"Content-Type": {"text/html"}, "Server": {"cloudflare"}, "Cf-Ray": {"7b8af41e7b02b3f8-FRA"}},
		Body:   []byte(`<!DOCTYPE html><html><head><title>api.openai.com | 520: Web server is returning an unknown error</title><link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" /></head><body><div id="cf-wrapper"><div id="cf-error-details"><span class="code-label">Error code 520</span><div id="cf-host-status"><span class="cf-status-label">Error</span></div>Cloudflare Ray ID: <strong>7b8af41e7b02b3f8</strong></div></div></body></html>`)},
	{API: probe.APIOpenAI, Kind: probe.KindChat, Keyed: true, StatusCode: 502,
		Header: http.Header{"Content-Type": {"application/problem+json"}, "Server": {"cloudflare"}},
		Body:   []byte(`{"type":"https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/error-502/","title":"Error 502","status":502,"error_code":502,"error_category":"origin","ray_id":"9a0b7c6d5e4f3a21"}`)},
}

func BenchmarkClassify(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		probe.Classify(benchObservations[i%len(benchObservations)])
	}
}

// BenchmarkProbe is one whole chat probe against a loopback fake: a fresh
// TCP connection, the request, the response and its classification.
func BenchmarkProbe(b *testing.B) {
	for _, tc := range []struct {
		name string
		tls  bool
		kind probe.Kind
	}{{"http/chat", false, probe.KindChat}, {"http/stream", false, probe.KindStream}, {"https/chat", true, probe.KindChat}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := providertest.Options{APIKey: benchKey}
			srv := providertest.NewServer(opts)
			if tc.tls {
				srv.Close()
				srv = providertest.NewTLSServer(opts)
			}
			defer srv.Close()
			p, _ := probe.LookupProvider("openai")
			c := probe.Check{Provider: p, Kind: tc.kind, Model: p.DefaultModel, BaseURL: srv.BaseURL("openai"), APIKey: benchKey, Region: "bench"}
			prober := &probe.Prober{}
			if tc.tls {
				prober.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			}
			b.ReportAllocs()
			for b.Loop() {
				if r := prober.Probe(context.Background(), c); r.Outcome != probe.OutcomeSuccess {
					b.Fatalf("%s/%s: %s", r.Outcome, r.Reason, r.Error)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "probes/s")
		})
	}
}
