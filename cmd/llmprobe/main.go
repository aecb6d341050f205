// Command llmprobe probes LLM provider APIs from a region and tells who
// failed: the CDN edge, the provider's origin, the network path, or the probe.
//
// Subcommands: run, check, generate, demo, providers, version. Each lives in
// its own file and is a function of (ctx, args, stdout, stderr) that turns
// flags and the environment into one call of the package that does the work
// (probe, probe/worker, probe/demo, slo, dashboards), so tests run them
// without a process. Settings come from the process environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/llmprobe/llmprobe/probe/worker"
)

// Exit statuses (contract for `check`; the other subcommands follow it).
const (
	exitOK     = 0
	exitFailed = 1 // the probe ran and failed
	exitUsage  = 2 // usage or configuration error
)

// usageError marks an error caused by bad flags, variables or files: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errFailed marks a command that ran to the end and reports failure: exit 1.
var errFailed = errors.New("failed")

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"run":       {"run the regional worker: probe every provider on a schedule, serve /metrics and the status page", runWorker},
		"check":     {"probe one provider once and print the result", runCheck},
		"generate":  {"write the Prometheus rules, Alertmanager config and Grafana dashboards", runGenerate},
		"demo":      {"replay scripted incidents against loopback fakes, offline", runDemo},
		"providers": {"list the provider catalog", runProviders},
		"version":   {"print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and maps its error to an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "llmprobe: unknown command %q\n", args[0])
		printUsage(stderr, cmds)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errFailed):
		return exitFailed
	case errors.As(err, new(usageError)), errors.As(err, new(*worker.ConfigError)):
		fmt.Fprintf(stderr, "llmprobe %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "llmprobe %s: %v\n", args[0], err)
		return exitFailed
	}
}

// parseFlags parses a subcommand's flags and rejects stray arguments. It
// returns errHelp for -h, which the caller turns into a clean exit.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// errHelp ends a subcommand that printed its usage on -h: exit 0.
var errHelp = errors.New("help printed")

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: llmprobe <command> [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'llmprobe <command> -h' for the flags of a command.\n")
	io.WriteString(w, b.String())
}
