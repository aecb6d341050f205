package slo

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmprobe/llmprobe/probe"
	"gopkg.in/yaml.v3"
)

func TestDefaultSpecIsValidInEveryProfile(t *testing.T) {
	for _, p := range []Profile{DefaultProfile(), TestProfile()} {
		if err := DefaultSpec(p).Validate(); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
	}
}

func TestDefaultSpecCoversEveryCatalogProviderAndCheck(t *testing.T) {
	slos := DefaultSpec(DefaultProfile()).SLOs()
	for _, p := range probe.ProviderIDs() {
		for _, k := range probe.Kinds {
			found := false
			for _, s := range slos {
				if s.Provider == p && s.Check == string(k) && s.SLI == SLOAvailability {
					found = true
				}
			}
			if !found {
				t.Errorf("no availability SLO for %s/%s", p, k)
			}
		}
	}
}

// Every latency threshold must be a bucket boundary of the duration
// histogram, so that the latency SLI reads one bucket exactly.
func TestEveryDefaultLatencyThresholdIsAHistogramBucket(t *testing.T) {
	n := 0
	for _, s := range DefaultSpec(DefaultProfile()).SLOs() {
		if s.SLI != SLOLatency {
			continue
		}
		n++
		// The phase histograms' smaller set holds the shipped thresholds
		// too (DESIGN.md: every histogram's classic buckets include every
		// SLO latency threshold).
		for name, buckets := range map[string][]float64{"DurationBuckets": probe.DurationBuckets, "PhaseBuckets": probe.PhaseBuckets} {
			found := false
			for _, b := range buckets {
				if time.Duration(b*float64(time.Second)) == s.Threshold {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: threshold %s is not in probe.%s %v", s.Name(), s.Threshold, name, buckets)
			}
		}
	}
	if n == 0 {
		t.Fatal("the default spec has no latency SLO")
	}
}

func TestIsBucket(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want bool
	}{
		{5 * time.Millisecond, true},
		{2500 * time.Millisecond, true},
		{10 * time.Second, true},
		{120 * time.Second, true},
		{7 * time.Second, false},
		{3 * time.Minute, false},
	} {
		if got := IsBucket(tc.d); got != tc.want {
			t.Errorf("IsBucket(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestParseAppliesAFileOverTheDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		check func(t *testing.T, s Spec)
	}{
		{
			name: "a file with only apiVersion gives the defaults",
			file: "apiVersion: llmprobe/v1\n",
			check: func(t *testing.T, s Spec) {
				if !reflect.DeepEqual(s, DefaultSpec(DefaultProfile())) {
					t.Errorf("got %+v, want the defaults", s)
				}
			},
		},
		{
			name: "a field of one check replaces only that field",
			file: "apiVersion: llmprobe/v1\nchecks:\n  chat:\n    availability: 0.99\n",
			check: func(t *testing.T, s Spec) {
				if s.Checks.Chat.Availability != 0.99 {
					t.Errorf("chat availability = %v, want 0.99", s.Checks.Chat.Availability)
				}
				if s.Checks.Chat.Latency == nil || s.Checks.Chat.Latency.Objective != 0.95 {
					t.Errorf("chat latency = %+v, want the default kept", s.Checks.Chat.Latency)
				}
			},
		},
		{
			name: "latency null turns a check's latency SLO off",
			file: "apiVersion: llmprobe/v1\nchecks:\n  stream:\n    latency: null\n",
			check: func(t *testing.T, s Spec) {
				for _, o := range s.SLOs() {
					if o.Check == "stream" && o.SLI == SLOLatency {
						t.Fatalf("stream still has a latency SLO: %+v", o)
					}
				}
			},
		},
		{
			name: "an override changes one provider's check",
			file: "apiVersion: llmprobe/v1\noverrides:\n  - provider: openrouter\n    check: chat\n    availability: 0.99\n    latency: {objective: 0.9, threshold: 20s}\n",
			check: func(t *testing.T, s Spec) {
				for _, o := range s.SLOs() {
					switch {
					case o.Provider == "openrouter" && o.Check == "chat" && o.SLI == SLOAvailability && o.Objective != 0.99,
						o.Provider == "openrouter" && o.Check == "chat" && o.SLI == SLOLatency && (o.Objective != 0.9 || o.Threshold != 20*time.Second),
						o.Provider == "openai" && o.Check == "chat" && o.SLI == SLOAvailability && o.Objective != 0.995:
						t.Errorf("unexpected SLO %+v", o)
					}
				}
			},
		},
		{
			name: "regionNames alone sets regions",
			file: "apiVersion: llmprobe/v1\nregionNames: [eu-west, us-east]\n",
			check: func(t *testing.T, s Spec) {
				if s.Regions != 2 || s.Quorum() != 2 {
					t.Errorf("regions = %d, quorum = %d, want 2 and 2", s.Regions, s.Quorum())
				}
			},
		},
		{
			name: "one region makes the quorum one",
			file: "apiVersion: llmprobe/v1\nregions: 1\n",
			check: func(t *testing.T, s Spec) {
				if s.Quorum() != 1 {
					t.Errorf("quorum = %d, want 1", s.Quorum())
				}
			},
		},
		{
			name: "durations take Prometheus units",
			file: "apiVersion: llmprobe/v1\nwindow: 28d\nprobeInterval: 1m30s\n",
			check: func(t *testing.T, s Spec) {
				if time.Duration(s.Window) != 28*24*time.Hour || time.Duration(s.ProbeInterval) != 90*time.Second {
					t.Errorf("window %s, interval %s", s.Window, s.ProbeInterval)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.file), "slo.yaml", DefaultProfile())
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestParseRejectsABadFileNamingTheFileFieldAndProblem(t *testing.T) {
	const v1 = "apiVersion: llmprobe/v1\n"
	for _, tc := range []struct {
		name string
		file string
		want []string // substrings of the error, in order
	}{
		{"an unknown top-level field", v1 + "windw: 30d\n",
			[]string{"slo.yaml:2: windw: unknown field (known here: apiVersion, window,"}},
		{"an unknown nested field", v1 + "checks:\n  chat:\n    latency:\n      objectiv: 0.9\n",
			[]string{"slo.yaml:5: checks.chat.latency.objectiv: unknown field (known here: objective, threshold)"}},
		{"an unknown field in a list item", v1 + "overrides:\n  - provider: openai\n    chek: chat\n",
			[]string{"slo.yaml:4: overrides[0].chek: unknown field"}},
		{"an objective of 1.5", v1 + "checks:\n  reach:\n    availability: 1.5\n",
			[]string{"slo.yaml:4: checks.reach.availability: objective 1.5 is outside (0, 1)"}},
		{"an objective of 0", v1 + "checks:\n  chat:\n    latency: {objective: 0, threshold: 10s}\n",
			[]string{"slo.yaml:4: checks.chat.latency.objective: objective 0 is outside (0, 1)"}},
		{"an objective written as a percentage", v1 + "checks:\n  reach:\n    availability: 99.9%\n",
			[]string{"slo.yaml:4: checks.reach.availability: \"99.9%\" is not a number"}},
		{"an unknown provider", v1 + "providers: [openai, opneai]\n",
			[]string{"slo.yaml:2: providers[1]: unknown provider \"opneai\" (known: openai, anthropic,"}},
		{"an override of an unknown provider", v1 + "overrides:\n  - provider: acme\n    check: chat\n    availability: 0.9\n",
			[]string{"slo.yaml:3: overrides[0].provider: unknown provider \"acme\""}},
		{"a malformed duration", v1 + "probeInterval: 5 minutes\n",
			[]string{"slo.yaml:2: probeInterval: value \"5 minutes\": malformed duration"}},
		{"a duration in the wrong unit order", v1 + "window: 30m1d\n",
			[]string{"slo.yaml:2: window: value \"30m1d\": malformed duration"}},
		{"a latency threshold that is not a bucket", v1 + "checks:\n  chat:\n    latency: {objective: 0.9, threshold: 7s}\n",
			[]string{"slo.yaml:4: checks.chat.latency.threshold: 7s is not a bucket boundary of llmprobe_probe_duration_seconds: use one of 5ms,"}},
		{"a latency SLO on reach", v1 + "checks:\n  reach:\n    latency: {objective: 0.9, threshold: 1s}\n",
			[]string{"checks.reach.latency: reach checks have no latency SLO"}},
		{"a missing apiVersion", "regions: 2\n",
			[]string{"slo.yaml: apiVersion: missing: want llmprobe/v1"}},
		{"another apiVersion", "apiVersion: llmprobe/v2\n",
			[]string{"slo.yaml:1: apiVersion: unknown version \"llmprobe/v2\": want llmprobe/v1"}},
		{"a window shorter than the longest burn window", v1 + "window: 1d\n",
			[]string{"slo.yaml:2: window: 1d is shorter than the longest burn-rate window, 3d"}},
		{"regionNames that disagree with regions", v1 + "regions: 3\nregionNames: [a, b]\n",
			[]string{"slo.yaml:3: regionNames: lists 2 regions but regions is 3"}},
		{"a region name with a quote", v1 + "regionNames: ['eu\"west']\n",
			[]string{"regionNames[0]: \"eu\\\"west\" is not a region name"}},
		{"a duplicate override", v1 + "overrides:\n  - {provider: openai, check: chat, availability: 0.9}\n  - {provider: openai, check: chat, availability: 0.8}\n",
			[]string{"slo.yaml:4: overrides[1]: repeats overrides[0] for openai/chat"}},
		{"an override that sets nothing", v1 + "overrides:\n  - {provider: openai, check: chat}\n",
			[]string{"overrides[0]: sets nothing"}},
		{"an override of an unknown check", v1 + "overrides:\n  - {provider: openai, check: embed, availability: 0.9}\n",
			[]string{"overrides[0].check: unknown check \"embed\""}},
		{"a webhook URL that is not absolute", v1 + "alertmanager:\n  webhookURL: /alerts\n",
			[]string{"slo.yaml:3: alertmanager.webhookURL: \"/alerts\" is not an absolute http or https URL"}},
		{"a runbook URL holding a template brace", v1 + "links:\n  runbook: 'https://x.example/{{ .x }}'\n",
			[]string{"links.runbook: \"https://x.example/{{ .x }}\" holds a brace"}},
		{"a list where a number belongs", v1 + "regions: [1, 2]\n",
			[]string{"slo.yaml:2: regions: seq is not a whole number"}},
		{"a key given twice", v1 + "regions: 2\nregions: 3\n",
			[]string{"slo.yaml:3: regions: given twice (first at line 2)"}},
		{"two YAML documents", v1 + "---\n" + v1,
			[]string{"slo.yaml: holds more than one YAML document"}},
		{"an empty file", "",
			[]string{"slo.yaml: empty: want a mapping that starts with apiVersion: llmprobe/v1"}},
		{"a list instead of a mapping", "- apiVersion\n",
			[]string{"slo.yaml:1: want a mapping of spec fields, not a list"}},
		{"a YAML syntax error", "apiVersion: [\n",
			[]string{"slo.yaml: "}},
		{"two problems at once", v1 + "regions: 0\nminFailedProbes: 0\n",
			[]string{"slo.yaml:2: regions: 0: want at least 1", "slo.yaml:3: minFailedProbes: 0: want at least 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file), "slo.yaml", DefaultProfile())
			if err == nil {
				t.Fatal("Parse accepted the file")
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("error %q does not wrap ErrInvalidSpec", err)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q (in order)", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestLoadNamesAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path, DefaultProfile())
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("Load = %v, want a not-exist error naming the file", err)
	}
}

func TestTestProfileAssumesOneSecondProbesUnlessTheFileSaysOtherwise(t *testing.T) {
	s, err := Parse([]byte("apiVersion: llmprobe/v1\n"), "slo.yaml", TestProfile())
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(s.ProbeInterval); got != time.Second {
		t.Errorf("test profile probe interval = %s, want 1s", got)
	}
	s, err = Parse([]byte("apiVersion: llmprobe/v1\nprobeInterval: 2s\n"), "slo.yaml", TestProfile())
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(s.ProbeInterval); got != 2*time.Second {
		t.Errorf("probe interval = %s, want the file's 2s", got)
	}
}

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30s", 30 * time.Second, "30s"},
		{"5m", 5 * time.Minute, "5m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"30d", 30 * 24 * time.Hour, "30d"},
		{"72h", 72 * time.Hour, "3d"},
		{"500ms", 500 * time.Millisecond, "500ms"},
		{"1m500ms", time.Minute + 500*time.Millisecond, "1m500ms"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if s := FormatDuration(got); s != tc.out {
			t.Errorf("FormatDuration(%v) = %q, want %q", got, s, tc.out)
		}
	}
	for _, bad := range []string{"", "0s", "5", "m", "1.5h", "-5m", "5 m", "1s1h", "1m1m", "5w", "99999999999999d"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		}
	}
}

// FuzzParse feeds the spec loader arbitrary files. It must never panic; an
// accepted file must be valid, generate, and read back the same after
// writing it out; a rejected one must say it is an invalid spec and name the
// file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/specs/*.yaml")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"apiVersion: llmprobe/v1\n",
		"apiVersion: llmprobe/v1\nwindow: 30d\nchecks: {chat: {latency: {objective: 0.9, threshold: 5s}}}\n",
		"apiVersion: llmprobe/v1\noverrides: [{provider: openai, check: reach, availability: 0.5}]\n",
		"apiVersion: llmprobe/v1\nregionNames: [a, b, c]\nregions: 3\n",
		"&a [*a]", "{", "apiVersion: !!binary AAAA\n", "checks: {reach: {availability: .nan}}\n",
	} {
		f.Add([]byte(s))
	}
	// Generate depends on nothing but the spec, and most inputs that parse
	// are a spec seen before (a comment, a space, another quoting): each
	// distinct spec runs the generator once per fuzzing process.
	generated := map[string]bool{}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml", DefaultProfile())
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not wrap ErrInvalidSpec and name the file", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid spec: %v", err)
		}
		out, err := yaml.Marshal(s)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if !generated[string(out)] {
			if _, err := Generate(s, DefaultProfile()); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			generated[string(out)] = true
		}
		back, err := Parse(out, "roundtrip.yaml", DefaultProfile())
		if err != nil {
			t.Fatalf("the spec written out does not read back: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip changed the spec:\n got %+v\nwant %+v", back, s)
		}
	})
}
