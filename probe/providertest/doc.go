// Package providertest runs fake LLM provider APIs behind a fake CDN edge,
// with fault injection, in the manner of net/http/httptest. Tests of the
// prober and classifier, the `llmprobe demo` command and the compose stack
// use it so that nothing reaches a real provider.
//
// One Server is one edge (Cloudflare, Google Front End, or none) that
// routes by path prefix to several origins, as Cloudflare fronts both
// OpenAI and Anthropic:
//
//	BaseURL("openai")    = URL()+"/openai/v1"   (also mistral, groq, deepseek, xai,
//	                                             openrouter and any other id: OpenAI-compatible)
//	BaseURL("anthropic") = URL()+"/anthropic"   (/v1/models, /v1/messages)
//	BaseURL("gemini")    = URL()+"/gemini"      (/v1beta/models, /v1beta/models/{m}:generateContent)
//	BaseURL("azure")     = URL()+"/azure"       (/openai/deployments/{d}/chat/completions?api-version=)
//	BaseURL("bedrock")   = URL()+"/bedrock"     (/model/{id}/converse[-stream], /async-invoke; SigV4)
//	BaseURL("vertex")    = URL()+"/vertex"      (/v1/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method})
//
// Each origin checks its provider's key header against Options.APIKey,
// answers "pong" in its own schema (streamed on request), and writes its
// own origin headers (x-request-id, request-id, apim-request-id, server:
// scaffolding on HTTPServer2, ...). A Cloudflare edge stamps server:
// cloudflare and cf-ray on every response, origin ones included: the
// headers name the carrier, not the party that failed.
//
// Faults are injected per provider with Inject, InjectN and InjectFor and
// removed with Clear. The newest active rule that names the request's
// provider (or "") wins. Edge faults answer with the pages the CDN itself
// writes (Cloudflare 5xx and 1xxx pages or RFC 9457 problem JSON, Google
// Front End pages); origin faults with the provider's own error JSON and
// headers; transport faults reset, close or stall the connection or the
// stream. FaultKinds lists them all.
//
// Obligations: whoever creates a Server must Close it (t.Cleanup(s.Close)
// in tests). Close ends every connection, stalled ones included, and waits
// for the server's goroutines, so a test that closed its server leaks
// none. A client that starts a stalled request must bound it with a
// context or timeout, or Close must run, or the request never ends.
// tls_handshake_failure only acts on TLS servers and applies to the whole
// edge, since the path is unknown before the handshake; injecting it drops
// Client's idle connections, and a connection another client kept alive
// gets one more answer (marked Connection: close) before its next dial
// meets the failing handshake. Go's http.Client
// retries an idempotent request (GET) once when a reused connection was
// reset or closed before any response; tests that count such faults should
// send POSTs or use fresh connections.
//
// The server listens on 127.0.0.1 with port 0 unless Options.Addr says
// otherwise, and speaks HTTP/1.1 only, so that faults can take over the
// connection.
package providertest
