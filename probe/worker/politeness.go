package worker

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/llmprobe/llmprobe/probe"
)

// Politeness keeps the probe from adding to a thundering herd: after a 429
// or 529 a check backs off (retry-after honoured, exponential with jitter,
// capped at a few intervals), and a provider's daily request and token
// budgets stop its inference checks when spent (reach goes on).
// It is safe for concurrent use.
type Politeness struct {
	Interval      time.Duration
	MaxBackoff    time.Duration // default 5 intervals
	DailyRequests int64         // per provider, chat and stream; 0 = unlimited
	DailyTokens   int64         // per provider, input + output; 0 = unlimited
	// Jitter returns a number in [0,1); default math/rand/v2.
	Jitter func() float64

	mu      sync.Mutex
	backoff map[string]*backoffState
	budgets map[string]*budgetState
}

type backoffState struct {
	strikes int
	until   time.Time
	reason  probe.Reason
}

type budgetState struct {
	day      string // UTC date the counters belong to
	requests int64
	tokens   int64
}

// BackoffState is a check's back-off, for the status API.
type BackoffState struct {
	Active  bool         `json:"active"`
	Until   time.Time    `json:"until,omitzero"`
	Strikes int          `json:"strikes"`
	Reason  probe.Reason `json:"reason,omitempty"`
}

// BudgetState is a provider's daily budget, for the status API.
type BudgetState struct {
	Requests      int64 `json:"requests"`
	Tokens        int64 `json:"tokens"`
	RequestBudget int64 `json:"request_budget"`
	TokenBudget   int64 `json:"token_budget"`
	Spent         bool  `json:"spent"`
}

func checkKey(c probe.Check) string { return c.Name() + "@" + c.Region }

// Allow says whether c may probe now. A false answer names why: the check is
// backing off, or its provider's daily budget is spent. An allowed inference
// probe is charged to the budget at once, so concurrent checks cannot
// overshoot it.
func (p *Politeness) Allow(c probe.Check, now time.Time) (bool, string) {
	if p == nil {
		return true, ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.backoff[checkKey(c)]; b != nil && now.Before(b.until) {
		return false, probe.SkipReasonBackoff
	}
	if c.Kind == probe.KindReach {
		return true, ""
	}
	b := p.budgetLocked(c.Provider.ID, now)
	if p.spentLocked(b) {
		return false, probe.SkipReasonBudget
	}
	b.requests++
	return true, ""
}

// Observe updates back-off and budget from a finished probe and returns the
// time until which the check backs off (zero when it does not).
func (p *Politeness) Observe(c probe.Check, r probe.Result, now time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Kind != probe.KindReach {
		b := p.budgetLocked(c.Provider.ID, now)
		b.tokens += int64(r.Tokens.Input + r.Tokens.Output)
	}
	if p.backoff == nil {
		p.backoff = map[string]*backoffState{}
	}
	key := checkKey(c)
	if !needsBackoff(r) {
		delete(p.backoff, key)
		return time.Time{}
	}
	st := p.backoff[key]
	if st == nil {
		st = &backoffState{}
		p.backoff[key] = st
	}
	st.strikes++
	st.reason = r.Reason
	st.until = now.Add(p.backoffFor(st.strikes, r.RetryAfter))
	return st.until
}

// needsBackoff: a 429 or 529, or any overload or rate-limit verdict.
func needsBackoff(r probe.Result) bool {
	switch r.Reason {
	case probe.ReasonOverloaded, probe.ReasonRateLimited, probe.ReasonEdgeRateLimited:
		return true
	}
	return r.StatusCode == 429 || r.StatusCode == 529
}

// backoffFor is 2^strikes intervals, jittered down by up to half, never less
// than retry-after, and capped.
func (p *Politeness) backoffFor(strikes int, retryAfter time.Duration) time.Duration {
	maxB := p.MaxBackoff
	if maxB <= 0 {
		maxB = 5 * p.Interval
	}
	exp := p.Interval
	for i := 0; i < strikes && exp < maxB; i++ {
		exp *= 2
	}
	jitter := p.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	d := exp/2 + time.Duration(jitter()*float64(exp/2))
	d = max(d, retryAfter)
	return min(d, maxB)
}

// Backoff reports a check's back-off state at now.
func (p *Politeness) Backoff(c probe.Check, now time.Time) BackoffState {
	if p == nil {
		return BackoffState{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.backoff[checkKey(c)]
	if b == nil {
		return BackoffState{}
	}
	return BackoffState{Active: now.Before(b.until), Until: b.until, Strikes: b.strikes, Reason: b.reason}
}

// Budget reports a provider's daily budget at now.
func (p *Politeness) Budget(provider string, now time.Time) BudgetState {
	if p == nil {
		return BudgetState{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.budgetLocked(provider, now)
	return BudgetState{Requests: b.requests, Tokens: b.tokens, RequestBudget: p.DailyRequests, TokenBudget: p.DailyTokens, Spent: p.spentLocked(b)}
}

// Remaining returns what is left of a provider's budget (-1 = unlimited).
func (s BudgetState) Remaining() (requests, tokens float64) {
	requests, tokens = -1, -1
	if s.RequestBudget > 0 {
		requests = float64(max(s.RequestBudget-s.Requests, 0))
	}
	if s.TokenBudget > 0 {
		tokens = float64(max(s.TokenBudget-s.Tokens, 0))
	}
	return requests, tokens
}

func (p *Politeness) budgetLocked(provider string, now time.Time) *budgetState {
	if p.budgets == nil {
		p.budgets = map[string]*budgetState{}
	}
	day := now.UTC().Format(time.DateOnly)
	b := p.budgets[provider]
	if b == nil || b.day != day {
		b = &budgetState{day: day}
		p.budgets[provider] = b
	}
	return b
}

func (p *Politeness) spentLocked(b *budgetState) bool {
	return p.DailyRequests > 0 && b.requests >= p.DailyRequests || p.DailyTokens > 0 && b.tokens >= p.DailyTokens
}
