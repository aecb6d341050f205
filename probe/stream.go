package probe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// sseEvent is one server-sent event: its type and its joined data lines.
type sseEvent struct {
	name string
	data []byte
}

// errLineTooLong reports an SSE line longer than the body cap.
var errLineTooLong = errors.New("sse: line exceeds body limit")

// sseReader splits a text/event-stream body into events
// (https://html.spec.whatwg.org/multipage/server-sent-events.html): field
// lines up to a blank line, comments (":" lines, e.g. DeepSeek's keep-alive)
// skipped, CRLF accepted.
type sseReader struct {
	r     *bufio.Reader
	limit int
}

func newSSEReader(r io.Reader, limit int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 4096), limit: limit}
}

// next returns the next event; io.EOF after the last complete one.
func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var data [][]byte
	pending := false
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && pending {
				// a final event without its blank line: the stream was cut
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		if len(line) == 0 {
			if !pending {
				continue
			}
			ev.data = bytes.Join(data, []byte("\n"))
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.name = string(value)
			pending = true
		case "data":
			data = append(data, append([]byte(nil), value...))
			pending = true
		}
	}
}

func (s *sseReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > s.limit {
			return nil, errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

// eventSource yields a stream's events: SSE, or AWS event-stream frames.
type eventSource interface {
	next() (sseEvent, error)
}

// awsEventReader reads application/vnd.amazon.eventstream frames (Bedrock's
// ConverseStream) with the AWS SDK's decoder. An event becomes an sseEvent
// named by its :event-type; an exception is named "exception:<type>".
type awsEventReader struct {
	r   io.Reader
	dec *eventstream.Decoder
}

func newAWSEventReader(r io.Reader) *awsEventReader {
	return &awsEventReader{r: r, dec: eventstream.NewDecoder()}
}

func (a *awsEventReader) next() (sseEvent, error) {
	m, err := a.dec.Decode(a.r, nil)
	if err != nil {
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return sseEvent{}, io.EOF
		}
		return sseEvent{}, io.ErrUnexpectedEOF
	}
	header := func(name string) string {
		if v := m.Headers.Get(name); v != nil {
			return v.String()
		}
		return ""
	}
	ev := sseEvent{name: header(":event-type"), data: m.Payload}
	if t := header(":message-type"); t == "exception" || t == "error" {
		ev.name = "exception:" + firstNonEmpty(header(":exception-type"), header(":error-code"))
	}
	return ev, nil
}

// streamState is what a stream showed so far, fed event by event.
type streamState struct {
	events   int
	content  strings.Builder
	usage    Usage
	finished bool      // a finish reason or final delta seen
	done     bool      // the terminal event seen: [DONE], message_stop, Bedrock's metadata
	err      *APIError // an error event after the 200
	finish   string    // the stop reason, lower-cased
	refused  bool      // a refusal or prompt block
}

// feed interprets one event in the API's stream schema.
func (st *streamState) feed(api API, ev sseEvent) {
	st.events++
	data := bytes.TrimSpace(ev.data)
	if ev.name == "error" {
		st.setError(data)
		return
	}
	if t, ok := strings.CutPrefix(ev.name, "exception:"); ok {
		st.setError(data)
		st.err.AWSType = awsErrorType(t)
		return
	}
	switch api {
	case APIOpenAI, APIAzure:
		if string(data) == "[DONE]" {
			st.done = true
			return
		}
		var v struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
					Refusal string `json:"refusal"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if len(v.Error) > 0 && string(v.Error) != "null" {
			st.setError(data)
			return
		}
		for _, c := range v.Choices {
			st.content.WriteString(c.Delta.Content)
			if c.Delta.Refusal != "" {
				st.refused = true
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				st.finished = true
				st.finish = strings.ToLower(*c.FinishReason)
			}
		}
		if v.Usage != nil {
			st.usage = Usage{v.Usage.Prompt, v.Usage.Completion}
		}
	case APIAnthropic:
		var v struct {
			Type    string `json:"type"`
			Message struct {
				Usage struct {
					Input  int `json:"input_tokens"`
					Output int `json:"output_tokens"`
				} `json:"usage"`
			} `json:"message"`
			Delta struct {
				Type       string `json:"type"`
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage struct {
				Output int `json:"output_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		switch v.Type {
		case "message_start":
			st.usage.Input = v.Message.Usage.Input
			st.usage.Output = v.Message.Usage.Output
		case "content_block_delta":
			st.content.WriteString(v.Delta.Text)
		case "message_delta":
			st.finished = true
			if v.Delta.StopReason != "" {
				st.finish = strings.ToLower(v.Delta.StopReason)
			}
			if v.Usage.Output > 0 {
				st.usage.Output = v.Usage.Output
			}
		case "message_stop":
			st.done = true
		case "error":
			st.setError(data)
		}
	case APIGemini:
		var v geminiChunk
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if v.Error != nil {
			st.setError(data)
			return
		}
		st.content.WriteString(v.text())
		if u := v.usage(); u != (Usage{}) {
			st.usage = u
		}
		if v.finished() {
			st.finished = true
			st.finish = v.finishReason()
		}
		if v.blocked() {
			st.refused = true
		}
	case APIBedrock:
		var v struct {
			Delta struct {
				Text string `json:"text"`
			} `json:"delta"`
			StopReason string `json:"stopReason"`
			Usage      *struct {
				Input  int `json:"inputTokens"`
				Output int `json:"outputTokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		switch ev.name {
		case "contentBlockDelta":
			st.content.WriteString(v.Delta.Text)
		case "messageStop":
			st.finished = true
			st.finish = strings.ToLower(v.StopReason)
		case "metadata":
			if v.Usage != nil {
				st.usage = Usage{v.Usage.Input, v.Usage.Output}
			}
			st.done = true // ConverseStream's last event
		}
	}
}

func (st *streamState) setError(data []byte) {
	e, ok := parseAPIError(data)
	if !ok {
		e = APIError{Message: strings.TrimSpace(string(data))}
	}
	st.err = &e
}

// complete reports whether the stream ended the way its API ends streams:
// OpenAI with [DONE], Anthropic with message_stop, Gemini with a finish
// reason followed by a clean end of body, Bedrock with its metadata event.
func (st *streamState) complete(api API, cleanEOF bool) bool {
	if st.done {
		return true
	}
	if api == APIGemini || api == APIOpenAI || api == APIAzure || api == APIBedrock {
		// Gemini has no terminal event; some OpenAI-compatible servers end
		// after the finish reason without [DONE].
		return st.finished && cleanEOF
	}
	return false
}
