package slo

import (
	"strconv"
	"strings"
	"time"
)

// Small PromQL builders. Expressions are written as readable multi-line text
// because people read the rule files; tests parse them with promtool.

// sel writes a selector: metric{m1,m2}.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ",") + "}"
}

// eq is an equality matcher. Values here are ids, label names and region
// names checked by Validate, so Go quoting is PromQL quoting.
func eq(name, value string) string { return name + "=" + strconv.Quote(value) }

// ne is a negative equality matcher.
func ne(name, value string) string { return name + "!=" + strconv.Quote(value) }

// re is a regex matcher for a set of literal values.
func re(name string, values ...string) string {
	return name + "=~" + strconv.Quote(strings.Join(values, "|"))
}

// nre is a negative regex matcher for a set of literal values.
func nre(name string, values ...string) string {
	return name + "!~" + strconv.Quote(strings.Join(values, "|"))
}

// leMatcher selects one histogram bucket whether the scraper wrote its
// boundary as client_golang does ("10") or as Prometheus 3 normalises it
// ("10.0").
func leMatcher(d time.Duration) string {
	v := bucketLabel(d)
	if !strings.ContainsAny(v, ".e") {
		return "le=~" + strconv.Quote(v+"|"+v+"[.]0")
	}
	return eq("le", v)
}

// by writes a label list for by (...) and on (...).
func by(labels ...string) string { return strings.Join(labels, ", ") }

// num writes a float the shortest way that reads back the same.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// block wraps lines in parentheses, indented by two spaces.
func block(lines ...string) string {
	return "(\n" + indent(strings.Join(lines, "\n")) + "\n)"
}

// call writes fn ( inner ) with the inner expression indented on its own
// lines: sum by (a) (\n  x\n).
func call(fn string, inner string) string {
	return fn + " " + block(inner)
}

// indent shifts every line of s right by two spaces.
func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}

// lines joins expression lines.
func lines(ls ...string) string { return strings.Join(ls, "\n") }
