package probe

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Usage is the token count a provider billed for one probe.
type Usage struct {
	Input  int `json:"input"`
	Output int `json:"output"`
}

// reply is a parsed 2xx completion in the API's schema.
type reply struct {
	content string
	usage   Usage
	// finish is why generation stopped, lower-cased as the API names it
	// (stop, length, max_tokens, safety, refusal, guardrail_intervened, ...).
	finish string
	// refused is set when the provider declined outright: OpenAI's
	// refusal field, Gemini's promptFeedback.blockReason.
	refused bool
}

// Verdicts of a 2xx body, by the contract: success needs generated content.
type replyKind int

const (
	replyInvalid     replyKind = iota // not the schema, or no content and nothing says why
	replyOK                           // generated text
	replyRefused                      // the model or a safety filter declined the fixed prompt
	replyOutputLimit                  // the output limit ran out before any text (reasoning used it)
)

// refusalFinishes are the stop reasons that mean a model or a safety system
// declined to answer: OpenAI/Azure content_filter, Anthropic refusal, Gemini
// SAFETY and its kin, Bedrock guardrail_intervened and content_filtered.
var refusalFinishes = map[string]bool{
	"content_filter": true, "refusal": true, "safety": true, "recitation": true, "blocklist": true,
	"prohibited_content": true, "spii": true, "image_safety": true, "guardrail_intervened": true, "content_filtered": true,
}

// limitFinishes are the stop reasons of an output limit reached.
var limitFinishes = map[string]bool{"length": true, "max_tokens": true}

// judge says what a complete reply is: text is success; no text is a
// refusal, a spent output limit, or an invalid response, by its stop reason.
// Some text with any stop reason is success (the canary judges the words).
func (r reply) judge() replyKind {
	switch {
	case strings.TrimSpace(r.content) != "":
		return replyOK
	case r.refused || refusalFinishes[r.finish]:
		return replyRefused
	case limitFinishes[r.finish]:
		return replyOutputLimit
	}
	return replyInvalid
}

// parseReply reads a non-streamed completion in the API's schema. ok is
// false when the body is not that schema at all.
func parseReply(api API, body []byte) (r reply, ok bool) {
	body = bytes.TrimSpace(body) // DeepSeek pads with blank lines while queued
	switch api {
	case APIOpenAI, APIAzure:
		var v struct {
			Choices []struct {
				Message struct {
					Content *string `json:"content"`
					Refusal *string `json:"refusal"`
				} `json:"message"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &v) != nil || len(v.Choices) == 0 {
			return r, false
		}
		c := v.Choices[0]
		if c.Message.Content != nil {
			r.content = *c.Message.Content
		}
		r.refused = c.Message.Refusal != nil && strings.TrimSpace(*c.Message.Refusal) != ""
		if c.FinishReason != nil {
			r.finish = strings.ToLower(*c.FinishReason)
		}
		r.usage = Usage{v.Usage.Prompt, v.Usage.Completion}
		return r, true
	case APIAnthropic:
		var v struct {
			Type    string `json:"type"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
			StopReason string `json:"stop_reason"`
			Usage      struct {
				Input  int `json:"input_tokens"`
				Output int `json:"output_tokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &v) != nil || v.Type != "message" {
			return r, false
		}
		for _, c := range v.Content {
			if c.Type == "" || c.Type == "text" { // thinking blocks are not the answer
				r.content += c.Text
			}
		}
		r.finish = strings.ToLower(v.StopReason)
		r.usage = Usage{v.Usage.Input, v.Usage.Output}
		return r, true
	case APIGemini:
		var v geminiChunk
		if json.Unmarshal(body, &v) != nil || len(v.Candidates) == 0 && !v.blocked() {
			return r, false
		}
		r.content, r.usage, r.finish, r.refused = v.text(), v.usage(), v.finishReason(), v.blocked()
		return r, true
	case APIBedrock:
		var v struct {
			Output *struct {
				Message struct {
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"message"`
			} `json:"output"`
			StopReason string `json:"stopReason"`
			Usage      struct {
				Input  int `json:"inputTokens"`
				Output int `json:"outputTokens"`
			} `json:"usage"`
		}
		if json.Unmarshal(body, &v) != nil || v.Output == nil {
			return r, false
		}
		for _, c := range v.Output.Message.Content {
			r.content += c.Text
		}
		r.finish = strings.ToLower(v.StopReason)
		r.usage = Usage{v.Usage.Input, v.Usage.Output}
		return r, true
	}
	return r, false
}

// geminiChunk is a generateContent response or one streamed chunk.
type geminiChunk struct {
	Candidates []struct {
		Content struct {
			Parts []struct {
				Text    string `json:"text"`
				Thought bool   `json:"thought"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *struct {
		Prompt     int `json:"promptTokenCount"`
		Candidates int `json:"candidatesTokenCount"`
		Thoughts   int `json:"thoughtsTokenCount"`
	} `json:"usageMetadata"`
	Error *json.RawMessage `json:"error"`
}

func (g geminiChunk) text() string {
	var s string
	for _, c := range g.Candidates {
		for _, p := range c.Content.Parts {
			if !p.Thought {
				s += p.Text
			}
		}
	}
	return s
}

func (g geminiChunk) usage() Usage {
	if g.UsageMetadata == nil {
		return Usage{}
	}
	return Usage{g.UsageMetadata.Prompt, g.UsageMetadata.Candidates + g.UsageMetadata.Thoughts}
}

// blocked reports a prompt the provider refused before generating
// (promptFeedback.blockReason, with no candidates).
func (g geminiChunk) blocked() bool {
	return g.PromptFeedback != nil && g.PromptFeedback.BlockReason != ""
}

func (g geminiChunk) finishReason() string {
	for _, c := range g.Candidates {
		if c.FinishReason != "" {
			return strings.ToLower(c.FinishReason)
		}
	}
	return ""
}

func (g geminiChunk) finished() bool { return g.finishReason() != "" || g.blocked() }
