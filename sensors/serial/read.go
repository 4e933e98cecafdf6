package serial

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edgegw/edgegw/sensors"
)

// maxLine bounds a line; longer ones are dropped (a UART at the wrong baud
// rate produces endless garbage without newlines).
const maxLine = 4096

// readLines reads port until ctx is done (nil) or the port fails (the
// error). The first good line resets retry.
func (d *Dev) readLines(ctx context.Context, port sensors.SerialPort, emit func([]sensors.Reading), retry *sensors.Backoff) error {
	if err := port.SetReadTimeout(d.readTimeout); err != nil {
		return fmt.Errorf("set read timeout: %w", err)
	}
	var lines lineSplitter
	buf := make([]byte, 256)
	for ctx.Err() == nil {
		n, err := port.Read(buf)
		lines.feed(buf[:n], func(line []byte) {
			if d.handle(ctx, line, emit) {
				retry.Reset()
			}
		}, func() { d.stats.garbage.Add(1) })
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			return errors.New("port closed (EOF)")
		default:
			return err
		}
	}
	return nil
}

// handle parses one line and reports whether it gave readings.
func (d *Dev) handle(ctx context.Context, raw []byte, emit func([]sensors.Reading)) bool {
	line := strings.TrimSpace(string(raw))
	if line == "" {
		return false
	}
	d.stats.lines.Add(1)
	rs, err := d.parser.parse(line)
	switch {
	case errors.Is(err, errChecksum):
		d.stats.badChecksum.Add(1)
	case err != nil:
		d.stats.garbage.Add(1)
	case len(rs) == 0:
		d.stats.ignored.Add(1)
		return false
	}
	if err != nil {
		d.log.DebugContext(ctx, "serial line skipped", "port", d.port, "err", err, "line", line)
		return false
	}
	now := d.now()
	for i := range rs {
		rs[i].Time = now
	}
	if rs = d.update(rs); len(rs) == 0 {
		d.stats.garbage.Add(1) // only quantities over the limit
		return false
	}
	d.stats.parsed.Add(1)
	emit(rs)
	return true
}

// lineSplitter cuts a byte stream into lines, dropping those over maxLine.
type lineSplitter struct {
	buf      []byte
	dropping bool // inside an overlong line: skip to the next newline
}

// feed splits p, calling line for each complete line (without '\n') and
// overlong for each line it drops.
func (l *lineSplitter) feed(p []byte, line func([]byte), overlong func()) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !l.dropping && len(l.buf)+len(chunk) > maxLine {
			l.dropping, l.buf = true, l.buf[:0]
			overlong()
		}
		if !l.dropping {
			l.buf = append(l.buf, chunk...)
		}
		if i < 0 {
			return
		}
		if !l.dropping {
			line(l.buf)
		}
		l.dropping, l.buf = false, l.buf[:0]
		p = p[i+1:]
	}
}
