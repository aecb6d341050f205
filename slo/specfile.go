package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrInvalidSpec is wrapped by every error about the content of an SLO
// spec file (as opposed to failing to read it).
var ErrInvalidSpec = errors.New("invalid SLO spec")

// Load reads an SLO spec file over the profile's defaults (DefaultSpec).
func Load(path string, p Profile) (Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("read SLO spec: %w", err)
	}
	return Parse(data, path, p)
}

// Parse reads an SLO spec over the profile's defaults. name is the file name
// used in errors. Decoding is strict: an unknown field, a value of the wrong
// type, a malformed duration, a second document or a missing apiVersion is
// an error, and so is every problem Validate finds. Each error names the
// file, the line, the field's path and what is wrong, and wraps
// ErrInvalidSpec.
//
// A field given in the file replaces the default; lists (providers,
// regionNames, overrides) replace the default list whole. `latency: null`
// turns a check's latency SLO off.
func Parse(data []byte, name string, p Profile) (Spec, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Spec{}, fmt.Errorf("%w: %s: %s", ErrInvalidSpec, name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return Spec{}, fmt.Errorf("%w: %s: empty: want a mapping that starts with apiVersion: %s", ErrInvalidSpec, name, APIVersion)
	}
	if top := root.Content[0]; top.Kind != yaml.MappingNode {
		return Spec{}, fmt.Errorf("%w: %s:%d: want a mapping of spec fields, not a %s", ErrInvalidSpec, name, top.Line, kindName(top.Kind))
	}
	entries := indexNodes(&root)

	spec := DefaultSpec(p)
	spec.APIVersion = "" // the file must say which version it is
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return Spec{}, fmt.Errorf("%w: %s: %s", ErrInvalidSpec, name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = describeTypeError(name, m, entries)
		}
		return Spec{}, fmt.Errorf("%w: %s", ErrInvalidSpec, strings.Join(msgs, "; "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Spec{}, fmt.Errorf("%w: %s: holds more than one YAML document", ErrInvalidSpec, name)
	}
	// An empty list is no list: keep one spelling of "none".
	if len(spec.RegionNames) == 0 {
		spec.RegionNames = nil
	}
	if len(spec.Overrides) == 0 {
		spec.Overrides = nil
	}
	// regionNames alone sets regions.
	if len(spec.RegionNames) > 0 && findEntry(entries, "regions") == nil {
		spec.Regions = len(spec.RegionNames)
	}
	if errs := spec.validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = locate(name, lineOf(entries, e.path), e.path, e.msg)
		}
		return Spec{}, fmt.Errorf("%w: %s", ErrInvalidSpec, strings.Join(msgs, "; "))
	}
	return spec, nil
}

// nodeEntry is one field or list item of the file, by its YAML path.
type nodeEntry struct {
	path  string
	key   *yaml.Node // nil for list items
	value *yaml.Node
}

// indexNodes lists every field and list item of a document, parents first.
func indexNodes(root *yaml.Node) []nodeEntry {
	var out []nodeEntry
	var walk func(path string, n *yaml.Node)
	walk = func(path string, n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(path, c)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out = append(out, nodeEntry{path: p, key: k, value: v})
				walk(p, v)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				out = append(out, nodeEntry{path: p, value: c})
				walk(p, c)
			}
		}
	}
	walk("", root)
	return out
}

func findEntry(entries []nodeEntry, path string) *nodeEntry {
	for i := range entries {
		if entries[i].path == path {
			return &entries[i]
		}
	}
	return nil
}

// lineOf is the line of the field at path or, when the file leaves it out,
// of its nearest parent that the file has; 0 when none.
func lineOf(entries []nodeEntry, path string) int {
	for path != "" {
		if e := findEntry(entries, path); e != nil {
			if e.key != nil {
				return e.key.Line
			}
			return e.value.Line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func locate(name string, line int, path, msg string) string {
	where := name
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	if path == "" {
		return where + ": " + msg
	}
	return where + ": " + path + ": " + msg
}

var (
	reUnknownField = regexp.MustCompile("^line (\\d+): field (.+) not found in type (.+)$")
	reCannot       = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
	reDuplicate    = regexp.MustCompile("^line (\\d+): mapping key \"(.+)\" already defined at line (\\d+)$")
	reLine         = regexp.MustCompile("^line (\\d+): (.*)$")
	reValue        = regexp.MustCompile(`^value "(.*?)"`)
)

// describeTypeError rewrites one yaml.TypeError message so that it names the
// field by its path and says what is wrong in the spec's words.
func describeTypeError(name, msg string, entries []nodeEntry) string {
	if m := reUnknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		path := m[2]
		for _, e := range entries {
			if e.key != nil && e.key.Line == line && e.key.Value == m[2] {
				path = e.path
				break
			}
		}
		msg := "unknown field"
		if known := knownFields(path); len(known) > 0 {
			msg += " (known here: " + strings.Join(known, ", ") + ")"
		}
		return locate(name, line, path, msg)
	}
	if m := reDuplicate.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		path := ""
		for _, e := range entries {
			if e.key != nil && e.key.Line == line && e.key.Value == m[2] {
				path = e.path
			}
		}
		return locate(name, line, path, "given twice (first at line "+m[3]+")")
	}
	if m := reCannot.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		what := strings.TrimPrefix(m[2], "!!")
		kind := yaml.ScalarNode
		switch m[2] {
		case "!!seq":
			kind = yaml.SequenceNode
		case "!!map":
			kind = yaml.MappingNode
		}
		if m[3] != "" {
			what = strconv.Quote(m[3])
		}
		return locate(name, line, pathAt(entries, line, kind, strings.TrimSuffix(m[3], "...")), what+" is not "+typeWords(m[4]))
	}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		value := ""
		if v := reValue.FindStringSubmatch(m[2]); v != nil {
			value = v[1]
		}
		return locate(name, line, pathAt(entries, line, yaml.ScalarNode, value), m[2])
	}
	return name + ": " + msg
}

// pathAt finds the field on line whose value is of the given kind and, for
// a scalar, starts with value (may be ""), to pick among several fields on
// one line. The deepest match wins.
func pathAt(entries []nodeEntry, line int, kind yaml.Kind, value string) string {
	best := ""
	for _, e := range entries {
		onLine := e.value.Line == line || (e.key != nil && e.key.Line == line)
		if !onLine || e.value.Kind != kind {
			continue
		}
		if kind == yaml.ScalarNode && !strings.HasPrefix(e.value.Value, value) {
			continue
		}
		if len(e.path) >= len(best) {
			best = e.path
		}
	}
	return best
}

// typeWords names a Go type of the spec in the file's terms.
func typeWords(goType string) string {
	switch goType {
	case "float64":
		return "a number"
	case "int":
		return "a whole number"
	case "string":
		return "a string"
	case "[]string":
		return "a list of strings"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	return "a mapping"
}

// knownFields lists the YAML field names allowed in the mapping that holds
// path, from the Spec type itself.
func knownFields(path string) []string {
	t := reflect.TypeOf(Spec{})
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		name, _, _ := strings.Cut(seg, "[")
		f, ok := fieldByTag(t, name)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		// A key with a dot in it, or a field below a scalar: no list.
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if tag := yamlName(t.Field(i)); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := 0; i < t.NumField(); i++ {
		if yamlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	return name
}
