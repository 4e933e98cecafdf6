package config

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandTree replaces ${NAME} with the environment variable NAME and $$ with
// $ in every scalar value (not key) of the tree under n, in place, each node
// once even when aliases reach it again. Plain timestamps stay strings. A plain (unquoted, untagged) scalar
// whose text changed is typed again from its new text, as if written so:
// "port: ${PORT}" is an integer when PORT is "1883", while
// "port: '${PORT}'" stays a string.
func (p *parser) expandTree(n *yaml.Node, path string, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			p.expandTree(c, path, seen)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.expandTree(c, path+"["+strconv.Itoa(i)+"]", seen)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.expandTree(n.Content[i+1], join(path, n.Content[i].Value), seen)
		}
	case yaml.AliasNode:
		p.expandTree(n.Alias, path, seen)
	case yaml.ScalarNode:
		p.expandScalar(n, path)
	}
}

func (p *parser) expandScalar(n *yaml.Node, path string) {
	if n.Style == 0 && n.Tag == "!!timestamp" {
		n.Tag = "!!str" // driver options get "2024-05-01" as written, not a time.Time
	}
	if !strings.Contains(n.Value, "$") {
		return
	}
	s, problems := expand(n.Value, p.lookup)
	for _, msg := range problems {
		p.fail(n.Line, path, "%s", msg)
	}
	if len(problems) > 0 || s == n.Value {
		return
	}
	n.Value = s
	if n.Style == 0 { // plain and untagged: yaml types it again from the new text
		n.Tag = ""
	}
}

// expand returns s with ${NAME} replaced by lookup(NAME) and $$ by $; any
// other $ stays as written (so bcrypt hashes like "$2a$10$…" pass
// unchanged). problems describes each unset variable or malformed reference.
func expand(s string, lookup func(string) (string, bool)) (out string, problems []string) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String(), problems
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				problems = append(problems, "unterminated ${ in "+strconv.Quote(s[i:])+" (write $$ for a literal $)")
				return b.String(), problems
			}
			name := s[i+2 : i+end]
			s = s[i+end+1:]
			if !isEnvName(name) {
				problems = append(problems, "bad environment variable name "+strconv.Quote(name)+" in ${…} (write $$ for a literal $)")
				continue
			}
			v, ok := lookup(name)
			if !ok {
				problems = append(problems, "environment variable "+name+" is not set")
				continue
			}
			b.WriteString(v)
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

// isEnvName reports whether name is [A-Za-z_][A-Za-z0-9_]*.
func isEnvName(name string) bool {
	for i, c := range []byte(name) {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}

// join appends key to a key path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
