// Package demo replays scripted incidents offline: providertest fakes behind
// a simulated Cloudflare edge and Google Front End, a worker (package
// worker) in each of three regions reaching them through relays the demo
// can cut (a region's network failure), and scenarios told in incident time
// whose phases say what the probes should conclude. Run plays them and
// checks every verdict; Serve runs the fakes alone with a fault-injection
// API, for the compose stack and benchmarks.
//
// scenarios.go holds the incidents, play.go the player and its checks,
// net.go the cuttable relays, serve.go the fakes and the fault API.
package demo
