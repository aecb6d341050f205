package providertest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. The zero value is a Cloudflare edge in
// Frankfurt whose origins accept the key "test-key".
type Options struct {
	Edge   Edge             // which CDN the fake edge imitates; default EdgeCloudflare
	APIKey string           // the key every fake origin accepts; default "test-key"
	Now    func() time.Time // clock for InjectFor windows, ids and timestamps; default time.Now
	POP    string           // edge location: the cf-ray suffix and the Cloudflare box city; default "FRA"

	// Addr is the listen address, default "127.0.0.1:0". Tests leave it
	// empty; the demo command and the compose stack set it (":8443") so
	// that other hosts or containers reach the fake.
	Addr string
	// Hosts are extra DNS names or IP addresses for the TLS certificate,
	// beside 127.0.0.1, ::1 and localhost: the compose service name, say.
	Hosts []string
}

// Server is a fake LLM provider edge with fault injection. Create it with
// NewServer, NewTLSServer or NewUnstartedServer; the creator must call
// Close, which stops the listener, ends every connection (stalled ones
// included) and waits for the server's goroutines. Every method is safe
// for concurrent use.
type Server struct {
	opts     Options
	listener net.Listener // the TCP listener; TLS wraps it at StartTLS
	srv      *http.Server
	closing  chan struct{} // closed by Close; every wait selects on it

	// Set once by Start/StartTLS, read-only afterwards.
	url    string
	isTLS  bool
	caPEM  []byte
	client *http.Client

	mu        sync.Mutex
	started   bool
	closed    bool
	rules     []*rule
	counts    map[string]int
	total     int
	extraIDs  map[string]bool   // OpenAI-compatible ids named through BaseURL
	refusing  map[net.Conn]bool // connections in a refused TLS handshake
	handlers  sync.WaitGroup    // ServeHTTP calls and handshake refusals in flight; Add only under mu while !closed
	serveDone chan struct{}
}

// NewServer starts and returns a plain-HTTP fake edge on 127.0.0.1.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// NewTLSServer starts and returns an HTTPS fake edge. A fresh CA and leaf
// certificate are made at start; Client trusts them, CACertPEM and
// WriteCAFile hand them to other clients.
func NewTLSServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.StartTLS()
	return s
}

// NewUnstartedServer listens but does not serve yet, so that a caller can
// learn the address first. It panics when it cannot listen, as
// net/http/httptest does. The caller must call Start or StartTLS, then
// Close (Close alone is fine too).
func NewUnstartedServer(opts Options) *Server {
	if opts.Edge == "" {
		opts.Edge = EdgeCloudflare
	}
	if _, err := ParseEdge(string(opts.Edge)); err != nil {
		panic(err)
	}
	if opts.APIKey == "" {
		opts.APIKey = "test-key"
	}
	if opts.POP == "" {
		opts.POP = "FRA"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		panic(fmt.Sprintf("providertest: listen on %s: %v", opts.Addr, err))
	}
	s := &Server{
		opts:      opts,
		listener:  ln,
		closing:   make(chan struct{}),
		counts:    map[string]int{},
		extraIDs:  map[string]bool{},
		refusing:  map[net.Conn]bool{},
		serveDone: make(chan struct{}),
	}
	s.srv = &http.Server{
		Handler: s,
		// HTTP/1.1 only: hijacking (resets, clean closes) needs it, and an
		// empty TLSNextProto keeps net/http from negotiating h2.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		// Faults make clients fail handshakes and drop connections on
		// purpose; the server's complaints about it are noise.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	return s
}

// Start serves plain HTTP. It panics if the server was already started.
func (s *Server) Start() {
	s.begin(false)
	s.client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	go s.serve(s.listener)
}

// StartTLS serves HTTPS (HTTP/1.1 over TLS 1.2+) with a certificate made
// now: a P-256 CA and a leaf for 127.0.0.1, ::1, localhost and
// Options.Hosts, valid from an hour ago for a year by the real clock. It
// panics if the server was already started or the certificates fail.
func (s *Server) StartTLS() {
	s.begin(true)
	certs, err := newCertificates(time.Now(), s.opts.Hosts)
	if err != nil {
		panic(fmt.Sprintf("providertest: make certificates: %v", err))
	}
	s.caPEM = certs.caPEM
	pool := x509.NewCertPool()
	pool.AddCert(certs.ca)
	s.client = &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 16,
	}}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{certs.leaf},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
	s.srv.TLSConfig = cfg
	go s.serve(tls.NewListener(&edgeListener{Listener: s.listener, s: s}, cfg))
}

