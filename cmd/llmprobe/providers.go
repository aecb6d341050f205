package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/llmprobe/llmprobe/probe"
)

// runProviders is `llmprobe providers`: the catalog as a table (or JSON),
// and with --reasons the documented reason list as a Markdown table.
func runProviders(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("providers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("output", "text", "text or json")
	reasons := fs.Bool("reasons", false, "print the outcome and reason list (Markdown) instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return usagef("--output: %q is not text or json", *output)
	}
	if *reasons {
		_, err := io.WriteString(stdout, reasonTable())
		return err
	}
	var list []probe.Provider
	for _, id := range probe.KnownIDs(os.Getenv) {
		p, err := probe.ResolveProvider(id, os.Getenv)
		if err != nil {
			return usageError{err}
		}
		list = append(list, p)
	}
	if *output == "json" {
		type row struct {
			ID, Name, API, BaseURL, KeyEnv, DefaultModel, Edge, StatusPage string
			KeySet                                                         bool
		}
		var rows []row
		for _, p := range list {
			rows = append(rows, row{p.ID, p.Name, string(p.API), p.BaseURL, p.KeyEnv, p.DefaultModel, p.Edge, p.StatusPage, os.Getenv(p.KeyEnv) != ""})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tAPI\tBASE URL\tKEY VARIABLE\tDEFAULT MODEL\tEDGE\tSTATUS PAGE")
	for _, p := range list {
		key := p.KeyEnv
		switch p.Credentials {
		case probe.CredentialsAWS:
			key = "AWS default chain"
		case probe.CredentialsGoogle:
			key = "Google ADC"
		default:
			if os.Getenv(p.KeyEnv) != "" {
				key += " (set)"
			}
		}
		base := p.BaseURL
		switch {
		case base == "" && p.API == probe.APIVertex:
			base = "(set " + probe.EnvVertexProject + ")"
		case base == "":
			base = "(set " + probe.EnvAzureResource + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.API, base, key, orDash(p.DefaultModel), p.Edge, orDash(p.StatusPage))
	}
	return tw.Flush()
}

// reasonTable renders probe.Reasons as the README's Markdown table.
func reasonTable() string {
	var b strings.Builder
	b.WriteString("| outcome | reason | meaning |\n|---|---|---|\n")
	for _, r := range probe.Reasons {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", r.Outcome, r.Reason, r.Meaning)
	}
	return b.String()
}
