// Package buildinfo says which build of llmprobe is running: the version and
// VCS revision set at link time or read from the module's build
// information, for `llmprobe version`, llmprobe_build_info and the probes'
// User-Agent.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// version and revision are set at link time:
// -ldflags "-X github.com/llmprobe/llmprobe/internal/buildinfo.version=v1.2.3
// -X github.com/llmprobe/llmprobe/internal/buildinfo.revision=abc123".
var (
	version  = ""
	revision = ""
)

// Info is one build.
type Info struct {
	Version   string // "devel" when unknown
	Revision  string // "unknown" when unknown
	GoVersion string
}

// Get returns this binary's build: link-time values first, then the
// module's build information.
func Get() Info {
	i := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Revision == "" {
				i.Revision = s.Value
			}
		}
	}
	if i.Version == "" || i.Version == "(devel)" {
		i.Version = "devel"
	}
	if i.Revision == "" {
		i.Revision = "unknown"
	}
	return i
}

// UserAgent is the User-Agent of every probe: it names the tool and where
// to read about it, so a provider that sees the probes knows what they are.
func (i Info) UserAgent() string {
	return "llmprobe/" + i.Version + " (+https://github.com/llmprobe/llmprobe)"
}