func (s *Server) begin(useTLS bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("providertest: server already started")
	}
	if s.closed {
		panic("providertest: server already closed")
	}
	s.started = true
	s.isTLS = useTLS
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	s.url = scheme + "://" + dialAddr(s.listener.Addr())
}

func (s *Server) serve(ln net.Listener) {
	defer close(s.serveDone)
	_ = s.srv.Serve(ln) // returns http.ErrServerClosed on Close
}

// dialAddr turns a wildcard listen address into one a local client can
// dial, so URL works with Options.Addr ":8443" too.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// URL is scheme://127.0.0.1:port, "" before Start.
func (s *Server) URL() string { return s.url }

// BaseURL is the API root a provider SDK's base URL variable would hold
// (LLMPROBE_<ID>_BASE_URL): URL()+"/anthropic", "/gemini" and "/azure" for
// those three, URL()+"/<id>/v1" for OpenAI and every OpenAI-compatible id.
// Naming an unknown id here registers it as OpenAI-compatible; any
// "/<id>/v1/..." path is served as OpenAI-compatible anyway.
func (s *Server) BaseURL(provider string) string {
	switch provider {
	case "anthropic", "gemini", "azure", "bedrock", "vertex":
		return s.URL() + "/" + provider
	}
	s.mu.Lock()
	s.extraIDs[provider] = true
	s.mu.Unlock()
	return s.URL() + "/" + provider + "/v1"
}

// CACertPEM is the PEM of the CA that signed the server's certificate; nil
// for plain-HTTP servers.
func (s *Server) CACertPEM() []byte {
	if s.caPEM == nil {
		return nil
	}
	return append([]byte(nil), s.caPEM...)
}

// WriteCAFile writes the CA PEM to dir/ca.pem (for --ca-file or
// LLMPROBE_CA_FILE) and returns the path. The caller owns the file.
func (s *Server) WriteCAFile(dir string) (string, error) {
	if s.caPEM == nil {
		return "", fmt.Errorf("providertest: write CA file: server has no TLS")
	}
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, s.caPEM, 0o644); err != nil {
		return "", fmt.Errorf("providertest: write CA file: %w", err)
	}
	return path, nil
}

// Client returns an HTTP/1.1 client that trusts the server's CA and uses
// no proxy from the environment. Close closes its idle connections. It is
// nil before Start.
func (s *Server) Client() *http.Client { return s.client }

// Requests counts the HTTP requests that reached the edge for provider
// (its path prefix); "" counts all, unknown prefixes included. Connections
// refused at the TLS handshake never become requests.
func (s *Server) Requests(provider string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if provider == "" {
		return s.total
	}
	return s.counts[provider]
}

// Close closes the listener and every connection, ends stalled handlers
// and waits until the server's goroutines are gone. It returns promptly
// and may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	for c := range s.refusing {
		c.Close()
	}
	started := s.started
	s.mu.Unlock()

	if started {
		s.srv.Close() // listener plus new, active and idle connections
		<-s.serveDone
	} else {
		s.listener.Close()
	}
	s.handlers.Wait()
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
}

// enter registers a handler unless the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// knownProviders are served without registration; see BaseURL.
var knownProviders = []string{"openai", "anthropic", "gemini", "azure", "mistral", "groq", "deepseek", "xai", "openrouter", "bedrock", "vertex"}

// Providers lists the provider ids the fake serves without registration.
func Providers() []string { return append([]string(nil), knownProviders...) }

// originFor routes a path prefix to its fake origin; nil for none.
func (s *Server) originFor(id, rest string) origin {
	switch id {
	case "anthropic":
		return anthropic{}
	case "gemini":
		return gemini{}
	case "azure":
		return azure{}
	case "bedrock":
		return bedrock{}
	case "vertex":
		return vertex{}
	case "openai", "mistral", "groq", "deepseek", "xai", "openrouter":
		return openAI{}
	case "":
		return nil
	}
	s.mu.Lock()
	registered := s.extraIDs[id]
	s.mu.Unlock()
	if registered || validID(id) && (rest == "/v1" || strings.HasPrefix(rest, "/v1/")) {
		return openAI{}
	}
	return nil
}

