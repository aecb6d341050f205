package grafana

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// Prometheus alert templates may call `query` to list, say, the regions
// that see a failure; Grafana's alert templates have no such function and
// would show a template error. grafanaText rewrites a Prometheus template
// for Grafana: every construct that calls query is replaced by words that
// send the reader to the linked panel, which shows the same series.
// Everything else (labels, $value) is kept as written.

// prometheusFuncs are the template functions Prometheus offers (names only:
// the parser needs to know them, never calls them).
var prometheusFuncs = map[string]any{}

func init() {
	for _, name := range []string{"query", "first", "label", "value", "strvalue", "args", "safeHtml", "match", "reReplaceAll",
		"sortByLabel", "stripPort", "stripDomain", "title", "toUpper", "toLower", "graphLink", "tableLink", "parseDuration",
		"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix",
		"externalURL", "printf", "urlquery", "html", "js", "index", "len", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "print", "println"} {
		prometheusFuncs[name] = struct{}{}
	}
}

// templateHeader declares the variables Prometheus defines before an alert
// template (its parser needs them declared); grafanaText drops it again.
const templateHeader = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// grafanaText returns a Prometheus alert template rewritten for Grafana.
func grafanaText(text string) (string, error) {
	trees, err := parse.Parse("annotation", templateHeader+text, "{{", "}}", prometheusFuncs)
	if err != nil {
		return "", fmt.Errorf("parse alert template %q: %w", text, err)
	}
	root := trees["annotation"].Root
	root.Nodes = root.Nodes[strings.Count(templateHeader, "{{"):]
	rewriteQueries(root)
	return root.String(), nil
}

// rewriteQueries replaces, in place, every node of list whose pipeline
// calls query.
func rewriteQueries(list *parse.ListNode) {
	if list == nil {
		return
	}
	for i, n := range list.Nodes {
		var pipe *parse.PipeNode
		var branch *parse.BranchNode
		switch x := n.(type) {
		case *parse.ActionNode:
			pipe = x.Pipe
		case *parse.RangeNode:
			pipe, branch = x.Pipe, &x.BranchNode
		case *parse.WithNode:
			pipe, branch = x.Pipe, &x.BranchNode
		case *parse.IfNode:
			pipe, branch = x.Pipe, &x.BranchNode
		}
		if pipe != nil && callsQuery(pipe) {
			list.Nodes[i] = &parse.TextNode{NodeType: parse.NodeText, Pos: n.Position(), Text: []byte(instead(n))}
			continue
		}
		if branch != nil {
			rewriteQueries(branch.List)
			rewriteQueries(branch.ElseList)
		}
	}
}

func callsQuery(pipe *parse.PipeNode) bool {
	return strings.Contains(pipe.String(), "query")
}

// instead says in words what a query construct listed.
func instead(n parse.Node) string {
	s := n.String()
	switch {
	case strings.Contains(s, "latency_threshold"):
		return "the latency SLO's threshold"
	case strings.Contains(s, "slo_objective"):
		return "as set in the SLO spec"
	case strings.Contains(s, "Labels.region"):
		return "the regions on the linked panel"
	case strings.Contains(s, "Labels.provider"):
		return "the providers on the linked panel"
	}
	return "the values on the linked panel"
}
