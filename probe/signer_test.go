package probe

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// echoSigner signs with a session token and reports it; a provider that
// echoes the token back must not get it into the result.
type echoSigner struct{ token string }

func (s echoSigner) Sign(_ context.Context, req *http.Request, _ []byte) ([]Secret, error) {
	req.Header.Set("X-Test-Token", s.token)
	return []Secret{Secret(s.token)}, nil
}

type failingSigner struct{ token string }

func (s failingSigner) Sign(context.Context, *http.Request, []byte) ([]Secret, error) {
	return []Secret{Secret(s.token)}, errors.New("refresh failed for token " + s.token)
}

func TestSignerSecretsAreScrubbedFromEverythingReported(t *testing.T) {
	const token = "FwoGZXIvYXdzEXAMPLEsession-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "UnrecognizedClientException")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"The security token ` + r.Header.Get("X-Test-Token") + ` included in the request is invalid."}`))
	}))
	defer srv.Close()
	p, _ := LookupProvider("bedrock")
	c := Check{Provider: p, Kind: KindChat, Model: "amazon.nova-micro-v1:0", BaseURL: srv.URL, Signer: echoSigner{token}, Timeout: time.Minute}
	res := (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeProbeError || res.Reason != ReasonAuth {
		t.Fatalf("got %s/%s (%s), want probe_error/auth", res.Outcome, res.Reason, res.Error)
	}
	if strings.Contains(res.Error, token) || !strings.Contains(res.Error, redacted) {
		t.Fatalf("the error %q shows the session token", res.Error)
	}

	c.Signer = failingSigner{token}
	res = (&Prober{}).Probe(context.Background(), c)
	if res.Outcome != OutcomeProbeError || res.Reason != ReasonAuth || strings.Contains(res.Error, token) || !strings.HasPrefix(res.Error, "credentials: ") {
		t.Fatalf("a signer that fails: %s/%s %q", res.Outcome, res.Reason, res.Error)
	}
}

func TestAChatWithoutCredentialsNamesTheChain(t *testing.T) {
	p, _ := LookupProvider("bedrock")
	res := (&Prober{}).Probe(context.Background(), Check{Provider: p, Kind: KindChat, Model: "amazon.nova-micro-v1:0"})
	if res.Outcome != OutcomeProbeError || res.Reason != ReasonNoAPIKey || !strings.Contains(res.Error, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("got %s/%s %q", res.Outcome, res.Reason, res.Error)
	}
}

func TestScrubRemovesAccessKeyIDsAndOAuthTokens(t *testing.T) {
	in := "key AKIAIOSFODNN7EXAMPLE token ya29.a0AfH6SMBx-example_token and the word ASIAN stays"
	out := Scrub(in)
	if strings.Contains(out, "AKIAIOSFODNN7EXAMPLE") || strings.Contains(out, "ya29.a0AfH6") || !strings.Contains(out, "ASIAN stays") {
		t.Fatalf("Scrub(%q) = %q", in, out)
	}
}
