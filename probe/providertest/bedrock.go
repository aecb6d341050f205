package providertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FakeAWSAccessKeyID is the access key id the fake Bedrock accepts; the
// secret access key is Options.APIKey. (AWS's documentation example id.)
const FakeAWSAccessKeyID = "AKIAIOSFODNN7EXAMPLE"

// bedrock is the Bedrock runtime's Converse API under "/bedrock": SigV4 on
// every call (verified against Options.APIKey as the secret key), AWS's JSON
// errors with x-amzn-ErrorType, and ConverseStream's
// application/vnd.amazon.eventstream frames
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
type bedrock struct{}

const defaultBedrockModel = "amazon.nova-micro-v1:0"

func bedrockHeaders(contentType string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Requestid", uuid4())
	return h
}

// bedrockError is AWS's REST-JSON error: the exception in a header, the
// message in the body.
func bedrockError(status int, exception, msg string) response {
	h := bedrockHeaders("application/json")
	h.Set("X-Amzn-Errortype", exception+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	return jsonResponse(status, h, struct {
		Message string `json:"message"`
	}{msg})
}

// auth verifies the SigV4 signature the way AWS does: the access key id,
// the credential scope's service, and the signature recomputed over the
// signed headers and the body's hash.
func (bedrock) auth(x *exchange) (response, bool) {
	if x.skipAuth {
		return response{}, true
	}
	authz := x.r.Header.Get("Authorization")
	if authz == "" {
		return bedrockError(http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"), false
	}
	cred, signed, ok := parseSigV4(authz)
	scope := strings.Split(cred, "/") // AKID/date/region/service/aws4_request
	switch {
	case !ok || len(scope) != 5:
		return bedrockError(http.StatusBadRequest, "IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."), false
	case scope[0] != FakeAWSAccessKeyID:
		return bedrockError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."), false
	case scope[3] != "bedrock":
		return bedrockError(http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'."), false
	}
	when, err := time.Parse("20060102T150405Z", x.r.Header.Get("X-Amz-Date"))
	if err != nil {
		return bedrockError(http.StatusBadRequest, "IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."), false
	}
	// Rebuild the request with the signed headers only, sign it with the
	// secret, and compare.
	req, _ := http.NewRequest(x.r.Method, "http://"+x.r.Host+x.r.URL.RequestURI(), bytes.NewReader(x.body))
	req.Host = x.r.Host
	for _, name := range signed {
		if name != "host" {
			req.Header[http.CanonicalHeaderKey(name)] = x.r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(x.body)
	creds := aws.Credentials{AccessKeyID: FakeAWSAccessKeyID, SecretAccessKey: x.s.opts.APIKey, SessionToken: x.r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock", scope[2], when); err != nil ||
		req.Header.Get("Authorization") != authz {
		return bedrockError(http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."), false
	}
	return response{}, true
}

// parseSigV4 reads "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b, Signature=...".
func parseSigV4(h string) (credential string, signed []string, ok bool) {
	rest, found := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !found {
		return "", nil, false
	}
	var sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		case "Signature":
			sig = v
		}
	}
	return credential, signed, credential != "" && len(signed) > 0 && sig != ""
}

func (b bedrock) answer(x *exchange) reply {
	switch {
	case x.rest == "/async-invoke" && x.r.Method == http.MethodGet:
		if resp, ok := b.auth(x); !ok {
			return reply{response: resp}
		}
		return reply{response: jsonResponse(http.StatusOK, bedrockHeaders("application/json"), struct {
			Summaries []any `json:"asyncInvokeSummaries"`
		}{[]any{}})}
	case strings.HasPrefix(x.rest, "/model/") && x.r.Method == http.MethodPost &&
		(strings.HasSuffix(x.rest, "/converse") || strings.HasSuffix(x.rest, "/converse-stream")):
		if resp, ok := b.auth(x); !ok {
			return reply{response: resp}
		}
		return b.converse(x, strings.HasSuffix(x.rest, "/converse-stream"))
	}
	return reply{response: bedrockError(http.StatusNotFound, "UnknownOperationException", "")}
}

type bedrockUsage struct {
	Input  int `json:"inputTokens"`
	Output int `json:"outputTokens"`
	Total  int `json:"totalTokens"`
}

var fakeBedrockUsage = bedrockUsage{promptTokens, outputTokens, promptTokens + outputTokens}

// converse answers "pong" in Converse's shape, or as ConverseStream frames.
func (bedrock) converse(x *exchange, stream bool) reply {
	var req struct {
		Messages        []any `json:"messages"`
		InferenceConfig *struct {
			MaxTokens int `json:"maxTokens"`
		} `json:"inferenceConfig"`
	}
	if err := decodeBody(x, &req); err != nil || len(req.Messages) == 0 {
		return reply{response: bedrockError(http.StatusBadRequest, "ValidationException", "Malformed input request, please reformat your input and try again.")}
	}
	if !stream {
		type text struct {
			Text string `json:"text"`
		}
		return reply{response: jsonResponse(http.StatusOK, bedrockHeaders("application/json"), struct {
			Output struct {
				Message struct {
					Role    string `json:"role"`
					Content []text `json:"content"`
				} `json:"message"`
			} `json:"output"`
			StopReason string         `json:"stopReason"`
			Usage      bedrockUsage   `json:"usage"`
			Metrics    map[string]int `json:"metrics"`
		}{Output: struct {
			Message struct {
				Role    string `json:"role"`
				Content []text `json:"content"`
			} `json:"message"`
		}{Message: struct {
			Role    string `json:"role"`
			Content []text `json:"content"`
		}{"assistant", []text{{answerText}}}}, StopReason: "end_turn", Usage: fakeBedrockUsage, Metrics: map[string]int{"latencyMs": 120}})}
	}
	events := []string{
		awsEvent("messageStart", map[string]string{"role": "assistant"}),
		awsEvent("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]string{"text": answerText}}),
		awsEvent("contentBlockStop", map[string]int{"contentBlockIndex": 0}),
		awsEvent("messageStop", map[string]string{"stopReason": "end_turn"}),
		awsEvent("metadata", map[string]any{"usage": fakeBedrockUsage, "metrics": map[string]int{"latencyMs": 120}}),
	}
	return reply{response: response{status: http.StatusOK, header: bedrockHeaders("application/vnd.amazon.eventstream")}, events: events, head: 2}
}

// awsEvent frames one ConverseStream event with the AWS SDK's encoder.
func awsEvent(eventType string, payload any) string {
	return awsFrame(eventstream.Headers{
		{Name: ":event-type", Value: eventstream.StringValue(eventType)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("event")},
	}, payload)
}

// awsException frames a modelled exception inside the stream.
func awsException(exception, msg string) string {
	return awsFrame(eventstream.Headers{
		{Name: ":exception-type", Value: eventstream.StringValue(exception)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("exception")},
	}, map[string]string{"message": msg})
}

func awsFrame(h eventstream.Headers, payload any) string {
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: h, Payload: mustJSON(payload)}); err != nil {
		panic("providertest: encode event: " + err.Error())
	}
	return buf.String()
}

// fail maps origin error kinds to Bedrock's exceptions (troubleshooting-api-error-codes).
func (b bedrock) fail(x *exchange, kind FaultKind) response {
	switch kind {
	case Origin500:
		return bedrockError(http.StatusInternalServerError, "InternalServerException", "The server encountered an internal error while processing the request.")
	case Origin503, Overloaded529:
		return bedrockError(http.StatusServiceUnavailable, "ServiceUnavailableException", "Bedrock is unable to process your request.")
	case RateLimit429:
		resp := bedrockError(http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
		resp.header.Set("Retry-After", "2")
		return resp
	case Quota429:
		return bedrockError(http.StatusTooManyRequests, "ThrottlingException", "Too many tokens per day, please wait before trying again.")
	case Auth401:
		return bedrockError(http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case BadRequest400:
		return bedrockError(http.StatusBadRequest, "ValidationException", "Malformed input request, please reformat your input and try again.")
	case ModelNotFound404:
		return bedrockError(http.StatusNotFound, "ResourceNotFoundException", "This model version has reached the end of its life. Please refer to the AWS documentation for more details.")
	case Region403:
		return bedrockError(http.StatusForbidden, "AccessDeniedException", "Access to Anthropic models is not allowed from unsupported countries, regions, or territories. Please refer to https://www.anthropic.com/supported-countries for more information on the countries and regions Anthropic currently supports.")
	case Invalid200:
		return response{status: http.StatusOK, header: bedrockHeaders("application/json"), body: []byte("{}")}
	}
	return b.fail(x, Origin500)
}

func (bedrock) errorEvent(*exchange) string {
	return awsException("serviceUnavailableException", "Bedrock is unable to process your request.")
}
