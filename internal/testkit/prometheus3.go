package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// Prometheus 3 is not packaged by Debian: scripts/test.sh builds
// cmd/prometheus and cmd/promtool of this module version once with
// `go install` into Prometheus3CacheDir and exports Prometheus3DirEnv, so
// that every later run finds them there.
const (
	Prometheus3Module  = "github.com/prometheus/prometheus"
	Prometheus3Version = "v0.316.0" // Prometheus 3.16.0
	Prometheus3DirEnv  = "LLMPROBETEST_PROMETHEUS3_DIR"
)

// Prometheus3Dir is where the Prometheus 3 binaries are looked for:
// $LLMPROBETEST_PROMETHEUS3_DIR, else the cache directory scripts/test.sh
// builds into (~/.cache/llmprobe/prometheus-v0.316.0).
func Prometheus3Dir() string {
	if d := os.Getenv(Prometheus3DirEnv); d != "" {
		return d
	}
	return Prometheus3CacheDir()
}

// Prometheus3CacheDir is the per-user cache directory of the Prometheus 3
// build.
func Prometheus3CacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "llmprobe", "prometheus-"+Prometheus3Version)
}

// Prometheus3Tool returns the path of a Prometheus 3 tool ("prometheus" or
// "promtool"), or skips the test saying how to get it.
func Prometheus3Tool(t testing.TB, tool string) string {
	t.Helper()
	p := filepath.Join(Prometheus3Dir(), tool)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p
	}
	t.Skipf("Prometheus 3 %s not found at %s: run scripts/test.sh, which builds it once into that directory "+
		"(GOBIN=%s go install %s/cmd/%s@%s), or point %s at a directory holding it",
		tool, p, Prometheus3Dir(), Prometheus3Module, tool, Prometheus3Version, Prometheus3DirEnv)
	return ""
}

// Promtool is one promtool the generated rules must satisfy.
type Promtool struct {
	Name string // the subtest name: "prometheus-2.42" or "prometheus-3"
	find func(testing.TB) string
}

// Path finds the tool or skips the test.
func (p Promtool) Path(t testing.TB) string { t.Helper(); return p.find(t) }

// Promtools are the oldest supported promtool (Debian's 2.42, package
// prometheus) and Prometheus 3's: every generated rule file, unit test and
// dashboard query must pass both.
func Promtools() []Promtool {
	return []Promtool{
		{Name: "prometheus-2.42", find: func(t testing.TB) string {
			return Binary(t, []string{"promtool"}, "prometheus")
		}},
		{Name: "prometheus-3", find: func(t testing.TB) string { return Prometheus3Tool(t, "promtool") }},
	}
}

// EachPromtool runs f in one subtest per promtool of Promtools; a subtest
// whose tool is missing skips, the others run.
func EachPromtool(t *testing.T, f func(t *testing.T, promtool string)) {
	t.Helper()
	for _, p := range Promtools() {
		t.Run(p.Name, func(t *testing.T) { f(t, p.Path(t)) })
	}
}

// debianPrometheus finds Debian's Prometheus 2 server or skips.
func debianPrometheus(t testing.TB) string {
	t.Helper()
	return Binary(t, []string{"prometheus"}, "prometheus")
}
