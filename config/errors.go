package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a configuration file: where it is and what is
// wrong. Load and Parse return every Error they find at once, joined with
// errors.Join and sorted by line; use errors.As on each to get the position.
//
// Its text is "file:line: path: message", e.g.
// "gateway.yaml:14: broker.listeners[1].tls.cert_file: file not found: x.pem".
type Error struct {
	File string // the file, as given to Load or Parse
	Line int    // 1-based; 0 when the position is unknown
	Path string // key path, e.g. "bridge.topics[0].qos"; empty for syntax errors
	Msg  string // what is wrong
	Err  error  // underlying cause (e.g. fs.ErrNotExist), or nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errors returns the *Error values in err, as joined by Load or Parse, in
// order. It returns nil when err holds none.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		var e *Error
		switch x := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				walk(err)
			}
		default:
			if errors.As(err, &e) {
				out = append(out, e)
			}
		}
	}
	walk(err)
	return out
}

//

// errList collects the errors of one file.
type errList struct {
	file string
	errs []*Error
}

func (l *errList) add(line int, path string, cause error, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...), Err: cause})
}

// err returns the errors sorted by line (ties keep the order found), joined.
func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	shown := l.errs[:min(len(l.errs), maxErrors)]
	errs := make([]error, 0, len(shown)+1)
	for _, e := range shown {
		errs = append(errs, e)
	}
	if rest := len(l.errs) - len(shown); rest > 0 {
		errs = append(errs, &Error{File: l.file, Msg: fmt.Sprintf("… and %d more errors", rest)})
	}
	return errors.Join(errs...)
}
