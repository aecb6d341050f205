package worker_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// The worker's Registry gathers the per-check series itself; what it
// returns must be what client_golang's Registry returns for the same
// metrics: the same families, series, values and order.
func TestWorkerRegistryGathersWhatClientGolangGathers(t *testing.T) {
	plain := prometheus.NewRegistry()
	own := worker.NewRegistry()
	metrics := []*worker.Metrics{worker.NewMetrics(plain), worker.NewMetrics(own)}
	checks := benchChecks()[:30]
	results := make([]probe.Result, len(checks))
	for i, c := range checks {
		r := benchResult(c, i)
		if i%4 == 1 {
			r.Outcome, r.Reason, r.StatusCode = probe.OutcomeOriginError, probe.ReasonOverloaded, 529
		}
		rl := float64(i)
		r.RateLimit.Requests = &rl
		r.EdgeOverhead = time.Millisecond
		results[i] = r
	}
	for _, m := range metrics {
		m.NetworkControl = true
		for _, c := range checks {
			m.InitCheck(c)
		}
		for i, c := range checks {
			r := results[i]
			m.Observe(r)
			m.Skipped(c, probe.SkipReasonBackoff)
			m.SetBackoff(c, time.Duration(i)*time.Second)
			if i%5 == 0 {
				m.Unmeasured(r)
			}
		}
	}
	text := func(mfs []*dto.MetricFamily) string {
		var b bytes.Buffer
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	want, err := plain.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// Twice through the reused buffers, and once into fresh messages.
	tg := own.TransactionalGatherer()
	for i := 0; i < 2; i++ {
		got, done, err := tg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if g, w := text(got), text(want); g != w {
			t.Fatalf("gather %d differs from client_golang's:\n%s", i, firstDiff(g, w))
		}
		done()
	}
	got, err := own.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if g, w := text(got), text(want); g != w {
		t.Fatalf("Gather differs from client_golang's:\n%s", firstDiff(g, w))
	}
}

func firstDiff(got, want string) string {
	g, w := bytes.Split([]byte(got), []byte("\n")), bytes.Split([]byte(want), []byte("\n"))
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d: got  %s\n        want %s", i+1, g[i], w[i])
		}
	}
	return "one is a prefix of the other"
}