// validID accepts the shape of provider ids: lower-case letters, digits,
// '-' and '_'.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// splitPrefix cuts "/openai/v1/models" into "openai" and "/v1/models".
func splitPrefix(path string) (id, rest string) {
	p := strings.TrimPrefix(path, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

func (s *Server) count(provider string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if provider != "" {
		s.counts[provider]++
	}
}

// maxBody bounds what the fake reads of a request body.
const maxBody = 1 << 20

// ServeHTTP is the fake edge: route by path prefix, count, pick the fault,
// wait its Delay, answer. It is exported so the fake can be mounted in
// another server; Server's own listener calls it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		panic(http.ErrAbortHandler)
	}
	defer s.handlers.Done()
	if r.URL.Path == GoogleTokenPath {
		s.token(w, r) // the fake OAuth2 endpoint of GoogleCredentialsJSON: no faults, no count
		return
	}
	x := &exchange{s: s, w: w, r: r, ray: newRay(), start: time.Now()}
	// Read the whole body first: faults act after the request arrived, and
	// net/http only notices a client going away once the body is drained.
	x.body, _ = io.ReadAll(io.LimitReader(r.Body, maxBody))
	id, rest := splitPrefix(r.URL.Path)
	o := s.originFor(id, rest)
	if o != nil {
		x.provider, x.rest = id, rest
	}
	s.count(x.provider)
	f, tlsDue := s.match(x.provider, scopeOf(x.r.Method))
	x.closeConn = tlsDue && s.isTLS
	if f.Delay > 0 && !s.wait(r, f.Delay) {
		panic(http.ErrAbortHandler) // the client left or the server is closing
	}
	s.apply(x, o, f)
}

// apply answers x as fault f says.
func (s *Server) apply(x *exchange, o origin, f Fault) {
	k := f.Kind
	if _, ok := cfErrors[k]; ok {
		s.write(x, s.cfPage(x, k, f.Format))
		return
	}
	switch k {
	case Healthy, TLSHandshakeFailure:
		s.healthy(x, o)
	case CF502Unbranded, CF504Unbranded:
		s.write(x, s.cfUnbranded(x, k))
	case CFChallenge:
		s.write(x, s.cfChallenge(x))
	case OpenAICFBadGateway, OpenAICFGatewayTimeout:
		s.write(x, s.openAICFJSON(x, k))
	case GFE500, GFE502, GFE503, GFE504:
		s.write(x, s.gfePage(x, k))
	case HTML200:
		s.write(x, s.html200(x))
	case Envoy503:
		s.write(x, s.envoy503(x))
	case ResetBeforeHeaders:
		s.hangUp(x, true)
	case CloseBeforeHeaders:
		s.hangUp(x, false)
	case StallBeforeHeaders:
		s.block(x.r)
		panic(http.ErrAbortHandler) // close without a response
	case StallMidStream, ErrorEventMidStream, CutMidStream:
		s.streamFault(x, o, k)
	default: // origin errors
		if o == nil {
			s.write(x, s.notFoundPlain(x))
			return
		}
		s.carry(x, o.fail(x, k))
	}
}

// healthy is the normal answer, an event stream included.
func (s *Server) healthy(x *exchange, o origin) {
	if o == nil {
		s.write(x, s.notFoundPlain(x))
		return
	}
	rep := o.answer(x)
	if rep.events == nil {
		s.carry(x, rep.response)
		return
	}
	s.writeStream(x, rep, len(rep.events))
}

// carry writes an origin's response with the configured edge's headers.
func (s *Server) carry(x *exchange, resp response) {
	s.stampEdge(resp.header, x.ray)
	s.write(x, resp)
}

// write sends a complete response with its own headers.
func (s *Server) write(x *exchange, resp response) {
	h := x.w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	h.Set("Content-Length", fmt.Sprint(len(resp.body)))
	if x.closeConn {
		h.Set("Connection", "close")
	}
	x.w.WriteHeader(resp.status)
	_, _ = x.w.Write(resp.body)
}
