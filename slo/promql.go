package slo

import (
	"strconv"
	"strings"
	"time"

	"github.com/llmprobe/llmprobe/internal/promql"
)

// leMatcher selects one histogram bucket whether the scraper wrote its
// boundary as client_golang does ("10") or as Prometheus 3 normalises it
// ("10.0").
func leMatcher(d time.Duration) string {
	v := bucketLabel(d)
	if !strings.ContainsAny(v, ".e") {
		return "le=~" + strconv.Quote(v+"|"+v+"[.]0")
	}
	return promql.Eq("le", v)
}
