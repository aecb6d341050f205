// Package promql is the one PromQL text builder of the rule generator (slo)
// and the dashboards: selectors, matchers, aggregations and the layout of
// multi-line expressions, so both quote label values the same way. It
// writes text; tests parse what it writes with Prometheus' own parser.
package promql

import (
	"slices"
	"strconv"
	"strings"
)

// Sel writes a selector: metric{m1,m2}, or the bare metric name.
func Sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ",") + "}"
}

// With returns filter with matchers appended, leaving filter unchanged.
func With(filter []string, matchers ...string) []string {
	return append(slices.Clone(filter), matchers...)
}

// Eq is an equality matcher. The value is quoted as a PromQL string (Go
// quoting is PromQL quoting), so any value is safe, template variables
// such as $provider included.
func Eq(name, value string) string { return name + "=" + strconv.Quote(value) }

// Ne is a negative equality matcher.
func Ne(name, value string) string { return name + "!=" + strconv.Quote(value) }

// Re is a regex matcher for any of values, each a regex (a literal id, or a
// template variable that Grafana expands to a regex).
func Re(name string, values ...string) string {
	return name + "=~" + strconv.Quote(strings.Join(values, "|"))
}

// NRe is a negative regex matcher for any of values.
func NRe(name string, values ...string) string {
	return name + "!~" + strconv.Quote(strings.Join(values, "|"))
}

// By writes a label list for by (...), without (...) and on (...).
func By(labels ...string) string { return strings.Join(labels, ", ") }

// Num writes a float the shortest way that reads back the same, without
// an exponent (a 30-day window is 2592000, not 2.592e+06).
func Num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Increase writes increase(selector[range]).
func Increase(selector, rng string) string { return "increase(" + selector + "[" + rng + "])" }

// Rate writes rate(selector[range]).
func Rate(selector, rng string) string { return "rate(" + selector + "[" + rng + "])" }

// SumBy writes sum by (labels) (expr) on one line, or sum (expr) with no
// labels.
func SumBy(labels, expr string) string {
	if labels == "" {
		return "sum (" + expr + ")"
	}
	return "sum by (" + labels + ") (" + expr + ")"
}

// Block wraps lines in parentheses, each line indented by two spaces: the
// layout of the rule files, which people read.
func Block(lines ...string) string {
	return "(\n" + Indent(strings.Join(lines, "\n")) + "\n)"
}

// Call writes fn ( inner ) with the inner expression indented on its own
// lines: sum by (a) (\n  x\n).
func Call(fn string, inner string) string {
	return fn + " " + Block(inner)
}

// Indent shifts every non-empty line of s right by two spaces.
func Indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// Lines joins expression lines.
func Lines(ls ...string) string { return strings.Join(ls, "\n") }
