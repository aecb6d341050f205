package worker

import (
	"net/http"
	"net/http/pprof"
)

// HandlePProf serves Go's runtime profiles under /debug/pprof/ on mux
// (LLMPROBE_PPROF=true). Off by default: a profile names the worker's
// functions and goroutines to whoever reaches its port, and a CPU profile
// costs a little CPU while it runs. The server's write deadline
// (serverWriteTimeout) bounds /debug/pprof/profile?seconds=N to under a
// minute.
func HandlePProf(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
