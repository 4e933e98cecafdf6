package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	suggestpkg "github.com/edgegw/edgegw/internal/suggest"
)

// The decoder walks the yaml.Node tree against the Config struct by
// reflection, using the yaml struct tags: "key" names a key, ",inline" is the
// map[string]Option that takes a sensor's unknown keys, ",line" receives the
// line of the mapping, "-" is not read from the file. It records the line of
// every key it decodes (p.lines) and one *Error per problem; a key whose value
// is wrong is left as it was (zero, so the default applies).

var (
	durationType = reflect.TypeFor[Duration]()
	sizeType     = reflect.TypeFor[Size]()
	optionsType  = reflect.TypeFor[map[string]Option]()
)

// maxMergeDepth bounds "<<" merges of merges.
const maxMergeDepth = 16

// decode stores n in v (addressable). path names the key, line is where the
// key (or list item) stands. A null value leaves v as it is: absent.
func (p *parser) decode(n *yaml.Node, path string, line int, v reflect.Value) {
	n = deref(n)
	if n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	var ok bool
	switch {
	case v.Type() == durationType:
		ok = p.duration(n, path, line, v)
	case v.Type() == sizeType:
		ok = p.size(n, path, line, v)
	case v.Kind() == reflect.Pointer:
		ok = p.pointer(n, path, line, v)
	case v.Kind() == reflect.Struct:
		ok = p.structure(n, path, line, v)
	case v.Kind() == reflect.Slice:
		ok = p.sequence(n, path, v)
	case v.Kind() == reflect.Map:
		ok = p.mapping(n, path, v)
	default:
		ok = p.scalar(n, path, line, v)
	}
	if ok {
		p.lines[path] = line
	}
}

func (p *parser) pointer(n *yaml.Node, path string, line int, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		p.fail(line, path, "want a mapping, got %s", describe(n))
		return false
	}
	nv := reflect.New(v.Type().Elem())
	p.structure(n, path, line, nv.Elem())
	v.Set(nv)
	return true
}

func (p *parser) structure(n *yaml.Node, path string, line int, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		p.fail(line, path, "want a mapping, got %s", describe(n))
		return false
	}
	fields := fieldsOf(v.Type())
	for _, kv := range p.pairs(n, path, 0) {
		key := kv.key.Value
		kpath := join(path, key)
		switch i, ok := fields.byKey[key]; {
		case ok:
			p.decode(kv.val, kpath, kv.key.Line, v.Field(i))
		case fields.inline >= 0:
			p.option(kv, kpath, v.Field(fields.inline).Addr().Interface().(*map[string]Option))
		case path == "" && strings.HasPrefix(key, "x-"):
			// extension key at the top level: a place for YAML anchors
		default:
			p.fail(kv.key.Line, kpath, "unknown key%s", suggest(key, fields.keys))
		}
	}
	if fields.line >= 0 {
		v.Field(fields.line).SetInt(int64(line))
	}
	return true
}

func (p *parser) sequence(n *yaml.Node, path string, v reflect.Value) bool {
	if n.Kind != yaml.SequenceNode {
		p.fail(n.Line, path, "want a list, got %s", describe(n))
		return false
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, c := range n.Content {
		ipath := path + "[" + strconv.Itoa(i) + "]"
		p.lines[ipath] = c.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		p.decode(c, ipath, c.Line, elem)
		s = reflect.Append(s, elem)
	}
	v.Set(s)
	return true
}

func (p *parser) mapping(n *yaml.Node, path string, v reflect.Value) bool {
	if n.Kind != yaml.MappingNode {
		p.fail(n.Line, path, "want a mapping, got %s", describe(n))
		return false
	}
	m := reflect.MakeMap(v.Type())
	for _, kv := range p.pairs(n, path, 0) {
		elem := reflect.New(v.Type().Elem()).Elem()
		p.decode(kv.val, join(path, kv.key.Value), kv.key.Line, elem)
		m.SetMapIndex(reflect.ValueOf(kv.key.Value), elem)
	}
	v.Set(m)
	return true
}

// option stores a driver option raw, as YAML decodes it into an any.
func (p *parser) option(kv pair, path string, opts *map[string]Option) {
	var val any
	if err := kv.val.Decode(&val); err != nil {
		p.fail(kv.key.Line, path, "%s", yamlMessage(err))
		return
	}
	if *opts == nil {
		*opts = map[string]Option{}
	}
	(*opts)[kv.key.Value] = Option{Value: normalize(val), Line: kv.key.Line, Lines: nestedLines(kv.val)}
	p.lines[path] = kv.key.Line
}

// maxOptionDepth bounds how deep nestedLines records lines: an element
// nested deeper has no line of its own (errors give its option's).
const maxOptionDepth = 32

// nestedLines returns the lines of the elements nested in an option's value
// n, by path below the option (see Option.Lines); nil for a scalar.
func nestedLines(n *yaml.Node) map[string]int {
	var lines map[string]int
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		n = deref(n)
		if n == nil || depth > maxOptionDepth {
			return
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				lines[p] = c.Line
				walk(c, p, depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := join(path, n.Content[i].Value)
				lines[p] = n.Content[i].Line
				walk(n.Content[i+1], p, depth+1)
			}
		}
	}
	if n = deref(n); n != nil && (n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) {
		lines = map[string]int{}
		walk(n, "", 0)
	}
	return lines
}

