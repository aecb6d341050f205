package worker

import (
	"runtime/debug"
	"testing"
)

// TestSetGCDefaultLeavesAnExplicitGOGC sets the default when GOGC is unset
// and leaves the collector alone when it is set, even to an empty value
// (the runtime's own default then).
func TestSetGCDefaultLeavesAnExplicitGOGC(t *testing.T) {
	prev := debug.SetGCPercent(137)
	defer debug.SetGCPercent(prev)
	for _, tc := range []struct {
		env  map[string]string
		set  bool
		want int
	}{
		{map[string]string{"GOGC": "200"}, false, 137},
		{map[string]string{"GOGC": ""}, false, 137},
		{map[string]string{"GOMEMLIMIT": "64MiB"}, true, DefaultGOGC},
	} {
		debug.SetGCPercent(137)
		lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
		if got := SetGCDefault(lookup); got != tc.set {
			t.Errorf("%v: SetGCDefault = %v, want %v", tc.env, got, tc.set)
		}
		if got := debug.SetGCPercent(137); got != tc.want {
			t.Errorf("%v: GOGC %d, want %d", tc.env, got, tc.want)
		}
	}
}
