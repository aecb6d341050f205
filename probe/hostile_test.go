package probe

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe/providertest"
)

// The hostile-provider suite: endpoints on 127.0.0.1 that answer the way no
// well-behaved server does (providertest.HostileServer). Whatever they send,
// the probe ends by its timeout, blames the layer DESIGN.md's principle
// names, and reports no secret it holds and no page text.

// Secrets of every kind the probe holds, each of a shape Scrub's patterns
// alone would not find, so only scrubbing by the held secret removes them.
const (
	hostileAPIKey       = "GwK7c1a9e3b5d7f9a2c4e6b8d0f1a3c5e7b9"     // a custom gateway's key
	hostileAWSSecret    = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1" // AWS secret access key: never sent, echoed by a server that knows it
	hostileAWSSession   = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKENabcdef0123456789"
	hostileOAuthToken   = "AQ.Ab8RN6EXAMPLEoauthTOKEN-0123456789abcdef"
	hostileOAuthRefresh = "1//0gEXAMPLErefreshTOKEN-0123456789"
)

// cloudSigner signs as Bedrock or Vertex would: the session token or the
// access token on the request, every secret it holds reported.
type cloudSigner struct{ aws bool }

func (s cloudSigner) Sign(_ context.Context, req *http.Request, _ []byte) ([]Secret, error) {
	if s.aws {
		req.Header.Set("X-Amz-Security-Token", hostileAWSSession)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/bedrock/aws4_request, Signature=00")
		return []Secret{hostileAWSSecret, hostileAWSSession}, nil
	}
	req.Header.Set("Authorization", "Bearer "+hostileOAuthToken)
	return []Secret{hostileOAuthToken, hostileOAuthRefresh}, nil
}

// hostileCheck is a check and the secrets it holds.
type hostileCheck struct {
	Check
	held []string
}

// hostileChecks are one check per way of holding credentials, against base.
func hostileChecks(base string, kind Kind) map[string]hostileCheck {
	checks := map[string]hostileCheck{}
	for _, id := range []string{"openai", "anthropic", "gemini", "azure"} {
		p, _ := LookupProvider(id)
		if id == "azure" {
			p.AzureAPIVersion = "2024-10-21"
		}
		checks[id] = hostileCheck{Check{Provider: p, Kind: kind, Model: "m-1", BaseURL: base, APIKey: hostileAPIKey, Timeout: stallTimeout}, []string{hostileAPIKey}}
	}
	checks["gateway"] = hostileCheck{Check{Provider: CustomProvider("gateway", base, "m-1"), Kind: kind, Model: "m-1", BaseURL: base, APIKey: hostileAPIKey, Timeout: stallTimeout},
		[]string{hostileAPIKey}}
	bedrock, _ := LookupProvider("bedrock")
	checks["bedrock"] = hostileCheck{Check{Provider: bedrock, Kind: kind, Model: "amazon.nova-micro-v1:0", BaseURL: base, Signer: cloudSigner{aws: true}, Timeout: stallTimeout},
		[]string{hostileAWSSecret, hostileAWSSession}}
	vertex, _ := LookupProvider("vertex")
	vertex.Project, vertex.Region = "acme", "us-central1"
	checks["vertex"] = hostileCheck{Check{Provider: vertex, Kind: kind, Model: "gemini-2.5-flash-lite", BaseURL: base, Signer: cloudSigner{}, Timeout: stallTimeout},
		[]string{hostileOAuthToken, hostileOAuthRefresh}}
	return checks
}

// leakedSecret returns a run of ScrubRun characters of one of secrets found
// in text, or "".
func leakedSecret(text string, secrets []string) string {
	for _, s := range secrets {
		if run := secretRun(text, s); run != "" {
			return run
		}
	}
	return ""
}

// probeWithin runs one probe and fails the test if it is still running a
// minute after its own timeout: a hang, whatever the machine's speed.
func probeWithin(t *testing.T, c Check) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- (&Prober{}).Probe(context.Background(), c) }()
	select {
	case r := <-done:
		return r
	case <-time.After(c.Timeout + time.Minute):
		t.Fatalf("the probe of %s outlived its %s timeout by a minute", c.Name(), c.Timeout)
		return Result{}
	}
}