// kindWords name what a scalar field wants, for error messages.
var kindWords = map[reflect.Kind]string{
	reflect.String: "a string", reflect.Bool: "true or false",
	reflect.Int: "an integer", reflect.Float64: "a number",
}

func (p *parser) scalar(n *yaml.Node, path string, line int, v reflect.Value) bool {
	want := kindWords[v.Kind()]
	if n.Kind != yaml.ScalarNode {
		p.fail(line, path, "want %s, got %s", want, describe(n))
		return false
	}
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return true
	case reflect.Bool:
		var b bool
		if tag == "!!bool" && n.Decode(&b) == nil {
			v.SetBool(b)
			return true
		}
	case reflect.Int:
		var i int64
		if tag == "!!int" && n.Decode(&i) == nil {
			if v.OverflowInt(i) {
				p.fail(line, path, "%s is out of range", n.Value)
				return false
			}
			v.SetInt(i)
			return true
		}
	case reflect.Float64:
		var f float64
		if (tag == "!!int" || tag == "!!float") && n.Decode(&f) == nil {
			v.SetFloat(f)
			return true
		}
	}
	p.fail(line, path, "want %s, got %s", want, describe(n))
	return false
}

func (p *parser) duration(n *yaml.Node, path string, line int, v reflect.Value) bool {
	if n.Kind != yaml.ScalarNode {
		p.fail(line, path, "want a duration like 30s, got %s", describe(n))
		return false
	}
	d, err := parseDuration(n.Value)
	if err != nil {
		p.fail(line, path, "%v", err)
		return false
	}
	v.SetInt(int64(d))
	return true
}

func (p *parser) size(n *yaml.Node, path string, line int, v reflect.Value) bool {
	if n.Kind != yaml.ScalarNode {
		p.fail(line, path, "want a size like 64MiB, got %s", describe(n))
		return false
	}
	s, err := ParseSize(n.Value)
	if err != nil {
		p.fail(line, path, "%v", err)
		return false
	}
	v.SetInt(int64(s))
	return true
}

//

// pair is one key and value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns n's keys and values: its own, in order, then those merged in
// with "<<" that it does not set itself (the first merged wins). A key twice
// in n is an error.
func (p *parser) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
			merged = append(merged, p.merge(v, path, k.Line, depth)...)
		case k.Kind != yaml.ScalarNode:
			p.fail(k.Line, path, "want a plain key, got %s", describe(k))
		case seen[k.Value] > 0:
			p.fail(k.Line, join(path, k.Value), "key given twice (first on line %d)", seen[k.Value])
		default:
			seen[k.Value] = k.Line
			own = append(own, pair{k, v})
		}
	}
	for _, kv := range merged {
		if seen[kv.key.Value] == 0 {
			seen[kv.key.Value] = kv.key.Line
			own = append(own, kv)
		}
	}
	return own
}

// merge returns the pairs a "<<" key with value v merges in.
func (p *parser) merge(v *yaml.Node, path string, line, depth int) []pair {
	v = deref(v)
	if depth >= maxMergeDepth {
		p.fail(line, path, "<< merges nested too deep")
		return nil
	}
	switch {
	case v != nil && v.Kind == yaml.MappingNode:
		return p.pairs(v, path, depth+1)
	case v != nil && v.Kind == yaml.SequenceNode:
		var out []pair
		for _, m := range v.Content {
			out = append(out, p.merge(m, path, line, depth+1)...)
		}
		return out
	}
	p.fail(line, path, "<< wants a mapping or a list of mappings")
	return nil
}

// structFields describes a struct type's yaml tags.
type structFields struct {
	byKey  map[string]int // key → field index
	keys   []string       // keys in field order, for suggestions
	inline int            // index of the map[string]Option field, or -1
	line   int            // index of the ",line" field, or -1
}

func fieldsOf(t reflect.Type) structFields {
	f := structFields{byKey: map[string]int{}, inline: -1, line: -1}
	for i := range t.NumField() {
		switch tag := t.Field(i).Tag.Get("yaml"); {
		case tag == ",inline" && t.Field(i).Type == optionsType:
			f.inline = i
		case tag == ",line":
			f.line = i
		case tag != "" && tag != "-":
			f.byKey[tag] = i
			f.keys = append(f.keys, tag)
		}
	}
	return f
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe names what a node holds, for "want …, got …" messages.
func describe(n *yaml.Node) string {
	switch deref(n).Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(deref(n).Value)
	}
	return "nothing"
}

// suggest returns ` (did you mean "x"?)` for the known key closest to key,
// or the list of known keys when none is close.
func suggest(key string, known []string) string {
	if best, ok := suggestpkg.Closest(key, known); ok {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// normalize turns the map[any]any yaml.v3 makes for non-string keys into
// map[string]any, and a time.Time into its RFC 3339 text, at any depth.
func normalize(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case time.Time: // an explicit !!timestamp tag
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// yamlMessage is a yaml.v3 decode error without its "yaml: " framing.
func yamlMessage(err error) string {
	if te, ok := err.(*yaml.TypeError); ok {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
