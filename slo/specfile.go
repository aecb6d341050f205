package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/llmprobe/llmprobe/probe"
)

// ErrInvalidSpec is wrapped by every error about the content of an SLO
// spec file (as opposed to failing to read it).
var ErrInvalidSpec = errors.New("invalid SLO spec")

// MaxSpecFile bounds an SLO spec file: a full one is a few KiB.
const MaxSpecFile = 1 << 20

// maxSpecEntries bounds the fields and list items of a spec: a full one
// (every provider, a few dozen regions and overrides) has a few hundred.
const maxSpecEntries = 5000

// maxErrors bounds how many problems one error lists; it says how many
// more there were.
const maxErrors = 20

// Load reads an SLO spec file (a regular file of at most MaxSpecFile
// bytes) over the profile's defaults (DefaultSpec).
func Load(path string, p Profile) (Spec, error) {
	data, err := probe.ReadFileCapped(path, MaxSpecFile)
	if err != nil {
		return Spec{}, fmt.Errorf("read SLO spec: %w", err)
	}
	return Parse(data, path, p)
}

// joinCapped joins the first maxErrors messages that describe returns for
// i in [0, n), and says how many more there were: a file with a quarter of
// a million mistakes gets a readable answer, fast.
func joinCapped(n int, describe func(i int) string) string {
	msgs := make([]string, 0, min(n, maxErrors))
	for i := 0; i < n && i < maxErrors; i++ {
		msgs = append(msgs, describe(i))
	}
	out := strings.Join(msgs, "; ")
	if n > maxErrors {
		out += fmt.Sprintf("; and %d more", n-maxErrors)
	}
	return out
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
	if n := len(entries.entries); n > maxSpecEntries {
		// Checked before decoding: yaml.v3 looks for repeated keys in time
		// quadratic in a mapping's size.
		return Spec{}, fmt.Errorf("%w: %s: %d fields and list items, more than the %d an SLO spec may hold", ErrInvalidSpec, name, n, maxSpecEntries)
	}

	spec := DefaultSpec(p)
	spec.APIVersion = "" // the file must say which version it is
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return Spec{}, fmt.Errorf("%w: %s: %s", ErrInvalidSpec, name, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		return Spec{}, fmt.Errorf("%w: %s", ErrInvalidSpec, joinCapped(len(te.Errors), func(i int) string { return describeTypeError(name, te.Errors[i], entries) }))
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
	if len(spec.RegionNames) > 0 && entries.find("regions") == nil {
		spec.Regions = len(spec.RegionNames)
	}
	if errs := spec.validate(); len(errs) > 0 {
		return Spec{}, fmt.Errorf("%w: %s", ErrInvalidSpec, joinCapped(len(errs), func(i int) string {
			return locate(name, entries.lineOf(errs[i].path), errs[i].path, errs[i].msg)
		}))
	}
	return spec, nil
}

// nodeEntry is one field or list item of the file, by its YAML path.
type nodeEntry struct {
	path  string
	key   *yaml.Node // nil for list items
	value *yaml.Node
}

// nodeIndex is every field and list item of a document, parents first,
// looked up by path and by line in constant time: a file of many entries
// with many mistakes is described in linear time.
type nodeIndex struct {
	entries []nodeEntry
	byPath  map[string]int // the first entry with the path
	byLine  map[int][]int  // entries whose key or value is on the line
}

// indexNodes lists every field and list item of a document, parents first.
func indexNodes(root *yaml.Node) *nodeIndex {
	idx := &nodeIndex{byPath: map[string]int{}, byLine: map[int][]int{}}
	add := func(e nodeEntry) {
		i := len(idx.entries)
		idx.entries = append(idx.entries, e)
		if _, ok := idx.byPath[e.path]; !ok {
			idx.byPath[e.path] = i
		}
		idx.byLine[e.value.Line] = append(idx.byLine[e.value.Line], i)
		if e.key != nil && e.key.Line != e.value.Line {
			idx.byLine[e.key.Line] = append(idx.byLine[e.key.Line], i)
		}
	}
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
				add(nodeEntry{path: p, key: k, value: v})
				walk(p, v)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				add(nodeEntry{path: p, value: c})
				walk(p, c)
			}
		}
	}
	walk("", root)
	return idx
}

// find is the first entry with path, or nil.
func (idx *nodeIndex) find(path string) *nodeEntry {
	if i, ok := idx.byPath[path]; ok {
		return &idx.entries[i]
	}
	return nil
}

// onLine are the entries whose key or value is on line, in document order.
func (idx *nodeIndex) onLine(line int) []nodeEntry {
	out := make([]nodeEntry, 0, len(idx.byLine[line]))
	for _, i := range idx.byLine[line] {
		out = append(out, idx.entries[i])
	}
	return out
}

// lineOf is the line of the field at path or, when the file leaves it out,
// of its nearest parent that the file has; 0 when none.
func (idx *nodeIndex) lineOf(path string) int {
	for path != "" {
		if e := idx.find(path); e != nil {
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
func describeTypeError(name, msg string, entries *nodeIndex) string {
	if m := reUnknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		path := m[2]
		for _, e := range entries.onLine(line) {
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
		for _, e := range entries.onLine(line) {
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
func pathAt(entries *nodeIndex, line int, kind yaml.Kind, value string) string {
	best := ""
	for _, e := range entries.onLine(line) {
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
