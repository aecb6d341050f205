package slo

import (
	"slices"
	"time"
)

// BurnWindow is one multiwindow burn-rate condition of the Google SRE
// workbook (chapter 5, "Alerting on SLOs"): the SLO burns when its error
// ratio over both the long and the short window is above Factor times the
// error budget. The long window measures the burn; the short one makes the
// alert stop soon after the burn does.
type BurnWindow struct {
	Severity string
	Long     time.Duration
	Short    time.Duration
	// BudgetPercent is the share of the whole error budget that a burn at
	// the threshold spends in the long window. The factor follows from it
	// and the SLO window: 2% of a 30-day budget in 1h is 14.4x.
	BudgetPercent int
}

// Factor is the burn-rate threshold for an SLO window: how many times
// faster than "exactly spend the budget over the window" the SLO burns.
func (b BurnWindow) Factor(sloWindow time.Duration) float64 {
	// Integer arithmetic first, one division last, so that 30 days give
	// exactly 14.4, 6, 3 and 1.
	return float64(int64(b.BudgetPercent)*int64(sloWindow/time.Second)) / float64(100*int64(b.Long/time.Second))
}

// BurnWindows are the workbook's four conditions: page at 14.4x over 1h and
// 5m or 6x over 6h and 30m; ticket at 3x over 1d and 2h or 1x over 3d and 6h
// (the factors for a 30-day SLO window).
func BurnWindows() []BurnWindow {
	return []BurnWindow{
		{Severity: SeverityPage, Long: time.Hour, Short: 5 * time.Minute, BudgetPercent: 2},
		{Severity: SeverityPage, Long: 6 * time.Hour, Short: 30 * time.Minute, BudgetPercent: 5},
		{Severity: SeverityTicket, Long: 24 * time.Hour, Short: 2 * time.Hour, BudgetPercent: 10},
		{Severity: SeverityTicket, Long: 72 * time.Hour, Short: 6 * time.Hour, BudgetPercent: 10},
	}
}

// BurnWindowsFor returns the conditions of one severity, in order.
func BurnWindowsFor(severity string) []BurnWindow {
	var out []BurnWindow
	for _, b := range BurnWindows() {
		if b.Severity == severity {
			out = append(out, b)
		}
	}
	return out
}

// Severities lists the alert severities, most urgent first.
func Severities() []string { return []string{SeverityPage, SeverityTicket} }

// longWindowFrom is the first window recorded by the long, less frequent
// rule group.
const longWindowFrom = 24 * time.Hour

// RecordingWindows are the windows every SLI is recorded over: each burn
// window, long and short, and the SLO window, in increasing order.
func RecordingWindows(sloWindow time.Duration) []time.Duration {
	var ws []time.Duration
	for _, b := range BurnWindows() {
		ws = append(ws, b.Long, b.Short)
	}
	ws = append(ws, sloWindow)
	slices.Sort(ws)
	return slices.Compact(ws)
}

// regionSummaryWindow is the window whose failures an alert's summary lists
// regions from: the longest short window of the severity, the span over
// which a firing condition saw failures.
func regionSummaryWindow(severity string) time.Duration {
	var w time.Duration
	for _, b := range BurnWindowsFor(severity) {
		w = max(w, b.Short)
	}
	return w
}
