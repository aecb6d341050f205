package providertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Hostile is one way an endpoint the probe does not control (a gateway, a
// proxy, a user-named server) attacks or abuses it. Where Server imitates
// real providers and CDNs failing, a HostileServer answers at the byte
// level with what no well-behaved server sends.
type Hostile string

const (
	// SwitchProtocols answers 101 Switching Protocols to a request that
	// asked for no upgrade, then holds the connection open, silent.
	SwitchProtocols Hostile = "switch_protocols"
	// ContinueFlood sends "100 Continue" over and over, never a final
	// response.
	ContinueFlood Hostile = "continue_flood"
	// HugeHeader answers 200 with a 1 MiB header.
	HugeHeader Hostile = "huge_header"
	// SlowHeader sends a status line and then one header byte a second,
	// forever.
	SlowHeader Hostile = "slow_header"
	// EndlessBody answers 200 application/json and sends the body a few
	// bytes at a time, forever.
	EndlessBody Hostile = "endless_body"
	// EndlessStream answers 200 text/event-stream and sends keep-alive
	// comments, forever, never an event.
	EndlessStream Hostile = "endless_stream"
	// NotHTTP answers with a line of text naming the client's address,
	// no status line.
	NotHTTP Hostile = "not_http"
	// EchoError answers 401 in OpenAI's error schema and echoes every
	// credential it received (and Echo) wherever a response can carry
	// text: x-request-id, request-id, cf-ray, apim-request-id,
	// x-amzn-requestid, the body's request_id, and the message: whole,
	// straddling the 160-character clip, split by a line break, spaced
	// out, and with its first character cut.
	EchoError Hostile = "echo_error"
	// EchoReply answers a chat completion in OpenAI's schema whose id,
	// content and headers echo the credentials.
	EchoReply Hostile = "echo_reply"
	// EchoStream answers a streamed chat completion that sends the
	// credentials split over two content deltas, then an error event that
	// echoes them.
	EchoStream Hostile = "echo_stream"
	// EchoPage answers 502 text/html whose title carries the credentials
	// and the client's address.
	EchoPage Hostile = "echo_page"
	// BOMPage answers 503 with no content type: a UTF-8 byte-order mark,
	// then a Cloudflare-like block page naming the client's address.
	BOMPage Hostile = "bom_page"
	// TextBeforePage answers 403 with a line of text naming the client's
	// address before <html>.
	TextBeforePage Hostile = "text_before_page"
	// NegativeTokens answers a valid chat completion whose usage is
	// negative.
	NegativeTokens Hostile = "negative_tokens"
)

// Hostiles lists every Hostile, in declaration order.
var Hostiles = []Hostile{SwitchProtocols, ContinueFlood, HugeHeader, SlowHeader, EndlessBody, EndlessStream, NotHTTP,
	EchoError, EchoReply, EchoStream, EchoPage, BOMPage, TextBeforePage, NegativeTokens}

// ClientAddressText is what the pages of NotHTTP, EchoPage, BOMPage and
// TextBeforePage say about the client: a probe must never keep it.
const ClientAddressText = "203.0.113.77"

// HostileServer is a plain-TCP endpoint on 127.0.0.1 that answers every
// request the Hostile way. Create it with NewHostileServer; the creator
// must call Close, which closes the listener and every connection (held
// and flooding ones included) and waits for its goroutines.
type HostileServer struct {
	kind Hostile
	echo []string
	ln   net.Listener
	url  string

	mu       sync.Mutex
	conns    map[net.Conn]bool
	requests int
	closed   bool
	closing  chan struct{}
	wg       sync.WaitGroup
}

// NewHostileServer starts a HostileServer. echo are further secrets to
// echo beside the credentials the request carries (an AWS secret key,
// which no request carries, say).
func NewHostileServer(kind Hostile, echo ...string) *HostileServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("providertest: listen: %v", err))
	}
	s := &HostileServer{kind: kind, echo: echo, ln: ln, url: "http://" + ln.Addr().String(), conns: map[net.Conn]bool{}, closing: make(chan struct{})}
	s.wg.Add(1)
	go s.accept()
	return s
}

// URL is http://127.0.0.1:port; any path answers the same way.
func (s *HostileServer) URL() string { return s.url }

// Requests is how many requests the server has read.
func (s *HostileServer) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Close stops the server and ends every connection. It may be called more
// than once.
func (s *HostileServer) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
		s.ln.Close()
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *HostileServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

// wait pauses d or until Close; false when closing.
func (s *HostileServer) wait(d time.Duration) bool {
	select {
	case <-s.closing:
		return false
	case <-time.After(d):
		return true
	}
}

