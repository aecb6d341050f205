package cloudauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/cloudauth"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

const (
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKENvalue"
)

func newRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestAWSSignerSignsForBedrockAndReportsItsSecrets(t *testing.T) {
	s := cloudauth.NewAWSSigner(credentials.NewStaticCredentialsProvider(providertest.FakeAWSAccessKeyID, secretKey, sessionToken), "eu-central-1")
	req := newRequest(t, "https://bedrock-runtime.eu-central-1.amazonaws.com/model/amazon.nova-micro-v1%3A0/converse")
	secrets, err := s.Sign(context.Background(), req, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	authz := req.Header.Get("Authorization")
	if !strings.HasPrefix(authz, "AWS4-HMAC-SHA256 Credential="+providertest.FakeAWSAccessKeyID+"/") || !strings.Contains(authz, "/eu-central-1/bedrock/aws4_request") {
		t.Fatalf("Authorization %q is not SigV4 for bedrock in eu-central-1", authz)
	}
	if req.Header.Get("X-Amz-Security-Token") != sessionToken || req.Header.Get("X-Amz-Date") == "" {
		t.Fatalf("headers %v lack the session token or the date", req.Header)
	}
	joined := fmt.Sprint(secrets)
	if !contains(secrets, secretKey) || !contains(secrets, sessionToken) {
		t.Fatalf("secrets %s do not report the secret key and the session token", joined)
	}
	for _, form := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(form, secretKey) || strings.Contains(form, sessionToken) {
			t.Fatalf("printing the signer shows a secret: %s", form)
		}
	}
}

func contains(secrets []probe.Secret, want string) bool {
	for _, s := range secrets {
		if s.Reveal() == want {
			return true
		}
	}
	return false
}

func TestTheFakeBedrockVerifiesTheSignature(t *testing.T) {
	srv := providertest.NewServer(providertest.Options{Edge: providertest.EdgeNone, APIKey: secretKey})
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name   string
		secret string
		status int
		errTyp string
	}{
		{"the right secret", secretKey, http.StatusOK, ""},
		{"a wrong secret", "not-the-secret-key-0000000000000000000000", http.StatusForbidden, "InvalidSignatureException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := cloudauth.NewAWSSigner(credentials.NewStaticCredentialsProvider(providertest.FakeAWSAccessKeyID, tt.secret, ""), "us-east-1")
			body := `{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":5}}`
			req, _ := http.NewRequest(http.MethodPost, srv.BaseURL("bedrock")+"/model/amazon.nova-micro-v1%3A0/converse", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if _, err := s.Sign(context.Background(), req, []byte(body)); err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), tt.errTyp) {
				t.Fatalf("status %d type %q, want %d %q", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), tt.status, tt.errTyp)
			}
		})
	}
}

func TestAWSFindsCredentialsInTheEnvironmentAndNothingElse(t *testing.T) {
	testkit.ClearEnv(t) // metadata service off, no shared files
	if _, err := cloudauth.AWS(context.Background(), "us-east-1"); !errors.Is(err, cloudauth.ErrNoCredentials) {
		t.Fatalf("with no credentials anywhere: %v, want ErrNoCredentials", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", providertest.FakeAWSAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	s, err := cloudauth.AWS(context.Background(), "us-east-1")
	if err != nil || s == nil {
		t.Fatalf("with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: %v", err)
	}
}

func TestGoogleTakesADCFromTheFileAndTokensFromItsEndpoint(t *testing.T) {
	testkit.ClearEnv(t)
	const token = "ya29.llmprobe-test-access-token"
	srv := providertest.NewServer(providertest.Options{Edge: providertest.EdgeNone, APIKey: token})
	t.Cleanup(srv.Close)
	adc := filepath.Join(t.TempDir(), "adc.json")
	if err := os.WriteFile(adc, srv.GoogleCredentialsJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", adc)
	s, err := cloudauth.Google(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest(t, srv.BaseURL("vertex")+"/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash-lite:generateContent")
	secrets, err := s.Sign(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Authorization") != "Bearer "+token || !contains(secrets, token) {
		t.Fatalf("Authorization %q, secrets %v", req.Header.Get("Authorization"), secrets)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), token) {
		t.Fatal("printing the signer shows the token")
	}
}

func TestForLeavesKeyProvidersAloneAndReportsMissingCredentials(t *testing.T) {
	testkit.ClearEnv(t)
	openai, _ := probe.LookupProvider("openai")
	if s, why, err := cloudauth.For(context.Background(), openai); s != nil || why != "" || err != nil {
		t.Fatalf("openai: %v %q %v", s, why, err)
	}
	bedrock, _ := probe.LookupProvider("bedrock")
	s, why, err := cloudauth.For(context.Background(), bedrock)
	if s != nil || err != nil || !strings.Contains(why, "no credentials") {
		t.Fatalf("bedrock without credentials: %v %q %v", s, why, err)
	}
}
