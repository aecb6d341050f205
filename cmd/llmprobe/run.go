package main

import (
	"context"
	"errors"
	"io"
)

func runWorker(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	return errors.New("run: not built yet")
}