func (s *HostileServer) serve(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	secrets := append(credentials(req.Header), s.echo...)
	write := func(parts ...string) bool {
		_, err := io.WriteString(c, strings.Join(parts, ""))
		return err == nil
	}
	switch s.kind {
	case SwitchProtocols:
		write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		<-s.closing
	case ContinueFlood:
		for write("HTTP/1.1 100 Continue\r\n\r\n") {
			select {
			case <-s.closing:
				return
			default:
			}
		}
	case HugeHeader:
		write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ", strings.Repeat("a", 1<<20), "\r\nContent-Length: 2\r\n\r\n{}")
		<-s.closing
	case SlowHeader:
		write("HTTP/1.1 200 OK\r\n")
		for write("X") && s.wait(time.Second) {
		}
	case EndlessBody:
		write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", `{"choices":[{"message":{"content":"`)
		for write("pong ") && s.wait(10*time.Millisecond) {
		}
	case EndlessStream:
		write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
		for write(": keep-alive\n\n") && s.wait(10*time.Millisecond) {
		}
	case NotHTTP:
		write("Access denied for " + ClientAddressText + "\r\n\r\n")
	case EchoError:
		key := strings.Join(secrets, " ")
		id := firstOr(secrets, "none")
		msg := strings.Repeat("x", 150) + " " + key + " | " + spaced(key) + " | " + split(key) + " | " + cutFirst(key)
		body := fmt.Sprintf(`{"error":{"message":%q,"type":"invalid_request_error","code":"invalid_api_key"},"request_id":%q}`, msg, id)
		write(echoHeaders(http.StatusUnauthorized, "application/json", id, len(body)), body)
	case EchoReply:
		id := firstOr(secrets, "none")
		body := fmt.Sprintf(`{"id":%q,"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1}}`,
			id, "pong "+strings.Join(secrets, " "))
		write(echoHeaders(http.StatusOK, "application/json", id, len(body)), body)
	case EchoStream:
		id := firstOr(secrets, "none")
		var b strings.Builder
		for _, sec := range secrets {
			half := len(sec) / 2
			fmt.Fprintf(&b, "data: {\"choices\":[{\"delta\":{\"content\":%q}}]}\n\n", "pong "+sec[:half])
			fmt.Fprintf(&b, "data: {\"choices\":[{\"delta\":{\"content\":%q}}]}\n\n", sec[half:])
		}
		fmt.Fprintf(&b, "event: error\ndata: {\"error\":{\"message\":%q,\"type\":\"server_error\"}}\n\n", "failed for "+strings.Join(secrets, " "))
		write(echoHeaders(http.StatusOK, "text/event-stream", id, b.Len()), b.String())
	case EchoPage:
		body := "<html><head><title>Blocked " + strings.Join(secrets, " ") + " from " + ClientAddressText + "</title></head><body>Your IP " +
			ClientAddressText + " was blocked.</body></html>"
		write(echoHeaders(http.StatusBadGateway, "text/html", "", len(body)), body)
	case BOMPage:
		body := "\xef\xbb\xbf<!DOCTYPE html><html><body><h1>Service unavailable</h1><p>Your IP: " + ClientAddressText + "</p></body></html>"
		write(fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Length: %d\r\n\r\n", len(body)), body)
	case TextBeforePage:
		body := "Client " + ClientAddressText + " is not allowed\n<html><body>Forbidden for " + ClientAddressText + "</body></html>"
		write(fmt.Sprintf("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", len(body)), body)
	case NegativeTokens:
		body := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-12,"completion_tokens":-9000000000}}`
		write(echoHeaders(http.StatusOK, "application/json", "req_negative", len(body)), body)
	}
}

// credentials are the secrets a request carries: an API key in any
// provider's header, a bearer token, an AWS session token.
func credentials(h http.Header) []string {
	var out []string
	for _, k := range []string{"Authorization", "X-Api-Key", "Api-Key", "X-Goog-Api-Key", "X-Amz-Security-Token"} {
		if v := strings.TrimSpace(strings.TrimPrefix(h.Get(k), "Bearer ")); v != "" && !strings.HasPrefix(v, "AWS4-HMAC-SHA256") {
			out = append(out, v)
		}
	}
	return out
}

// echoHeaders is a status line and headers that carry id where ids go.
func echoHeaders(status int, contentType, id string, length int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nServer: cloudflare\r\n", status, http.StatusText(status), contentType, length)
	if id != "" {
		for _, k := range []string{"X-Request-Id", "Request-Id", "Cf-Ray", "Apim-Request-Id", "X-Amzn-Requestid"} {
			fmt.Fprintf(&b, "%s: %s\r\n", k, id)
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

func firstOr(ss []string, def string) string {
	if len(ss) == 0 {
		return def
	}
	return ss[0]
}

// spaced puts two spaces between halves of s: a clip collapses them to one.
func spaced(s string) string { return s[:len(s)/2] + "  " + s[len(s)/2:] }

// split puts a line break in the middle of s.
func split(s string) string { return s[:len(s)/2] + "\n" + s[len(s)/2:] }

// cutFirst drops the first character of s.
func cutFirst(s string) string {
	if s == "" {
		return s
	}
	return s[1:]
}
