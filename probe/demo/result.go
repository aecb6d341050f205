package demo

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Result is one scenario's outcome, the line `llmprobe demo --output json`
// prints for it.
type Result struct {
	Scenario string   `json:"scenario"`
	Title    string   `json:"title"`
	Official Official `json:"official"`
	// Pages are every page and ticket the rules fired, in firing order.
	Pages      []Page `json:"pages"`
	VerdictsOK bool   `json:"verdicts_ok"`
	// PagesOK: every expected page fired with its layer and was delivered
	// or inhibited as expected, and no other page reached a receiver.
	PagesOK bool `json:"pages_ok"`
	// LeadS is how long before the first timed official post the first
	// page reached its receiver, in seconds; null when the record gives no
	// timed post or nothing paged.
	LeadS    *float64 `json:"lead_s"`
	Problems []string `json:"problems,omitempty"`
}

// Official is the public record's first timed official post.
type Official struct {
	AcknowledgedAfterS *float64 `json:"acknowledged_after_s"`
	Post               string   `json:"post"`
	Source             string   `json:"source"`
}

// Page is one alert the rules fired, with what Alertmanager did with it.
// Times are seconds from the incident's start.
type Page struct {
	Alert           string            `json:"alert"`
	Severity        string            `json:"severity"`
	Labels          map[string]string `json:"labels"`
	Summary         string            `json:"summary"`
	FiredAfterS     float64           `json:"fired_after_s"`
	DeliveredAfterS *float64          `json:"delivered_after_s"`
	// NewPage: the notification that delivered it was its group's first,
	// a new incident; otherwise it updated one already sent (the same
	// provider and layer).
	NewPage     bool   `json:"new_page"`
	Inhibited   bool   `json:"inhibited"`
	InhibitedBy string `json:"inhibited_by,omitempty"`
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

// result checks the scenario's page expectations and computes the lead.
func (r *run) result(verdictsOK bool) Result {
	res := Result{Scenario: r.sc.name, Title: r.sc.title, VerdictsOK: verdictsOK,
		Official: Official{Post: r.sc.official.post, Source: r.sc.official.source}, Pages: []Page{}}
	if r.sc.official.ackAfter > 0 {
		res.Official.AcknowledgedAfterS = seconds(r.sc.official.ackAfter)
	}
	var firstDelivered time.Duration
	for _, a := range r.alerts {
		pg := Page{Alert: a.labels["alertname"], Severity: a.labels["severity"], Labels: map[string]string{}, Summary: a.summary,
			FiredAfterS: a.firedAt.Sub(r.start).Seconds(), InhibitedBy: a.am.inhibited, Inhibited: a.am.inhibited != ""}
		for k, v := range a.labels {
			if k != "alertname" && k != "severity" {
				pg.Labels[k] = v
			}
		}
		if !a.delivered.IsZero() {
			d := a.delivered.Sub(r.start)
			pg.DeliveredAfterS, pg.NewPage = seconds(d), a.am.newPage
			pg.Inhibited = false // held back for a while, then delivered
			if pg.Severity == "page" && (firstDelivered == 0 || d < firstDelivered) {
				firstDelivered = d
			}
		}
		res.Pages = append(res.Pages, pg)
	}
	var problems []string
	matched := map[int]bool{}
	for _, x := range r.sc.pages {
		// An alert may fire more than once in an incident (it resolves and
		// fires again); the expectation holds for the incident as a whole.
		var fired, delivered int
		inhibitedBy := ""
		for i, pg := range res.Pages {
			if pg.Alert != x.alert || !hasLabels(pg.Labels, x.labels) {
				continue
			}
			fired++
			matched[i] = true
			if pg.DeliveredAfterS != nil {
				delivered++
			} else if pg.InhibitedBy != "" {
				inhibitedBy = pg.InhibitedBy
			}
		}
		switch {
		case fired == 0:
			problems = append(problems, fmt.Sprintf("%s %v never fired", x.alert, x.labels))
		case x.delivered && delivered == 0:
			problems = append(problems, fmt.Sprintf("%s %v fired but never reached a receiver (inhibited by %s)", x.alert, x.labels, dash(inhibitedBy)))
		case !x.delivered && delivered > 0:
			problems = append(problems, fmt.Sprintf("%s %v reached a receiver; it should have been inhibited", x.alert, x.labels))
		}
	}
	for i, pg := range res.Pages {
		if pg.Severity == "page" && pg.NewPage && !matched[i] && !sameOutage(r.sc.pages, pg) {
			problems = append(problems, fmt.Sprintf("%s %v paged; nobody should be paged for it here", pg.Alert, pg.Labels))
		}
	}
	sort.Strings(problems)
	res.Problems, res.PagesOK = problems, len(problems) == 0
	if res.Official.AcknowledgedAfterS != nil && firstDelivered > 0 {
		res.LeadS = seconds(r.sc.official.ackAfter - firstDelivered)
	}
	return res
}

// sameOutage: pg is the error-budget page of an outage whose fast page
// is expected to reach someone (the same provider, layer and so on). When
// the failures are intermittent, the budget page may fire first; the two
// are one incident to Alertmanager (grouped by provider and layer), so it
// is that incident's page, not a page for nothing.
func sameOutage(expected []pageExpectation, pg Page) bool {
	if pg.Alert != "LLMProbeErrorBudgetBurn" {
		return false
	}
	for _, x := range expected {
		if x.alert == "LLMProbeProviderDown" && x.delivered && hasLabels(pg.Labels, x.labels) {
			return true
		}
	}
	return false
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// printOutcome closes a scenario's narrative: the pages, the lead and
// anything wrong.
func (p *player) printOutcome(res Result) {
	var first *Page
	for i := range res.Pages {
		pg := &res.Pages[i]
		if pg.Severity == "page" && pg.DeliveredAfterS != nil && (first == nil || *pg.DeliveredAfterS < *first.DeliveredAfterS) {
			first = pg
		}
	}
	switch {
	case first == nil:
		fmt.Fprintf(p.out, "   no page reached anyone.")
	default:
		fmt.Fprintf(p.out, "   paged at %s: %s.", clockText(time.Duration(*first.DeliveredAfterS*float64(time.Second))), describe(mergeLabels(first)))
	}
	switch {
	case res.LeadS != nil:
		fmt.Fprintf(p.out, " The first timed official post, at %s, came %s later.\n", clockText(time.Duration(*res.Official.AcknowledgedAfterS*float64(time.Second))),
			time.Duration(*res.LeadS*float64(time.Second)).Round(time.Second))
	default:
		fmt.Fprintf(p.out, " Official: %s: no lead is claimed.\n", res.Official.Post)
	}
	verdict := "verdicts and pages as the scenario says"
	if !res.VerdictsOK || !res.PagesOK {
		verdict = "WRONG: " + strings.Join(append(res.Problems, map[bool]string{true: "", false: "a verdict (see ✗ above)"}[res.VerdictsOK]), "; ")
	}
	fmt.Fprintf(p.out, "== %s: %s\n\n", res.Scenario, strings.TrimSuffix(verdict, "; "))
}

func mergeLabels(pg *Page) map[string]string {
	l := map[string]string{"alertname": pg.Alert, "severity": pg.Severity}
	for k, v := range pg.Labels {
		l[k] = v
	}
	return l
}
