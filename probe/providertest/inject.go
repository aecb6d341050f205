package providertest

import (
	"fmt"
	"math"
	"time"
)

// rule is one injected fault. Rules live in Server.rules, oldest first, and
// are read newest first; s.mu guards them.
type rule struct {
	provider string // "" matches every provider
	fault    Fault
	left     int       // InjectN: requests still to serve; -1 = unlimited
	seen     int       // matching requests so far, for Fault.Share
	from     time.Time // InjectFor: window start (Options.Now at injection)
	until    time.Time // InjectFor: window end, exclusive; zero = no window
}

// active reports whether r still applies at now.
func (r *rule) active(now time.Time) bool {
	if r.left == 0 {
		return false
	}
	if !r.until.IsZero() && (now.Before(r.from) || !now.Before(r.until)) {
		return false
	}
	return true
}

func (r *rule) matches(provider string, scope Scope) bool {
	return (r.provider == "" || r.provider == provider) && (r.fault.Scope == ScopeAll || r.fault.Scope == scope)
}

// Scope narrows a fault to one part of an API, so an incident can take
// inference down while the control plane (model listing, the reach path)
// still answers, as in a staged recovery.
type Scope string

const (
	ScopeAll       Scope = ""          // every request
	ScopeInference Scope = "inference" // completions: the POSTs of chat and stream checks
	ScopeModels    Scope = "models"    // model listing: the GETs of reach checks
)

// ParseScope reads a scope name ("", "all", "inference", "models").
func ParseScope(s string) (Scope, error) {
	switch s {
	case "", "all":
		return ScopeAll, nil
	case string(ScopeInference), string(ScopeModels):
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q (want all, inference or models)", s)
}

// scopeOf says which part of an API a request is for.
func scopeOf(method string) Scope {
	if method == "GET" {
		return ScopeModels
	}
	return ScopeInference
}

// Inject applies f to every following request of provider ("" = every
// provider, unknown path prefixes included) until Clear.
func (s *Server) Inject(provider string, f Fault) {
	s.addRule(&rule{provider: provider, fault: f, left: -1})
}

// InjectN applies f to the next n requests of provider. For
// tls_handshake_failure, n counts refused handshakes. n <= 0 does nothing.
func (s *Server) InjectN(provider string, f Fault, n int) {
	if n <= 0 {
		return
	}
	s.addRule(&rule{provider: provider, fault: f, left: n})
}

// InjectFor applies f to requests of provider that arrive in
// [now, now+d), time read from Options.Now. The window is judged when each
// request arrives, so a fake clock moved past it ends the fault.
func (s *Server) InjectFor(provider string, f Fault, d time.Duration) {
	now := s.now()
	s.addRule(&rule{provider: provider, fault: f, left: -1, from: now, until: now.Add(d)})
}

// Clear removes every fault.
func (s *Server) Clear() {
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
}

func (s *Server) addRule(r *rule) {
	s.mu.Lock()
	s.rules = append(s.rules, r)
	s.mu.Unlock()
	if r.fault.Kind == TLSHandshakeFailure && s.client != nil {
		// Client's kept-alive connections finished their handshake before
		// the fault existed; drop them so its next request dials and meets
		// the failing handshake. Other clients' connections get one more
		// answer, marked Connection: close (see match).
		s.client.CloseIdleConnections()
	}
}

// match returns the fault for one HTTP request of provider: the newest
// active rule that names it, consuming one use of an InjectN rule.
// tls_handshake_failure rules are skipped (they act in the listener); tlsDue
// reports that one is active, so the caller can end the connection after
// this response and let the next request meet the failing handshake.
func (s *Server) match(provider string, scope Scope) (f Fault, tlsDue bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var hit *rule
	for i := len(s.rules) - 1; i >= 0; i-- {
		r := s.rules[i]
		if !r.active(now) {
			continue
		}
		if r.fault.Kind == TLSHandshakeFailure {
			tlsDue = true
			continue
		}
		if hit == nil && r.matches(provider, scope) {
			hit = r
		}
	}
	if hit == nil {
		return Fault{}, tlsDue
	}
	if sh := hit.fault.Share; sh > 0 && sh < 1 {
		hit.seen++
		if math.Floor(sh*float64(hit.seen)) == math.Floor(sh*float64(hit.seen-1)) {
			return Fault{}, tlsDue // this one goes through: the failure is intermittent
		}
	}
	if hit.left > 0 {
		hit.left--
	}
	return hit.fault, tlsDue
}

// matchHandshake is the listener's question for one accepted connection:
// the path, hence the provider, is unknown before the handshake, so any
// active tls_handshake_failure rule applies, whichever provider it names.
func (s *Server) matchHandshake() (Fault, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.rules) - 1; i >= 0; i-- {
		r := s.rules[i]
		if r.fault.Kind != TLSHandshakeFailure || !r.active(now) {
			continue
		}
		if r.left > 0 {
			r.left--
		}
		return r.fault, true
	}
	return Fault{}, false
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}
