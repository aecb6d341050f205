package promql

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func TestBuildersWriteWhatPrometheusParses(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	tests := []struct {
		name, got, want string
	}{
		{"a bare metric", Sel("up"), `up`},
		{"matchers in order, no spaces", Sel("m", Eq("a", "x"), Ne("b", "y"), Re("c", "p", "q"), NRe("d", "r")), `m{a="x",b!="y",c=~"p|q",d!~"r"}`},
		{"a template variable is a plain string", Sel("m", Re("provider", "$provider")), `m{provider=~"$provider"}`},
		{"quotes and backslashes are escaped", Sel("m", Eq("a", `say "hi" \ bye`)), `m{a="say \"hi\" \\ bye"}`},
		{"numbers without exponents", Num(2592000) + " " + Num(0.00001) + " " + Num(14.4), `2592000 0.00001 14.4`},
		{"one-line aggregation", SumBy(By("a", "b"), Increase(Sel("m"), "5m")), `sum by (a, b) (increase(m[5m]))`},
		{"aggregation without labels", SumBy("", Rate(Sel("m"), "1m")), `sum (rate(m[1m]))`},
		{"a block indents each line", Call("sum by (a)", Lines("x", "/", "y")), "sum by (a) (\n  x\n  /\n  y\n)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
			if tt.name == "numbers without exponents" {
				return
			}
			if _, err := p.ParseExpr(tt.got); err != nil {
				t.Fatalf("Prometheus does not parse %q: %v", tt.got, err)
			}
		})
	}
	// With filters, With copies: the filter a caller keeps is unchanged.
	base := []string{Eq("a", "x")}
	extended := With(base, Eq("b", "y"))
	if len(base) != 1 || len(extended) != 2 {
		t.Fatalf("With changed its input: %v %v", base, extended)
	}
}
