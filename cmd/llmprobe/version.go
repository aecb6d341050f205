package main

import (
	"context"
	"fmt"
	"io"

	"github.com/llmprobe/llmprobe/internal/buildinfo"
)

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usagef("version takes no arguments, got %q", args[0])
	}
	b := buildinfo.Get()
	fmt.Fprintf(stdout, "llmprobe %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return nil
}
