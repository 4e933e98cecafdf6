package config

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

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest configuration file Load reads.
const MaxFileSize = 4 << 20

// ErrTooLarge is returned (wrapped) by Load for a file over MaxFileSize.
var ErrTooLarge = errors.New("config: file too large")

// Load reads and parses the configuration file at path; see Parse.
func Load(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readConfigFile reads path, refusing files over MaxFileSize.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, path, MaxFileSize)
	}
	return data, nil
}

// Parse decodes data, the contents of file (used in error messages and as
// Config.File), strictly: unknown keys, wrong types and invalid values are
// errors. It expands ${ENV} references, reads *_file secrets, applies the
// defaults and validates the result. It returns every problem at once, as
// *Error values joined with errors.Join and sorted by line, and a nil
// Config when there is any.
func Parse(file string, data []byte) (*Config, error) {
	return newParser(file).parse(data)
}

// LoadPartial is Load for `gateway check`: with errors it also returns the
// part of the file that decoded (defaults applied; nil only when the file
// could not be read or is not YAML), so that later checks — each sensor
// driver's options — can report their errors in the same run.
func LoadPartial(path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	p := newParser(path)
	p.partial = true
	return p.parse(data)
}

func newParser(file string) *parser {
	return &parser{
		errs:     errList{file: file},
		lookup:   os.LookupEnv,
		lines:    map[string]int{},
		reported: map[string]bool{},
		bad:      map[string]bool{},
	}
}

//

// parser holds the state of one Parse call.
type parser struct {
	errs     errList
	lookup   func(name string) (string, bool) // the environment
	lines    map[string]int                   // key path → line, for every key decoded without error
	reported map[string]bool                  // key paths that already have an error
	bad      map[string]bool                  // key paths whose value could not be read (type, ${…}, …)
	partial  bool                             // return the decoded Config along with errors
}

func (p *parser) parse(data []byte) (*Config, error) {
	root, err := parseYAML(data)
	if err != nil {
		p.errs.errs = append(p.errs.errs, blameIndentation(syntaxError(p.errs.file, err), data))
		return nil, p.errs.err()
	}
	if line, over := tooManyAliases(root); over {
		p.errs.add(line, "", nil, "the document expands to more than %d values through YAML aliases (*name): refused", maxExpandedNodes)
		return nil, p.errs.err()
	}
	c := &Config{File: p.errs.file}
	if root != nil && len(root.Content) > 0 {
		p.expandTree(root, "", map[*yaml.Node]bool{})
		p.decode(root.Content[0], "", 1, reflect.ValueOf(c).Elem())
	}
	applyDefaults(c, p.has)
	p.readSecrets(c)
	p.validate(c)
	if err := p.errs.err(); err != nil {
		if p.partial {
			return c, err
		}
		return nil, err
	}
	return c, nil
}

// fail records an error about path at line, for a value that could not be
// read: nothing under path is validated then.
func (p *parser) fail(line int, path string, format string, args ...any) {
	p.bad[path] = true
	p.reported[path] = true
	p.errs.add(line, path, nil, format, args...)
}

// failAt records a validation error about path at the line path was
// decoded from (or its nearest parent's), unless path already has an error
// or a parent could not be read: one mistake gives one error.
func (p *parser) failAt(path string, format string, args ...any) {
	p.failCause(path, nil, format, args...)
}

// failCause is failAt with an underlying error, for errors.Is.
func (p *parser) failCause(path string, cause error, format string, args ...any) {
	if p.reported[path] {
		return
	}
	for q := path; ; q = parent(q) {
		if p.bad[q] {
			return
		}
		if q == "" {
			break
		}
	}
	p.reported[path] = true
	p.errs.add(p.line(path), path, cause, format, args...)
}

// has reports whether path was set in the file (and decoded without error).
func (p *parser) has(path string) bool {
	_, ok := p.lines[path]
	return ok
}

// line returns the line of path, or of its nearest parent present in the
// file, or 1.
func (p *parser) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		path = parent(path)
	}
	return 1
}

// parent strips the last key or index from a key path.
func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return path[:i]
		}
	}
	return ""
}

// parseYAML returns the document node, or nil for an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return nil, err
	default:
		return nil, fmt.Errorf("yaml: line %d: a second YAML document: the file must hold one", next.Line)
	}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an *Error with its line.
func syntaxError(file string, err error) *Error {
	e := &Error{File: file, Msg: err.Error(), Err: err}
	if m := yamlLineRE.FindStringSubmatch(e.Msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "yaml syntax: " + m[2]
	} else {
		e.Msg = "yaml: " + strings.TrimPrefix(e.Msg, "yaml: ")
	}
	return e
}

// ParsePartial is Parse for a document not read from a file (a remote
// configuration): like LoadPartial, it returns the part that decoded along
// with the errors, which name file as Parse does.
func ParsePartial(file string, data []byte) (*Config, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrTooLarge, file, MaxFileSize)
	}
	p := newParser(file)
	p.partial = true
	return p.parse(data)
}
