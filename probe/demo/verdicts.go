package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"github.com/llmprobe/llmprobe/probe/worker"
)

// clockText writes incident time since the incident's start: +mm:ss, or
// -mm:ss before it.
func clockText(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%02d:%02d", sign, int(d.Minutes()), int(d.Seconds())%60)
}

// statusOf reads a worker's /api/status.
func statusOf(url string) (worker.StatusReport, error) {
	var rep worker.StatusReport
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url + "/api/status")
	if err != nil {
		return rep, err
	}
	defer resp.Body.Close()
	return rep, json.NewDecoder(resp.Body).Decode(&rep)
}

// liveLine is one compact line: per provider, the chat check's state from
// each region (✓ success, E edge, O origin, N network, P probe).
func liveLine(e *demoEnv) string {
	reps := map[string]worker.StatusReport{}
	for _, r := range demoRegions {
		rep, _ := statusOf(e.regions[r].url)
		reps[r] = rep
	}
	var parts []string
	for _, dp := range demoProviders {
		marks := ""
		for _, r := range demoRegions {
			m := "·"
			for _, c := range reps[r].Checks {
				if c.Provider == dp.id && c.Check == probe.KindChat {
					m = c.State.Style().Symbol
				}
			}
			marks += m
		}
		parts = append(parts, fmt.Sprintf("%-9s %s", dp.id, marks))
	}
	return strings.Join(parts, "   ") + "   (regions " + strings.Join(demoRegions, ", ") + "; ✓ ok E edge O origin N network P probe)"
}

// verdictSince is what a check concluded over the second half of a phase:
// the most frequent outcome and reason of its probes since then (a lone
// timeout on a loaded machine does not flip it), else its last state.
func verdictSince(c worker.CheckReport, since time.Time) (probe.Outcome, probe.Reason) {
	type pair struct {
		o probe.Outcome
		r probe.Reason
	}
	counts := map[pair]int{}
	var best pair
	for _, s := range c.Recent {
		if s.At.Before(since) {
			continue
		}
		p := pair{s.Outcome, s.Reason}
		counts[p]++
		if counts[p] > counts[best] {
			best = p
		}
	}
	if counts[best] == 0 {
		return c.State, c.Reason
	}
	return best.o, best.r
}

// checkPhase prints what the probes concluded for each expectation and
// whether it is what the scenario says.
func checkPhase(e *demoEnv, ph phase, since time.Time, w io.Writer) bool {
	reps := map[string]worker.StatusReport{}
	for _, r := range demoRegions {
		rep, err := statusOf(e.regions[r].url)
		if err != nil {
			fmt.Fprintf(w, "   ✗ %s: /api/status: %v\n", r, err)
			return false
		}
		reps[r] = rep
	}
	ok := true
	for _, x := range ph.expect {
		regions := x.regions
		if len(regions) == 0 {
			regions = demoRegions
		}
		var wrong []string
		edges := map[string]bool{}
		for _, r := range regions {
			for _, kind := range x.kinds {
				for _, c := range reps[r].Checks {
					if c.Provider != x.provider || c.Check != kind {
						continue
					}
					if c.Edge != "" && c.Edge != probe.EdgeNone {
						edges[c.Edge] = true
					}
					o, reason := verdictSince(c, since)
					if o != x.outcome || x.reason != "" && reason != x.reason {
						wrong = append(wrong, fmt.Sprintf("%s %s from %s was %s/%s", x.provider, kind, r, dash(string(o)), dash(string(reason))))
					}
				}
			}
		}
		want := string(x.outcome)
		if x.reason != "" {
			want += "/" + string(x.reason)
		}
		via := ""
		if x.outcome != probe.OutcomeSuccess && x.outcome != probe.OutcomeNetworkError && len(edges) > 0 {
			for e := range edges {
				via = " via " + e
			}
		}
		kinds := make([]string, len(x.kinds))
		for i, k := range x.kinds {
			kinds[i] = string(k)
		}
		if len(wrong) == 0 {
			fmt.Fprintf(w, "   ✓ %s %s: %s%s from %s\n", x.provider, strings.Join(kinds, "+"), want, via, strings.Join(regions, ", "))
		} else {
			ok = false
			fmt.Fprintf(w, "   ✗ %s %s: want %s from %s; %s\n", x.provider, strings.Join(kinds, "+"), want, strings.Join(regions, ", "), strings.Join(wrong, "; "))
		}
	}
	return ok
}

// dash is s, or "-" when s is empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
