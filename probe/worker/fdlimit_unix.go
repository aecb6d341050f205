//go:build unix

package worker

import "syscall"

// openFileLimit is how many file descriptors this process may open
// (RLIMIT_NOFILE; Go raises the soft limit to the hard one at start), 0 if
// unknown.
func openFileLimit() int64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<40 {
		return 0
	}
	return int64(l.Cur)
}
