// Command slowclients measures how a worker's probes fare while slow
// clients hold its HTTP port: one `llmprobe run` with a descriptor limit
// (ulimit -n, 1,024 by default) probes loopback fakes, first alone for a
// window, then for a window while 2,000 slow clients (testkit.SlowClients)
// hold connections to it. It prints, per window, the probes, the failures,
// the probes skipped for overrun, how late probes started (the
// llmprobe_schedule_lateness_seconds histogram: p50, p99, mean, the
// highest bucket hit) and the most descriptors the worker held.
//
// Run it with bench/slowclients.sh (see bench/README.md). Everything
// listens on 127.0.0.1; every process it starts is stopped on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/llmprobe/llmprobe/internal/testkit"
	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/providertest"
)

const key = "bench-key-0123456789"

type options struct {
	checks      int
	interval    time.Duration
	timeout     time.Duration
	concurrency int
	clients     int
	window      time.Duration
	nofile      int
	keep        bool
}

func main() {
	var o options
	flag.IntVar(&o.checks, "checks", 300, "worker checks (reach, chat and stream of checks/3 fake providers)")
	flag.DurationVar(&o.interval, "interval", 15*time.Second, "LLMPROBE_INTERVAL")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "LLMPROBE_TIMEOUT")
	flag.IntVar(&o.concurrency, "concurrency", 64, "LLMPROBE_CONCURRENCY")
	flag.IntVar(&o.clients, "clients", 2000, "slow clients in the second window")
	flag.DurationVar(&o.window, "window", 60*time.Second, "length of each window")
	flag.IntVar(&o.nofile, "nofile", 1024, "the worker's descriptor limit (ulimit -n)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (the worker's log and scrapes)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/slowclients:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(o options) error {
	if o.checks < 3 || o.window < 10*time.Second || o.clients < 1 {
		return errors.New("want -checks 3 or more, -window 10s or more, -clients 1 or more")
	}
	work, err := os.MkdirTemp("", "llmprobe-slowclients.")
	if err != nil {
		return err
	}
	defer func() {
		if o.keep {
			logf("work directory kept: %s", work)
			return
		}
		os.RemoveAll(work)
	}()
	bin := filepath.Join(work, "llmprobe")
	logf("building llmprobe")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/llmprobe/llmprobe/cmd/llmprobe").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	fake := providertest.NewServer(providertest.Options{APIKey: key})
	defer fake.Close()
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "LLMPROBE_REGION=bench", "LLMPROBE_LISTEN=" + addr,
		"LLMPROBE_INTERVAL=" + o.interval.String(), "LLMPROBE_TIMEOUT=" + o.timeout.String(), fmt.Sprintf("LLMPROBE_CONCURRENCY=%d", o.concurrency),
		"LLMPROBE_CONTROL_TARGETS=", "LLMPROBE_STATUS_PAGES=false", "LLMPROBE_DAILY_REQUEST_BUDGET=0", "LLMPROBE_DAILY_TOKEN_BUDGET=0"}
	var ids []string
	for i := range o.checks / 3 {
		id := fmt.Sprintf("b%04d", i)
		ids = append(ids, id)
		env = append(env, probe.EnvName(id, probe.SettingBaseURL)+"="+fake.BaseURL(id), probe.EnvName(id, probe.SettingModel)+"=gpt-4o-mini",
			strings.ToUpper(id)+"_API_KEY="+key)
	}
	env = append(env, probe.EnvCustomProviders+"="+strings.Join(ids, ","), "LLMPROBE_PROVIDERS="+strings.Join(ids, ","))

	wlog, err := os.Create(filepath.Join(work, "worker.log"))
	if err != nil {
		return err
	}
	defer wlog.Close()
	// bash lowers the limit, soft and hard, so that the Go runtime cannot
	// raise it again, and then becomes the worker.
	cmd := exec.Command("bash", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" run`, o.nofile), bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, wlog, wlog
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	base := "http://" + addr
	if err := waitReady(base, exited, 2*time.Minute); err != nil {
		return err
	}
	logf("worker ready: %d checks, interval %s, timeout %s, descriptor limit %d; warm-up %s", len(ids)*3, o.interval, o.timeout, o.nofile, o.interval)
	time.Sleep(o.interval)

	var rows []window
	for _, clients := range []int{0, o.clients} {
		w, err := measure(ctx, base, cmd.Process.Pid, clients, o.window)
		if err != nil {
			return err
		}
		rows = append(rows, w)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nllmprobe bench/slowclients: %d checks at %s (timeout %s, concurrency %d), worker limited to %d descriptors, windows of %s\n",
		len(ids)*3, o.interval, o.timeout, o.concurrency, o.nofile, o.window)
	fmt.Printf("machine: %d cores, load average %s\n\n", runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("  %-22s %8s %8s %8s %10s %10s %10s %10s %9s %12s\n", "window", "probes", "failed", "overrun", "p50 ms", "p99 ms", "mean ms", "max le s", "max fds", "connections")
	for _, r := range rows {
		fmt.Printf("  %-22s %8d %8d %8d %10s %10s %10s %10s %9d %12s\n", r.name, r.probes, r.failed, r.overrun,
			ms(r.p50), ms(r.p99), ms(r.mean), r.maxBucket, r.maxFDs, r.conns)
	}
	fmt.Println()
	return nil
}

// window is what one measured window showed.
type window struct {
	name           string
	probes, failed int
	overrun        int
	p50, p99, mean float64 // seconds
	maxBucket      string
	maxFDs         int
	conns          string
}

// measure scrapes the worker, holds clients slow connections (none for 0)
// for d while sampling its descriptors, ends them, scrapes again and
// returns the difference.
func measure(ctx context.Context, base string, pid, clients int, d time.Duration) (window, error) {
	w := window{name: "alone", conns: "-"}
	if clients > 0 {
		w.name = fmt.Sprintf("%d slow clients", clients)
	}
	before, err := scrape(base, time.Minute)
	if err != nil {
		return w, err
	}
	logf("window %q for %s", w.name, d)
	cctx, cancel := context.WithCancel(ctx)
	var held *testkit.SlowClients
	if clients > 0 {
		host := strings.TrimPrefix(base, "http://")
		held = testkit.HoldSlowClients(cctx, host, clients)
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		w.maxFDs = max(w.maxFDs, descriptors(pid))
		time.Sleep(time.Second)
	}
	if held != nil {
		dials, open, ended := held.Stats()
		w.conns = fmt.Sprintf("%d/%d/%d", open, dials, ended)
	}
	cancel()
	if held != nil {
		held.Wait()
	}
	// The worker answers again once the clients are gone; a scrape that
	// waits behind them is allowed its time.
	after, err := scrape(base, 2*time.Minute)
	if err != nil {
		return w, err
	}
	w.probes = int(sum(after, probe.MetricProbesTotal, nil) - sum(before, probe.MetricProbesTotal, nil))
	w.failed = w.probes - int(sum(after, probe.MetricProbesTotal, map[string]string{probe.LabelOutcome: string(probe.OutcomeSuccess)})-
		sum(before, probe.MetricProbesTotal, map[string]string{probe.LabelOutcome: string(probe.OutcomeSuccess)}))
	w.overrun = int(sum(after, probe.MetricProbesSkipped, map[string]string{probe.LabelSkipReason: probe.SkipReasonOverrun}) -
		sum(before, probe.MetricProbesSkipped, map[string]string{probe.LabelSkipReason: probe.SkipReasonOverrun}))
	w.p50, w.p99, w.mean, w.maxBucket = lateness(before, after)
	return w, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(base string, exited <-chan struct{}, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("the worker exited; see its log (-keep)")
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the worker was not ready within %s", d)
}

// scrape reads the worker's /metrics, retrying for up to d.
func scrape(base string, d time.Duration) (map[string]*dto.MetricFamily, error) {
	deadline := time.Now().Add(d)
	client := &http.Client{Timeout: 30 * time.Second}
	for {
		resp, err := client.Get(base + "/metrics")
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				parser := expfmt.NewTextParser(model.UTF8Validation)
				return parser.TextToMetricFamilies(strings.NewReader(string(body)))
			}
			err = fmt.Errorf("HTTP %d %v", resp.StatusCode, rerr)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("scrape %s/metrics: %w", base, err)
		}
		time.Sleep(time.Second)
	}
}

