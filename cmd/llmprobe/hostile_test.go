package main

import (
	"strings"
	"testing"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// TestCheckAgainstHostileProviders runs the built binary against every
// hostile endpoint providertest has: whatever it answers (a 101, endless
// 1xx, a body or stream that never ends, echoed keys, pages with the
// client's address), `check` ends by its timeout, exits 1 or 0, and prints
// no part of the key and none of the page's text, in text and in JSON.
func TestCheckAgainstHostileProviders(t *testing.T) {
	const key = "GwK7c1a9e3b5d7f9a2c4e6b8d0f1a3c5e7b9" // a gateway's: only scrubbing by the key finds it
	for _, h := range providertest.Hostiles {
		for _, output := range []string{"json", "text"} {
			t.Run(string(h)+"/"+output, func(t *testing.T) {
				srv := providertest.NewHostileServer(h)
				defer srv.Close()
				kind := "chat"
				if h == providertest.EchoStream || h == providertest.EndlessStream {
					kind = "stream"
				}
				env := []string{"LLMPROBE_CUSTOM_PROVIDERS=gateway", "LLMPROBE_GATEWAY_MODEL=m-1", "GATEWAY_API_KEY=" + key}
				// Several of these end only at the timeout: 3s, long enough
				// that connect and the request always come first.
				stdout, stderr, code := runBinary(t, env, "check", "--provider", "gateway", "--check", kind, "--base-url", srv.URL(),
					"--timeout", "3s", "--output", output)
				out := stdout + stderr
				wantCode := 1
				if h == providertest.NegativeTokens || h == providertest.EchoReply {
					wantCode = 0 // a valid reply, usage not counted / the key scrubbed from the answer
				}
				if code != wantCode {
					t.Errorf("exit %d, want %d:\n%s", code, wantCode, out)
				}
				for i := 0; i+probe.ScrubRun <= len(key); i++ {
					if strings.Contains(out, key[i:i+probe.ScrubRun]) {
						t.Fatalf("the output holds %q of the key:\n%s", key[i:i+probe.ScrubRun], out)
					}
				}
				if strings.Contains(out, providertest.ClientAddressText) {
					t.Fatalf("the output keeps the client's address:\n%s", out)
				}
			})
		}
	}
}
