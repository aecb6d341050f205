package slo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time span written the Prometheus way: whole numbers with the
// units d, h, m, s and ms, largest first ("30d", "1h30m", "500ms"). It is
// the form PromQL ranges and rule files use, so a spec value is copied into
// a rule unchanged.
type Duration time.Duration

type durationUnit struct {
	name string
	d    time.Duration
}

// durationUnits are the accepted units, largest first.
func durationUnits() []durationUnit {
	return []durationUnit{
		{"d", 24 * time.Hour},
		{"h", time.Hour},
		{"m", time.Minute},
		{"s", time.Second},
		{"ms", time.Millisecond},
	}
}

// errDurationSyntax is wrapped by every ParseDuration error.
var errDurationSyntax = errors.New("use whole numbers with units d, h, m, s or ms, largest first, like 30s, 5m, 1h30m or 30d")

// ParseDuration reads a Prometheus-style duration. Zero and negative spans
// are rejected: no spec field may be empty.
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: %w", errDurationSyntax)
	}
	units := durationUnits()
	rest := s
	var total time.Duration
	last := -1 // index into durationUnits of the previous unit
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("malformed duration %q: %w", s, errDurationSyntax)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed duration %q: %w", s, errDurationSyntax)
		}
		rest = rest[i:]
		unit := -1
		for j, u := range units {
			// "ms" must win over "m": try the longer name first.
			if strings.HasPrefix(rest, u.name) && (unit < 0 || len(u.name) > len(units[unit].name)) {
				unit = j
			}
		}
		if unit < 0 || unit <= last {
			return 0, fmt.Errorf("malformed duration %q: %w", s, errDurationSyntax)
		}
		last = unit
		u := units[unit]
		if n > int64((1<<63-1)/u.d) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		add := time.Duration(n) * u.d
		if total > (1<<63-1)-add {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += add
		rest = rest[len(u.name):]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration %q must be longer than zero", s)
	}
	return total, nil
}

// FormatDuration writes d the way ParseDuration reads it: "5m", "1h12m",
// "30d". Sub-millisecond remainders are dropped.
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range durationUnits() {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// String implements fmt.Stringer.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// UnmarshalYAML reads a duration scalar. Errors come back as a
// *yaml.TypeError with the line, so the spec loader can name the field.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a duration like 30s or 5m, not a %s", n.Line, kindName(n.Kind))}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: value %q: %v", n.Line, n.Value, err)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Prometheus form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "scalar"
}
