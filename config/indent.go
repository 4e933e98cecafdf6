package config

import (
	"bytes"
	"fmt"
	"strings"
)

// blameIndentation moves a yaml.v3 syntax error that points at the key
// above an indentation mistake ("did not find expected key" is reported at
// the line that opened the block) to the first line at or after it whose
// indentation matches no enclosing block, and says so. Other errors are
// returned as they are.
func blameIndentation(e *Error, data []byte) *Error {
	if e.Line == 0 || !(strings.Contains(e.Msg, "did not find expected key") ||
		strings.Contains(e.Msg, "did not find expected '-' indicator")) {
		return e
	}
	line, indent := misindented(data)
	if line == 0 || line < e.Line {
		return e
	}
	e.Msg = fmt.Sprintf("%s: this line's indentation (%d spaces) matches no enclosing block (the parser noticed at line %d)",
		e.Msg, indent, e.Line)
	e.Line = line
	return e
}

//

// misindented returns the first line (1-based) that is indented less than
// the line before it but not as much as any enclosing block, and its
// indentation; 0 when every line fits. A "- " item opens two levels: the
// dash's and its content's.
func misindented(data []byte) (line, indent int) {
	var levels []int // indentations of the enclosing blocks, innermost last
	for i, raw := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimRight(string(raw), " \t\r")
		body := strings.TrimLeft(text, " ")
		if body == "" || strings.HasPrefix(body, "#") || body == "---" {
			continue
		}
		n := len(text) - len(body)
		popped := false
		for len(levels) > 0 && levels[len(levels)-1] > n {
			levels, popped = levels[:len(levels)-1], true
		}
		if popped && (len(levels) == 0 || levels[len(levels)-1] != n) {
			return i + 1, n
		}
		if len(levels) == 0 || levels[len(levels)-1] < n {
			levels = append(levels, n)
		}
		if item, ok := strings.CutPrefix(body, "- "); ok {
			levels = append(levels, n+len(body)-len(strings.TrimLeft(item, " ")))
		}
	}
	return 0, 0
}