func TestHostileEchoesOfEverySecretNeverReachTheResult(t *testing.T) {
	for _, h := range []providertest.Hostile{providertest.EchoError, providertest.EchoReply, providertest.EchoStream, providertest.EchoPage} {
		t.Run(string(h), func(t *testing.T) {
			kind := KindChat
			if h == providertest.EchoStream {
				kind = KindStream
			}
			for name, c := range hostileChecks("", kind) {
				// The server echoes every secret the check holds, those no
				// request carries (an AWS secret key, a refresh token) too:
				// the worst case of a server that knows them.
				srv := providertest.NewHostileServer(h, c.held...)
				c.BaseURL = srv.URL()
				res := probeWithin(t, c.Check)
				srv.Close()
				out, _ := json.Marshal(res)
				if run := leakedSecret(string(out), c.held); run != "" {
					t.Errorf("%s: the result holds %q of a secret: %s", name, run, out)
				}
				if res.RequestID != "" || res.EdgeRay != "" {
					t.Errorf("%s: ids that were secrets are kept: request_id %q edge_ray %q", name, res.RequestID, res.EdgeRay)
				}
				if strings.Contains(string(out), providertest.ClientAddressText) {
					t.Errorf("%s: the result keeps the client's address from a page: %s", name, out)
				}
			}
		})
	}
}

func TestHostileAnswersEndByTheTimeoutAndBlameTheOrigin(t *testing.T) {
	tests := []struct {
		hostile providertest.Hostile
		kind    Kind
		outcome Outcome
		reason  Reason
		status  int
	}{
		// No CDN writes these and none lets them pass unchecked: the
		// answer is the origin's, and it is no valid answer.
		{providertest.SwitchProtocols, KindChat, OutcomeOriginError, ReasonInvalidResponse, 101},
		{providertest.ContinueFlood, KindChat, OutcomeOriginError, ReasonInvalidResponse, 0},
		{providertest.HugeHeader, KindChat, OutcomeOriginError, ReasonInvalidResponse, 0},
		{providertest.NotHTTP, KindChat, OutcomeOriginError, ReasonInvalidResponse, 0},
		// These end only at the timeout.
		{providertest.SlowHeader, KindChat, OutcomeOriginError, ReasonTTFBTimeout, 0},
		{providertest.EndlessBody, KindChat, OutcomeOriginError, ReasonBodyTimeout, 200},
		{providertest.EndlessStream, KindStream, OutcomeOriginError, ReasonStreamError, 200},
	}
	for _, tt := range tests {
		t.Run(string(tt.hostile), func(t *testing.T) {
			srv := providertest.NewHostileServer(tt.hostile)
			defer srv.Close()
			c := hostileChecks(srv.URL(), tt.kind)["gateway"].Check
			res := probeWithin(t, c)
			if res.Outcome != tt.outcome || res.Reason != tt.reason || res.StatusCode != tt.status {
				t.Fatalf("got %s/%s HTTP %d (%s), want %s/%s HTTP %d", res.Outcome, res.Reason, res.StatusCode, res.Error, tt.outcome, tt.reason, tt.status)
			}
			if res.Error == "" || strings.Contains(res.Error, providertest.ClientAddressText) {
				t.Errorf("error %q: want a message without the peer's text", res.Error)
			}
		})
	}
}

func TestHostilePagesKeepOnlyATitleWithoutAddresses(t *testing.T) {
	tests := []struct {
		hostile providertest.Hostile
		outcome Outcome
		reason  Reason
	}{
		// a 503 HTML page with no content type, behind no CDN: the edge's
		{providertest.BOMPage, OutcomeEdgeError, ReasonEdgeHTML},
		// a 403 page, text before <html>, labelled text/plain: a block
		{providertest.TextBeforePage, OutcomeEdgeError, ReasonEdgeBlocked},
		// a 502 page relayed through Cloudflare, titled with the client's
		// address: a page the CDN did not write is the origin's
		{providertest.EchoPage, OutcomeOriginError, ReasonOrigin5xx},
	}
	for _, tt := range tests {
		t.Run(string(tt.hostile), func(t *testing.T) {
			srv := providertest.NewHostileServer(tt.hostile)
			defer srv.Close()
			c := hostileChecks(srv.URL(), KindChat)["gateway"].Check
			c.Timeout = roomy
			res := probeWithin(t, c)
			if res.Outcome != tt.outcome || res.Reason != tt.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", res.Outcome, res.Reason, res.Error, tt.outcome, tt.reason)
			}
			if strings.Contains(res.Error, providertest.ClientAddressText) || strings.Contains(res.Error, "Forbidden for") || strings.Contains(res.Error, "Your IP") {
				t.Fatalf("the error keeps page text: %q", res.Error)
			}
		})
	}
}

func TestHostileNegativeTokenCountsAreNotCounted(t *testing.T) {
	srv := providertest.NewHostileServer(providertest.NegativeTokens)
	defer srv.Close()
	c := hostileChecks(srv.URL(), KindChat)["gateway"].Check
	c.Timeout = roomy
	res := probeWithin(t, c)
	if res.Outcome != OutcomeSuccess || res.Tokens != (Usage{}) {
		t.Fatalf("got %s/%s tokens %+v, want a success that bills no tokens", res.Outcome, res.Reason, res.Tokens)
	}
}
