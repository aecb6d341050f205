package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// origin is one fake provider application behind the edge. An origin only
// builds answers; the server decides faults, stamps edge headers and writes.
type origin interface {
	// answer is the healthy behaviour: routes, key checks, the answer (a
	// stream for a streaming request). Unknown paths get the provider's 404.
	answer(x *exchange) reply
	// fail returns an origin-authored error kind (Origin500, Quota429, ...)
	// in the provider's schema, with its origin headers.
	fail(x *exchange, kind FaultKind) response
	// errorEvent is the provider's mid-stream error event, SSE-framed.
	errorEvent(x *exchange) string
}

// exchange is one request on its way through the fake edge.
type exchange struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	provider string // the path prefix, e.g. "openai"
	rest     string // the path after "/<provider>", e.g. "/v1/models"
	body     []byte // the request body, read in full before any fault
	ray      string // Cloudflare Ray ID of this request, without the POP
	start    time.Time
	// skipAuth makes origins ignore the key: stream faults model an origin
	// that started a 200 answer, so they need the answer a good key gets.
	skipAuth bool
	// closeConn ends the connection after this response, so the client's
	// next request dials again (and meets a tls_handshake_failure rule).
	closeConn bool
}

// elapsedMS is the time the fake origin "processed" the request, Delay
// included; it feeds openai-processing-ms and Gemini's server-timing so that
// ttfb minus processing is the edge overhead.
func (x *exchange) elapsedMS() string {
	return strconv.FormatInt(time.Since(x.start).Milliseconds(), 10)
}

// response is a complete non-streaming answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// reply is an origin's healthy answer: a response, or, when events is not
// nil, a 200 event stream whose headers are in response.header.
type reply struct {
	response
	events []string // SSE events, each framed ("data: ...\n\n")
	head   int      // how many leading events cut_mid_stream and error_event_mid_stream send
}

// jsonResponse marshals v; the fake's own types never fail to marshal.
func jsonResponse(status int, h http.Header, v any) response {
	return response{status: status, header: h, body: mustJSON(v)}
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<" and "&" as providers send them
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("providertest: marshal %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// sseData frames one JSON payload as an unnamed SSE event.
func sseData(v any) string {
	return "data: " + string(mustJSON(v)) + "\n\n"
}

// decodeBody parses a JSON request body into v.
func decodeBody(x *exchange, v any) error {
	if len(bytes.TrimSpace(x.body)) == 0 {
		return fmt.Errorf("empty body")
	}
	return json.Unmarshal(x.body, v)
}

const (
	hexDigits = "0123456789abcdef"
	base58    = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	alnum     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// randFrom returns n characters drawn from alphabet. IDs need to look real
// and differ, not to be unpredictable.
func randFrom(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

func uuid4() string {
	h := randFrom(hexDigits, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// maskKey shows a wrong key the way OpenAI's error does, never in full.
func maskKey(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:3] + "*****" + k[len(k)-4:]
}

// Fixed token counts of the fake answer "pong".
const (
	promptTokens = 9
	outputTokens = 1
	answerText   = "pong"
)
