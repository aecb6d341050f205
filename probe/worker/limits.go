package worker

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Every setting has a range: a value outside it is a configuration error
// that names the variable, never a silent default or a worker that cannot
// work (a 1ns timeout fails every probe; two billion history entries
// exhaust memory).

// durationRange is the range of one duration setting.
type durationRange struct {
	name     string
	value    time.Duration
	min, max time.Duration
	why      string // why the minimum, for the message
}

// intRange is the range of one whole-number setting.
type intRange struct {
	name     string
	value    int64
	min, max int64
}

// Ranges of the worker's settings.
const (
	MinInterval        = time.Second
	MaxInterval        = 24 * time.Hour
	MinTimeout         = 500 * time.Millisecond
	MaxTimeout         = 10 * time.Minute
	MaxConcurrency     = 1024
	MaxHistory         = 1000
	MaxConnections     = 4096
	MaxDailyRequests   = 1_000_000_000
	MaxDailyTokens     = 1_000_000_000_000
	MaxShutdownTimeout = 10 * time.Minute
)

// checkRanges reports the first setting outside its range.
func (cfg Settings) checkRanges() error {
	for _, d := range []durationRange{
		{"LLMPROBE_INTERVAL", cfg.Interval, MinInterval, MaxInterval, ""},
		{"LLMPROBE_TIMEOUT", cfg.Timeout, MinTimeout, MaxTimeout, " (a probe needs time for DNS, connect, TLS and the reply)"},
		{"LLMPROBE_STATUS_PAGE_INTERVAL", cfg.StatusPageInterval, 10 * time.Second, MaxInterval, " (status pages are public; read them politely)"},
		{"LLMPROBE_SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout, 100 * time.Millisecond, MaxShutdownTimeout, ""},
	} {
		if d.value < d.min || d.value > d.max {
			return fmt.Errorf("%s: %s is outside %s to %s%s", d.name, d.value, d.min, d.max, d.why)
		}
	}
	for _, n := range []intRange{
		{"LLMPROBE_CONCURRENCY", cfg.Concurrency, 1, MaxConcurrency},
		{"LLMPROBE_HISTORY", int64(cfg.History), 1, MaxHistory},
		{"LLMPROBE_MAX_CONNECTIONS", int64(cfg.MaxConnections), 1, MaxConnections},
		{"LLMPROBE_DAILY_REQUEST_BUDGET", cfg.DailyRequestBudget, 0, MaxDailyRequests},
		{"LLMPROBE_DAILY_TOKEN_BUDGET", cfg.DailyTokenBudget, 0, MaxDailyTokens},
	} {
		if n.value < n.min || n.value > n.max {
			return fmt.Errorf("%s: %d is outside %d to %d", n.name, n.value, n.min, n.max)
		}
	}
	return nil
}

// checkListen accepts what net.Listen("tcp", addr) accepts and nothing
// that would surprise: host:port with a port from 0 to 65535 (0 picks a
// free one), an empty host (every interface), an IP address or a name.
func checkListen(addr string) error {
	if addr == "" {
		return errors.New("empty: want host:port, e.g. :9469 or 127.0.0.1:9469")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostName(host) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", addr, host)
	}
	return nil
}

// validHostName accepts a DNS name: labels of letters, digits and hyphens.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// descriptorReserve is the file descriptors kept for everything but the
// HTTP server's connections: two per probe in flight (its connection and
// a resolver's socket), two per control target, and a margin for status
// pages, trace export, the listener, the log and the runtime.
func (cfg Settings) descriptorReserve() int64 {
	return 2*cfg.Concurrency + 2*int64(len(cfg.ControlTargets)) + 64
}

// checkDescriptors reports settings that do not fit in limit descriptors
// (0: unknown): the HTTP server's connections must never take those the
// probes need, or anyone who reaches the port fakes a network outage.
func (cfg Settings) checkDescriptors(limit int64) error {
	need := cfg.descriptorReserve() + int64(cfg.MaxConnections)
	if limit > 0 && need > limit {
		return fmt.Errorf("LLMPROBE_CONCURRENCY %d and LLMPROBE_MAX_CONNECTIONS %d need about %d file descriptors, and this process may open %d (ulimit -n): lower them or raise the limit",
			cfg.Concurrency, cfg.MaxConnections, need, limit)
	}
	return nil
}
