package probe

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
)

// What an endpoint the probe does not control cannot do to it: hold it past
// its timeout (a credential endpoint that never answers; a 101 whose body
// is the bare connection, closed by the prober at the deadline), pass an
// abusive response off as a network or edge failure, or put its own bytes
// in the probe's messages.

// sign runs the signer within the probe's deadline: a credential endpoint
// that never answers (a token exchange, a metadata server) must not hold
// the probe past its timeout, whether or not the signer watches ctx. A
// signer still running then writes only to a request nobody sends.
func sign(ctx context.Context, s Signer, req *http.Request, body []byte) ([]Secret, error) {
	type signed struct {
		secrets []Secret
		err     error
	}
	done := make(chan signed, 1)
	go func() {
		secrets, err := s.Sign(ctx, req, body)
		done <- signed{secrets, err}
	}()
	select {
	case r := <-done:
		return r.secrets, r.err
	case <-ctx.Done():
		return nil, errors.New("no credentials before the probe's timeout")
	}
}

// badResponseMarks are how net/http (HTTP/1 and HTTP/2) says a peer
// answered with something that breaks HTTP rather than breaking the
// connection: headers over MaxResponseHeaderBytes (1xx floods count toward
// it), a status line or header that is not HTTP. net/http exports no error
// values for them.
var badResponseMarks = []string{
	"server response headers exceeded",
	"response header list larger than",
	"too many 1xx",
	"malformed HTTP",
	"malformed MIME header",
}

// localOrBadResponse names failures that a phase cannot tell: the probe's
// own host out of descriptors or ports (the probe's problem, never the
// network's), and a peer that answered but not in HTTP. FailureNone for
// anything else.
func localOrBadResponse(err error) Failure {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.ENOBUFS) || strings.Contains(err.Error(), "too many open files") {
		// The resolver flattens its errors to text, hence the words.
		return FailureLocalResources
	}
	msg := err.Error()
	for _, m := range badResponseMarks {
		if strings.Contains(msg, m) {
			return FailureBadResponse
		}
	}
	return FailureNone
}

// transportDetail is an exchange error as the probe reports it (ErrorText),
// without the bytes net/http quotes from a malformed response: they are
// the peer's, whatever it chose to send (a block page, a client address).
func transportDetail(err error) string {
	msg := ErrorText(err)
	if i := strings.Index(msg, "malformed "); i >= 0 {
		if j := strings.IndexAny(msg[i:], "\":"); j >= 0 {
			msg = strings.TrimSpace(msg[:i+j])
		}
	}
	return msg
}
