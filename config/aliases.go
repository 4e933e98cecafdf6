package config

import (
	"go.yaml.in/yaml/v3"
)

// maxExpandedNodes bounds the YAML values a document may expand to through
// anchors and aliases. A real configuration has a few thousand; a file that
// aliases one list 100,000 times ("billion laughs") would otherwise cost
// seconds of CPU and an error line per copy.
const maxExpandedNodes = 100_000

// tooManyAliases reports whether root expands to more than
// maxExpandedNodes values, and the line of the alias that crossed it.
func tooManyAliases(root *yaml.Node) (line int, over bool) {
	memo := map[*yaml.Node]int{}
	var size func(n *yaml.Node, depth int) int
	size = func(n *yaml.Node, depth int) int {
		if n == nil {
			return 0
		}
		if depth > 1000 { // nesting no configuration needs
			return maxExpandedNodes + 1
		}
		if s, ok := memo[n]; ok {
			return s
		}
		total := 1
		if n.Kind == yaml.AliasNode {
			total = size(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			total += size(c, depth+1)
			if total > maxExpandedNodes {
				if line == 0 {
					line = c.Line
				}
				break
			}
		}
		memo[n] = total
		return total
	}
	return line, size(root, 0) > maxExpandedNodes
}

// maxErrors is the most errors a Parse reports one by one; the rest are
// counted in a last line.
const maxErrors = 100
