package slo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An SLO file is bounded in size, in the numbers it holds and in how much
// an error about it says: a hostile or broken file gets a short, fast
// answer.

func TestParseBoundsTheSpecsNumbers(t *testing.T) {
	const v1 = "apiVersion: llmprobe/v1\n"
	for _, tc := range []struct{ name, file, want string }{
		{"int64-max regions", v1 + "regions: 9223372036854775807\n", "slo.yaml:2: regions: 9223372036854775807: want at most 1000"},
		{"a 1 ms probe interval", v1 + "probeInterval: 1ms\n", "slo.yaml:2: probeInterval: 1ms is outside 1s to 1d, the range of LLMPROBE_INTERVAL"},
		{"a probe interval of a week", v1 + "probeInterval: 7d\n", "slo.yaml:2: probeInterval: 7d is outside 1s to 1d"},
		{"an absurd minimum of failed probes", v1 + "minFailedProbes: 9223372036854775807\n", "minFailedProbes: 9223372036854775807: want at most 1000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), "slo.yaml", DefaultProfile())
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an invalid spec saying %q", err, tc.want)
			}
		})
	}
}

func TestParseListsAtMostTwentyProblemsAndCountsTheRest(t *testing.T) {
	// 4,000 unknown providers: within the entry bound, so every one is a
	// problem Validate finds, and the file's index finds each one's line.
	var b strings.Builder
	b.WriteString("apiVersion: llmprobe/v1\nproviders:\n")
	for i := range 4000 {
		fmt.Fprintf(&b, "  - p%d\n", i)
	}
	_, err := Parse([]byte(b.String()), "slo.yaml", DefaultProfile())
	if !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("Parse = %v, want an invalid spec", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "unknown provider"); n != maxErrors {
		t.Errorf("the error lists %d problems, want %d", n, maxErrors)
	}
	if !strings.HasSuffix(msg, "; and 3980 more") {
		t.Errorf("the error does not count the problems it leaves out: ...%s", msg[max(0, len(msg)-80):])
	}
	if !strings.Contains(msg, "slo.yaml:3: providers[0]: unknown provider \"p0\"") || !strings.Contains(msg, "slo.yaml:22: providers[19]") {
		t.Errorf("the listed problems do not name their lines: %.300s", msg)
	}
	// The same for the decoder's type errors.
	b.Reset()
	b.WriteString("apiVersion: llmprobe/v1\n")
	for i := range 100 {
		fmt.Fprintf(&b, "unknown%d: 1\n", i)
	}
	_, err = Parse([]byte(b.String()), "slo.yaml", DefaultProfile())
	if err == nil || strings.Count(err.Error(), "unknown field") != maxErrors || !strings.HasSuffix(err.Error(), "; and 80 more") {
		t.Fatalf("100 unknown fields: %v", err)
	}
}

func TestParseRefusesASpecOfTooManyEntries(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: llmprobe/v1\nregionNames: [")
	for i := range maxSpecEntries {
		fmt.Fprintf(&b, "r%d,", i)
	}
	b.WriteString("r]\n")
	_, err := Parse([]byte(b.String()), "slo.yaml", DefaultProfile())
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "slo.yaml: 5003 fields and list items, more than the 5000") {
		t.Fatalf("Parse = %v", err)
	}
}

func TestLoadRefusesDevicesAndHugeFiles(t *testing.T) {
	if _, err := Load("/dev/zero", DefaultProfile()); err == nil || !strings.Contains(err.Error(), "/dev/zero: not a regular file") {
		t.Errorf("Load(/dev/zero) = %v, want it refused as not a regular file", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("apiVersion: llmprobe/v1\n#"+strings.Repeat("x", MaxSpecFile)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, DefaultProfile()); err == nil || !strings.Contains(err.Error(), "big.yaml: ") || !strings.Contains(err.Error(), "more than the 1048576 allowed") {
		t.Errorf("Load(a 1 MiB file) = %v, want it refused naming the file and the bound", err)
	}
}
