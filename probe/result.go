package probe

import (
	"encoding/json"
	"math"
	"time"
)

// Timings are the phases of one exchange. A phase that did not happen is 0.
type Timings struct {
	DNS      time.Duration // name lookup
	Connect  time.Duration // TCP connect
	TLS      time.Duration // TLS handshake
	TTFB     time.Duration // request written to first response byte
	TTFT     time.Duration // request written to first content token (stream)
	Transfer time.Duration // first byte to end of body
	Total    time.Duration // the whole probe
}

// timingsJSON is the contract form of Timings: milliseconds as numbers.
type timingsJSON struct {
	DNS      float64 `json:"dns_ms"`
	Connect  float64 `json:"connect_ms"`
	TLS      float64 `json:"tls_ms"`
	TTFB     float64 `json:"ttfb_ms"`
	TTFT     float64 `json:"ttft_ms"`
	Transfer float64 `json:"transfer_ms"`
	Total    float64 `json:"total_ms"`
}

// MarshalJSON writes the contract form.
func (t Timings) MarshalJSON() ([]byte, error) {
	return json.Marshal(timingsJSON{Milliseconds(t.DNS), Milliseconds(t.Connect), Milliseconds(t.TLS), Milliseconds(t.TTFB), Milliseconds(t.TTFT), Milliseconds(t.Transfer), Milliseconds(t.Total)})
}

// UnmarshalJSON reads the contract form back.
func (t *Timings) UnmarshalJSON(b []byte) error {
	var v timingsJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Timings{fromMS(v.DNS), fromMS(v.Connect), fromMS(v.TLS), fromMS(v.TTFB), fromMS(v.TTFT), fromMS(v.Transfer), fromMS(v.Total)}
	return nil
}

// Milliseconds is d in milliseconds rounded to the microsecond: the unit of
// every timing in the check JSON, the status API and the logs.
func Milliseconds(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
func fromMS(f float64) time.Duration {
	return time.Duration(f * 1e6)
}

// RateLimit is the headroom the provider reported on the response, nil
// where it reported none.
type RateLimit struct {
	Requests *float64 `json:"requests,omitempty"`
	Tokens   *float64 `json:"tokens,omitempty"`
}

// Result is what one probe found, in the `llmprobe check --output json`
// contract shape (DESIGN.md). Fields past StartedAt are additions.
type Result struct {
	Provider   string    `json:"provider"`
	Check      Kind      `json:"check"`
	Model      string    `json:"model"`
	Region     string    `json:"region"`
	Outcome    Outcome   `json:"outcome"`
	Reason     Reason    `json:"reason"`
	StatusCode int       `json:"status_code"`
	Edge       string    `json:"edge"`
	EdgePOP    string    `json:"edge_pop,omitempty"`
	AuthoredBy string    `json:"authored_by"`
	RequestID  string    `json:"request_id"`
	EdgeRay    string    `json:"edge_ray"`
	Timings    Timings   `json:"timings"`
	Error      string    `json:"error"`
	StartedAt  time.Time `json:"started_at"`

	Tokens Usage `json:"tokens"`
	// OriginProcessing is the provider's own reported processing time
	// (openai-processing-ms); EdgeOverhead is TTFB minus it.
	OriginProcessing time.Duration `json:"-"`
	EdgeOverhead     time.Duration `json:"-"`
	RetryAfter       time.Duration `json:"-"`
	RateLimit        RateLimit     `json:"ratelimit_remaining"`
	Answer           string        `json:"answer,omitempty"`
	CanaryOK         *bool         `json:"canary_ok,omitempty"`
	TraceID          string        `json:"trace_id,omitempty"`
	// Phases are the phases with their wall-clock bounds, for the trace.
	Phases []PhaseSpan `json:"-"`

	// Canceled is set when the caller's context ended the probe (shutdown),
	// not the probe's own timeout: such a result says nothing about the
	// provider and must not be counted.
	Canceled bool `json:"-"`
}

// MarshalJSON adds the duration extras in milliseconds and seconds.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		StartedAt          string  `json:"started_at"`
		OriginProcessingMS float64 `json:"origin_processing_ms,omitempty"`
		EdgeOverheadMS     float64 `json:"edge_overhead_ms,omitempty"`
		RetryAfterS        float64 `json:"retry_after_s,omitempty"`
	}{plain(r), r.StartedAt.UTC().Format(time.RFC3339Nano), Milliseconds(r.OriginProcessing), Milliseconds(r.EdgeOverhead), r.RetryAfter.Seconds()})
}

// Success reports whether the probe succeeded.
func (r Result) Success() bool { return r.Outcome == OutcomeSuccess }
