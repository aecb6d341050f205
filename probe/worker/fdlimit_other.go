//go:build !unix

package worker

// openFileLimit is unknown off Unix.
func openFileLimit() int64 { return 0 }
