package worker

import "testing"

func TestParseControlTargets(t *testing.T) {
	got, err := ParseControlTargets("cf=https://one.example/trace, https://two.example/204")
	if err != nil || len(got) != 2 || got[0].Name != "cf" || got[1].Name != "two.example" {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"x=ftp://a", "a=https://x,a=https://y", "Bad Name=https://x"} {
		if _, err := ParseControlTargets(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
