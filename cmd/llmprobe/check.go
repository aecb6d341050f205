package main

import (
	"context"
	"errors"
	"io"
)

func runCheck(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	return errors.New("check: not built yet")
}
