package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFailuresAPhaseCannotTell(t *testing.T) {
	emfile := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
	tests := []struct {
		err  error
		want Failure
	}{
		// Out of descriptors or ports is the probe's own host, never the
		// network: no packet left it.
		{emfile, FailureLocalResources},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, FailureLocalResources},
		{&net.DNSError{Err: "dial udp 127.0.0.53:53: socket: too many open files", Name: "api.openai.com"}, FailureLocalResources},
		// A peer that answers, but not in HTTP the probe can take.
		{errors.New("net/http: HTTP/1.x transport connection broken: net/http: server response headers exceeded 262144 bytes; aborted"), FailureBadResponse},
		{errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "Access denied for 203.0.113.77"`), FailureBadResponse},
		{errors.New("read tcp: connection reset by peer"), FailureNone},
	}
	for _, tt := range tests {
		if got := localOrBadResponse(tt.err); got != tt.want {
			t.Errorf("localOrBadResponse(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	for f, want := range map[Failure]Reason{FailureLocalResources: ReasonProbeInternal, FailureBadResponse: ReasonInvalidResponse} {
		o, r := transportVerdict(f)
		if r != want || (f == FailureBadResponse) != (o == OutcomeOriginError) {
			t.Errorf("%s: %s/%s, want reason %s", f, o, r, want)
		}
	}
}

// expectEach checks f(in) == want for every case.
func expectEach[In, Out comparable](t *testing.T, name string, f func(In) Out, cases map[In]Out) {
	t.Helper()
	for in, want := range cases {
		if got := f(in); got != want {
			t.Errorf("%s(%#v) = %#v, want %#v", name, in, got, want)
		}
	}
}

func TestTransportDetailDropsThePeersBytes(t *testing.T) {
	detail := func(s string) string { return transportDetail(errors.New(s)) }
	expectEach(t, "transportDetail", detail, map[string]string{
		`net/http: HTTP/1.x transport connection broken: malformed HTTP response "Access denied for 203.0.113.77"`: "net/http: HTTP/1.x transport connection broken: malformed HTTP response",
		`malformed MIME header line: X-Client: 203.0.113.77`:                                                       "malformed MIME header line",
		"dial tcp 127.0.0.1:1: connect: connection refused":                                                        "dial tcp 127.0.0.1:1: connect: connection refused",
	})
}

func TestClassifyA101IsAnInvalidAnswerOfTheOrigin(t *testing.T) {
	v := Classify(Observation{Provider: "openai", API: APIOpenAI, Kind: KindChat, Keyed: true, StatusCode: 101, Failure: FailureBadResponse,
		Detail: "a 101 Switching Protocols the probe did not ask for", Header: http.Header{"Upgrade": {"websocket"}}})
	if v.Outcome != OutcomeOriginError || v.Reason != ReasonInvalidResponse || !strings.HasPrefix(v.Message, "HTTP 101: ") {
		t.Fatalf("got %s/%s %q", v.Outcome, v.Reason, v.Message)
	}
}

func TestUsageIsBoundedOrNotCounted(t *testing.T) {
	expectEach(t, "bounded", Usage.bounded, map[Usage]Usage{{12, 1}: {12, 1}, {-1, 5}: {}, {5, -1}: {}, {maxProbeTokens + 1, 1}: {}, {0, 0}: {}})
}

func TestRedactURLHidesUserInfoQueryValuesAndFragments(t *testing.T) {
	expectEach(t, "RedactURL", RedactURL, map[string]string{
		"https://user:hunter2@gw.example/v1?token=abc&x=1#frag": "https://redacted@gw.example/v1?token=redacted&x=redacted#redacted",
		"https://gw.example/v1":                                 "https://gw.example/v1",
		"https://user:pa@ss@[bad/path?key":                      "https://redacted@[bad/path?redacted",
		"user:secret@gw.example:8080":                           "redacted@gw.example:8080",
		"https://gw.example/a@b":                                "https://gw.example/a@b", // an @ in the path is no user info
		"":                                                      "",
	})
	secrets := URLSecrets("https://user:hunter2@gw.example/?token=abc#f")
	var got []string
	for _, s := range secrets {
		got = append(got, s.Reveal())
	}
	if fmt.Sprint(got) != "[user hunter2 abc f]" {
		t.Errorf("URLSecrets = %v", got)
	}
}

func TestParseBaseURLNeverEchoesItsSecrets(t *testing.T) {
	for _, in := range []string{"https://user:hunter2-secret@gw.example/v1", "https://gw.example/v1?token=hunter2-secret",
		"https://user:hunter2-secret@[gw/v1", "ftp://user:hunter2-secret@gw.example/", "https://gw.example/v1#hunter2-secret"} {
		_, err := ParseBaseURL(in)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseBaseURL(%q) = %v: want an error without the secret", in, err)
		}
	}
}

// stuckSigner never returns: a token endpoint or metadata server that
// does not answer, behind a client that ignores the context.
type stuckSigner struct{ release chan struct{} }

func (s stuckSigner) Sign(context.Context, *http.Request, []byte) ([]Secret, error) {
	<-s.release
	return nil, nil
}

func TestAStuckSignerEndsWithTheProbesTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p, _ := LookupProvider("vertex")
	p.Project, p.Region = "acme", "us-central1"
	c := Check{Provider: p, Kind: KindChat, Model: "gemini-2.5-flash-lite", BaseURL: "http://127.0.0.1:1", Signer: stuckSigner{release}, Timeout: time.Second}
	res := probeWithin(t, c)
	if res.Outcome != OutcomeProbeError || res.Reason != ReasonAuth || !strings.Contains(res.Error, "no credentials before the probe's timeout") {
		t.Fatalf("got %s/%s %q", res.Outcome, res.Reason, res.Error)
	}
}
