package testkit

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// GoldenPath names the golden file of a generated file for a test case:
// testdata/<case>.<base>.golden.<ext>, e.g. a case "default" of
// prometheus/rules/llmprobe-sli.rules.yml is
// testdata/default.llmprobe-sli.rules.golden.yml.
func GoldenPath(testCase, file string) string {
	base := path.Base(file)
	ext := path.Ext(base)
	return filepath.Join("testdata", testCase+"."+strings.TrimSuffix(base, ext)+".golden"+ext)
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is set (each test package's -update flag). A difference
// names the first line that differs; the message says how to refresh.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test with -update and review the diff)\n%s", path, FirstDiff(got, want))
	}
}

// FirstDiff shows the first line where got and want differ.
func FirstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}
