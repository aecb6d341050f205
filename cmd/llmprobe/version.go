package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and revision are set at link time (-ldflags "-X main.version=...");
// otherwise they come from the module's build information.
var (
	version  = ""
	revision = ""
)

// buildVersion returns the version, VCS revision and Go version of this binary.
func buildVersion() (v, rev, goVersion string) {
	v, rev = version, revision
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	if rev == "" {
		rev = "unknown"
	}
	return v, rev, runtime.Version()
}

func runVersion(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usagef("version takes no arguments, got %q", args[0])
	}
	v, rev, gv := buildVersion()
	fmt.Fprintf(stdout, "llmprobe %s (revision %s, %s)\n", v, rev, gv)
	return nil
}
