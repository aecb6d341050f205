package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

// The worker under 2,000 slow clients, in a process of its own with a
// descriptor limit of 1,024: the test binary runs itself as that worker
// (TestMain below), so the clients' descriptors are not the worker's.

const (
	slowChildEnv    = "LLMPROBE_TEST_SLOW_CLIENTS_CHILD" // the fake provider's URL, in the child
	slowClients     = 2000
	slowFDLimit     = 1024
	slowProviders   = 8 // x reach, chat, stream = 24 checks
	slowProbeRounds = 3 // probes each check must complete while the clients hold on
)

func TestMain(m *testing.M) {
	if base := os.Getenv(slowChildEnv); base != "" {
		os.Exit(slowClientsChild(base))
	}
	os.Exit(m.Run())
}

// slowClientsChild is the worker of TestTheWorkerKeepsProbingWhileSlowClientsHoldItsPort:
// 24 checks against base every second, probes with a roomy minute each
// (the scheduler skips a slot a probe overran), a debug log of every probe
// on stderr in JSON. It stops when its stdin closes.
func slowClientsChild(base string) int {
	var checks []probe.Check
	for i := range slowProviders {
		id := fmt.Sprintf("s%d", i)
		for _, k := range probe.Kinds {
			c := probe.Check{Provider: probe.CustomProvider(id, base+"/"+id+"/v1", "m-1"), Kind: k, BaseURL: base + "/" + id + "/v1",
				APIKey: hostileKey, Region: "test", Timeout: time.Minute}
			if k != probe.KindReach {
				c.Model = "m-1"
			}
			checks = append(checks, c)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "listening on %s with a limit of %d descriptors\n", ln.Addr(), openFileLimit())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()
	s := Settings{Region: "test", Interval: time.Second, Timeout: time.Minute, Concurrency: 64, History: 10, ShutdownTimeout: 10 * time.Second}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := Run(ctx, s, Options{Checks: checks, Listener: ln, Logger: logger}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

var reChildListen = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+) with a limit of (\d+) descriptors`)

// probeLog tallies the child's probes by check.
type probeLog struct {
	mu       sync.Mutex
	ok       map[string]int
	failures []string
	addr     string
	limit    int
	lines    []string // the last lines, for a failure's message
}

func (l *probeLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		l.lines = append(l.lines, line)
		if len(l.lines) > 20 {
			l.lines = l.lines[1:]
		}
		if m := reChildListen.FindStringSubmatch(line); m != nil {
			l.addr = m[1]
			l.limit, _ = strconv.Atoi(m[2])
		}
		var rec struct {
			Msg      string `json:"msg"`
			Provider string `json:"provider"`
			Check    string `json:"check"`
			Reason   string `json:"reason"`
			Err      string `json:"err"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil {
			switch rec.Msg {
			case "probe ok":
				l.ok[rec.Provider+"/"+rec.Check]++
			case "probe failed":
				l.failures = append(l.failures, rec.Provider+"/"+rec.Check+": "+rec.Reason+": "+rec.Err)
			}
		}
		l.mu.Unlock()
	}
}

// snapshot is the successes per check so far.
func (l *probeLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.ok {
		out[k] = v
	}
	return out
}

// allAtLeast reports whether every check has n more successes than in from.
func (l *probeLog) allAtLeast(from map[string]int, n int) bool {
	now := l.snapshot()
	if len(now) < slowProviders*len(probe.Kinds) {
		return false
	}
	for k, v := range now {
		if v-from[k] < n {
			return false
		}
	}
	return true
}

// TestTheWorkerKeepsProbingWhileSlowClientsHoldItsPort: 2,000 clients hold
// connections to a worker that may open 1,024 descriptors; every check
// keeps completing probes and none fails. Without bounds on its server the
// worker would accept until its descriptors ran out and every probe would
// fail to connect. (How late probes start under that load is measured by
// bench/slowclients.sh, not asserted here.)
func TestTheWorkerKeepsProbingWhileSlowClientsHoldItsPort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a worker process and 2,000 connections")
	}
	if n := openFileLimit(); n < slowClients+1000 {
		t.Skipf("this test opens %d connections; the descriptor limit is %d (0: unknown, off Unix)", slowClients, n)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash to lower the worker's descriptor limit")
	}
	fake := providertest.NewServer(providertest.Options{APIKey: hostileKey, Edge: providertest.EdgeNone})
	defer fake.Close()

	// bash lowers the limit (soft and hard, so the Go runtime cannot raise
	// it again) and runs this test binary as the worker.
	cmd := exec.Command("bash", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0"`, slowFDLimit), os.Args[0])
	cmd.Env = append(os.Environ(), slowChildEnv+"="+fake.URL())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	plog := &probeLog{ok: map[string]int{}}
	read := make(chan struct{})
	go func() { plog.read(stderr); close(read) }()
	defer func() {
		stdin.Close() // the child stops when its stdin closes
		<-read
		cmd.Wait()
		if t.Failed() {
			plog.mu.Lock()
			t.Logf("the worker's last lines:\n%s", strings.Join(plog.lines, "\n"))
			plog.mu.Unlock()
		}
	}()

	testkit.Eventually(t, "every check's first success", func() bool { return plog.allAtLeast(nil, 1) })
	plog.mu.Lock()
	addr, limit := plog.addr, plog.limit
	plog.mu.Unlock()
	if limit != slowFDLimit {
		t.Fatalf("the worker may open %d descriptors, want %d", limit, slowFDLimit)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clients := testkit.HoldSlowClients(ctx, addr, slowClients)
	testkit.Eventually(t, "the slow clients' connections", func() bool { dials, _, _ := clients.Stats(); return dials >= slowClients })
	from := plog.snapshot()
	testkit.Eventually(t, fmt.Sprintf("%d more successes of every check under %d slow clients", slowProbeRounds, slowClients),
		func() bool { return plog.allAtLeast(from, slowProbeRounds) })
	cancel()
	clients.Wait()

	plog.mu.Lock()
	defer plog.mu.Unlock()
	if len(plog.failures) > 0 {
		t.Fatalf("%d probes failed, e.g. %s", len(plog.failures), plog.failures[0])
	}
}
