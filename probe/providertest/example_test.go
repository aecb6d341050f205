package providertest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/llmprobe/llmprobe/probe/providertest"
)

// A Cloudflare 522 for the next OpenAI request, then the healthy origin.
// Both carry server: cloudflare; only the origin's answer has x-request-id.
func Example_faultInjection() {
	srv := providertest.NewServer(providertest.Options{})
	defer srv.Close()

	srv.InjectN("openai", providertest.Fault{Kind: providertest.CF522}, 1)
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.BaseURL("openai")+"/models", nil)
		req.Header.Set("Authorization", "Bearer test-key")
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Server"), resp.Header.Get("X-Request-Id") != "")
	}
	fmt.Println(srv.Requests("openai"), "requests")
	// Output:
	// 522 cloudflare false
	// 200 cloudflare true
	// 2 requests
}

// A keyless reach check against the fake Anthropic API over HTTPS: the
// origin's own 401 JSON proves edge and origin answer.
func ExampleNewTLSServer() {
	srv := providertest.NewTLSServer(providertest.Options{})
	defer srv.Close()

	resp, err := srv.Client().Get(srv.BaseURL("anthropic") + "/v1/models")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var body struct {
		Error struct{ Type, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, body.Error.Type+":", body.Error.Message)
	fmt.Println(strings.HasPrefix(string(srv.CACertPEM()), "-----BEGIN CERTIFICATE-----"))
	// Output:
	// 401 authentication_error: x-api-key header is required
	// true
}
