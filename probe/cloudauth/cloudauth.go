// Package cloudauth signs the chat and stream probes of providers whose
// credentials are not one static API key: AWS Bedrock (SigV4 with
// aws-sdk-go-v2's signer, credentials from its default chain) and Google
// Vertex AI (OAuth2 access tokens from Application Default Credentials via
// golang.org/x/oauth2/google). Each returns a probe.Signer; the prober
// scrubs every secret a Signer reports from all it prints.
//
// It lives apart from package probe so that packages that only need the
// probe's names (rules, dashboards) do not link the AWS and Google clients.
package cloudauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/llmprobe/llmprobe/probe"
)

// BedrockService is the SigV4 signing name of the Bedrock runtime.
const BedrockService = "bedrock"

// ErrNoCredentials reports that the provider's credential chain found none:
// the provider's chat and stream checks stay off, as without an API key.
var ErrNoCredentials = errors.New("no credentials")

// lookupTimeout bounds finding credentials at start-up.
const lookupTimeout = 10 * time.Second

// AWS returns a SigV4 signer for Bedrock in region, with credentials from
// aws-sdk-go-v2/config's default chain: the AWS_* variables, the shared
// config and credentials files (profiles, SSO, web identity, processes),
// and container credentials. The EC2 instance metadata service is asked
// only when AWS_EC2_METADATA_DISABLED=false is set, so a run on a machine
// without AWS configuration never calls 169.254.169.254. It returns an
// error wrapping ErrNoCredentials when the chain finds nothing.
func AWS(ctx context.Context, region string) (probe.Signer, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if !strings.EqualFold(strings.TrimSpace(os.Getenv("AWS_EC2_METADATA_DISABLED")), "false") {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w: %v", ErrNoCredentials, err)
	}
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("AWS credentials: %w", ErrNoCredentials)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		return nil, fmt.Errorf("AWS credentials: %w in the default chain", ErrNoCredentials)
	}
	return NewAWSSigner(cfg.Credentials, region), nil
}

// NewAWSSigner signs with provider's credentials for Bedrock in region.
// Tests hand it static credentials (credentials.NewStaticCredentialsProvider).
func NewAWSSigner(provider aws.CredentialsProvider, region string) probe.Signer {
	return &awsSigner{creds: aws.NewCredentialsCache(provider), signer: v4.NewSigner(), region: region}
}

type awsSigner struct {
	creds  aws.CredentialsProvider
	signer *v4.Signer
	region string
}

// Sign adds X-Amz-Date, X-Amz-Security-Token (temporary credentials) and
// the SigV4 Authorization header for service bedrock.
func (s *awsSigner) Sign(ctx context.Context, req *http.Request, body []byte) ([]probe.Secret, error) {
	c, err := s.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	secrets := []probe.Secret{probe.Secret(c.SecretAccessKey), probe.Secret(c.SessionToken)}
	sum := sha256.Sum256(body)
	if err := s.signer.SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), BedrockService, s.region, time.Now()); err != nil {
		return secrets, fmt.Errorf("sign the request: %w", err)
	}
	return secrets, nil
}

// String never shows a credential: the signer may end up in a log line.
func (s *awsSigner) String() string   { return "AWS SigV4 (" + s.region + ")" }
func (s *awsSigner) GoString() string { return s.String() }

// CloudPlatformScope is the OAuth2 scope Vertex AI wants.
const CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// Google returns a signer with OAuth2 access tokens from Application
// Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud's
// application_default_credentials.json, or the metadata server on Google
// Cloud. It is called only for a configured Vertex project. It returns an
// error wrapping ErrNoCredentials when ADC finds none.
func Google(ctx context.Context) (probe.Signer, error) {
	// The credentials refresh their token later, outside this call: they
	// get a context that outlives it.
	creds, err := google.FindDefaultCredentials(context.WithoutCancel(ctx), CloudPlatformScope)
	if err != nil {
		return nil, fmt.Errorf("Google Application Default Credentials: %w: %v", ErrNoCredentials, err)
	}
	return NewGoogleSigner(creds.TokenSource), nil
}

// NewGoogleSigner signs with tokens from ts (reused until they expire).
func NewGoogleSigner(ts oauth2.TokenSource) probe.Signer {
	return &googleSigner{ts: oauth2.ReuseTokenSource(nil, ts)}
}

type googleSigner struct{ ts oauth2.TokenSource }

// Sign sets "Authorization: Bearer <access token>".
func (g *googleSigner) Sign(_ context.Context, req *http.Request, _ []byte) ([]probe.Secret, error) {
	tok, err := g.ts.Token()
	if err != nil {
		return nil, fmt.Errorf("Google access token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return []probe.Secret{probe.Secret(tok.AccessToken), probe.Secret(tok.RefreshToken)}, nil
}

func (g *googleSigner) String() string   { return "Google OAuth2 (Application Default Credentials)" }
func (g *googleSigner) GoString() string { return g.String() }

// For returns the signer of provider p's credential kind, or nil for
// providers with a key. A chain that finds no credentials is not an error:
// it returns nil and the reason, and the provider runs reach only.
func For(ctx context.Context, p probe.Provider) (probe.Signer, string, error) {
	var (
		s   probe.Signer
		err error
	)
	switch p.Credentials {
	case probe.CredentialsAWS:
		s, err = AWS(ctx, p.Region)
	case probe.CredentialsGoogle:
		s, err = Google(ctx)
	default:
		return nil, "", nil
	}
	if errors.Is(err, ErrNoCredentials) {
		return nil, err.Error(), nil
	}
	return s, "", err
}