// sum adds the values of a counter's series whose labels include want.
func sum(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		if has(m, want) {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func has(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// lateness is p50, p99 and the mean of the schedule lateness histogram
// between two scrapes, interpolated inside the bucket as
// histogram_quantile does, and the highest bucket an observation fell in.
func lateness(before, after map[string]*dto.MetricFamily) (p50, p99, mean float64, top string) {
	hist := func(fams map[string]*dto.MetricFamily) *dto.Histogram {
		if f := fams[probe.MetricScheduleLateness]; f != nil && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetHistogram()
		}
		return &dto.Histogram{}
	}
	b, a := hist(before), hist(after)
	count := float64(a.GetSampleCount() - b.GetSampleCount())
	if count <= 0 {
		return math.NaN(), math.NaN(), math.NaN(), "-"
	}
	mean = (a.GetSampleSum() - b.GetSampleSum()) / count
	type bucket struct{ le, n float64 }
	var buckets []bucket
	prev := map[float64]float64{}
	for _, x := range b.GetBucket() {
		prev[x.GetUpperBound()] = float64(x.GetCumulativeCount())
	}
	for _, x := range a.GetBucket() {
		buckets = append(buckets, bucket{x.GetUpperBound(), float64(x.GetCumulativeCount()) - prev[x.GetUpperBound()]})
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	buckets = append(buckets, bucket{math.Inf(1), count})
	q := func(q float64) float64 {
		target, lo, below := q*count, 0.0, 0.0
		for _, x := range buckets {
			if x.n >= target {
				if math.IsInf(x.le, 1) {
					return lo
				}
				return lo + (x.le-lo)*(target-below)/math.Max(x.n-below, 1)
			}
			lo, below = x.le, x.n
		}
		return lo
	}
	top, below := "0", 0.0
	for _, x := range buckets {
		if x.n > below {
			top = fmt.Sprint(x.le)
		}
		below = x.n
	}
	return q(0.5), q(0.99), mean, top
}

func ms(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", s*1000)
}

func descriptors(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(ents)
}
