package probe

import "testing"

func TestOutcomesCountForTheSLIExceptTheProbesOwnErrors(t *testing.T) {
	var got []Outcome
	for _, o := range Outcomes {
		if o.CountsForSLI() {
			got = append(got, o)
		}
	}
	want := []Outcome{OutcomeSuccess, OutcomeEdgeError, OutcomeOriginError, OutcomeNetworkError}
	if len(got) != len(want) || len(SLIOutcomes()) != len(want) {
		t.Fatalf("counting outcomes %v, SLIOutcomes %v; want %v", got, SLIOutcomes(), want)
	}
	for i := range want {
		if got[i] != want[i] || SLIOutcomes()[i] != want[i] {
			t.Fatalf("counting outcomes %v, SLIOutcomes %v; want %v", got, SLIOutcomes(), want)
		}
	}
	if Outcome("cdn_error").CountsForSLI() || Outcome("").Known() {
		t.Error("an unknown outcome counts for nothing")
	}
}

func TestEveryOutcomeHasItsOwnSymbolLabelAndColour(t *testing.T) {
	symbols, labels, colors := map[string]Outcome{}, map[string]Outcome{}, map[string]Outcome{}
	for _, o := range append(Outcomes, "") {
		st := o.Style()
		for _, f := range []struct {
			seen  map[string]Outcome
			value string
		}{{symbols, st.Symbol}, {labels, st.Label}, {colors, st.Color}} {
			if f.value == "" {
				t.Fatalf("%q has an empty style field: %+v", o, st)
			}
			if prev, dup := f.seen[f.value]; dup {
				t.Errorf("%q and %q share %q: no two outcomes may look alike", prev, o, f.value)
			}
			f.seen[f.value] = o
		}
	}
	if Outcome("cdn_error").Style() != PendingStyle {
		t.Error("an unknown outcome looks pending")
	}
}
