package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe/demo"
)

// runDemo is `llmprobe demo`: scripted incidents replayed offline against
// loopback fakes (package demo). With --serve it only serves the fakes and
// their fault-injection API.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	serve := fs.Bool("serve", false, "serve the fake providers only, until interrupted")
	var so demo.ServeOptions
	fs.StringVar(&so.CloudflareListen, "cloudflare-listen", "127.0.0.1:8081", "address of the simulated Cloudflare edge (openai, anthropic and the other OpenAI-compatible ids)")
	fs.StringVar(&so.GoogleListen, "google-listen", "127.0.0.1:8082", "address of the simulated Google Front End (gemini)")
	fs.StringVar(&so.AdminListen, "admin-listen", "127.0.0.1:8080", "address of the fault-injection API")
	fs.BoolVar(&so.TLS, "tls", false, "serve HTTPS with a CA made at start")
	fs.StringVar(&so.CAOut, "ca-out", "", "with --tls, write the CA certificate (PEM) to this file")
	fs.StringVar(&so.Key, "key", "demo-key", "the API key the fake origins accept")
	hosts := fs.String("hosts", "", "extra comma-separated host names for the TLS certificate (e.g. compose service names)")
	var o demo.Options
	fs.StringVar(&o.Scenarios, "scenario", "all", "scenarios to play, comma-separated, or all (see --list-scenarios)")
	list := fs.Bool("list-scenarios", false, "list the scenarios and exit")
	fs.Float64Var(&o.Speed, "speed", 60, "incident time per real time (60: an incident minute takes a second; 0: as fast as the machine goes)")
	fs.DurationVar(&o.Interval, "interval", 30*time.Second, "probe interval of the demo workers, in incident time")
	output := fs.String("output", "text", "text (the narrative) or json (one object per scenario, then exit)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:9469", "address of the first region's worker; the others take the next ports (port 0: any free port)")
	fs.BoolVar(&o.Exit, "exit", false, "exit when the scenarios end instead of serving until interrupted")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: llmprobe demo [--scenario NAME] [--list-scenarios] [--serve]\n\nReplays scripted incidents, among them the 2026 outages on the public record, against fake\nproviders on loopback, with a worker per region on an incident clock; the generated rules and\nAlertmanager routing run on their samples. Prints the verdicts and every page as it happens.\nOffline: nothing leaves 127.0.0.1.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *output {
	case "text":
	case "json":
		o.JSON, o.Exit = true, true // a pipe wants its end
	default:
		return usagef("--output: %q is not text or json", *output)
	}
	switch {
	case *list:
		demo.ListScenarios(stdout)
		return nil
	case *serve:
		for _, h := range strings.Split(*hosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				so.Hosts = append(so.Hosts, h)
			}
		}
		return demo.Serve(ctx, so, stdout)
	}
	if err := demo.Run(ctx, o, stdout, stderr); errors.Is(err, demo.ErrWrongVerdict) {
		return errFailed
	} else {
		return err
	}
}
