package worker

import "runtime/debug"

// DefaultGOGC is the garbage collector's GOGC for `llmprobe run` when the
// environment sets none. A worker is small and long-lived, often a sidecar
// with a memory limit: Go's default, 100, lets the heap grow to twice what
// is live between collections, and at 1,000 checks that was a third of the
// worker's RSS. At 50 the heap grows by half instead. It scales with the
// configuration, as a fixed memory limit would not, and costs little CPU
// because a worker allocates little: in bench/worker.sh (1,000 checks, 15 s)
// RSS max went from 69.1 to 58.4 MiB for no CPU per probe that the runs
// could tell apart (1184 and 1133 µs, 0.48x blackbox both).
const DefaultGOGC = 50

// SetGCDefault sets GOGC to DefaultGOGC unless lookup (os.LookupEnv) finds
// GOGC set, which the runtime has then applied already. It reports
// whether it set it.
func SetGCDefault(lookup func(string) (string, bool)) bool {
	if _, set := lookup("GOGC"); set {
		return false
	}
	debug.SetGCPercent(DefaultGOGC)
	return true
}
