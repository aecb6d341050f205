package probe

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
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

// streamState is what a stream showed so far, fed event by event.
type streamState struct {
	events   int
	content  strings.Builder
	usage    Usage
	finished bool      // a finish reason or final delta seen
	done     bool      // the terminal event seen: [DONE] or message_stop
	err      *APIError // an error event after the 200
}

// feed interprets one event in the API's stream schema.
func (st *streamState) feed(api API, ev sseEvent) {
	st.events++
	data := bytes.TrimSpace(ev.data)
	if ev.name == "error" {
		st.setError(data)
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
					Content          string `json:"content"`
					ReasoningContent string `json:"reasoning_content"`
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
			if c.FinishReason != nil && *c.FinishReason != "" {
				st.finished = true
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
				Type string `json:"type"`
				Text string `json:"text"`
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
// reason followed by a clean end of body.
func (st *streamState) complete(api API, cleanEOF bool) bool {
	if st.done {
		return true
	}
	if api == APIGemini || api == APIOpenAI || api == APIAzure {
		// Gemini has no terminal event; some OpenAI-compatible servers end
		// after the finish reason without [DONE].
		return st.finished && cleanEOF
	}
	return false
}
