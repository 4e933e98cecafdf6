//go:build linux && (amd64 || arm64)

package crashfs

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
)

// pageSize is the unit of dirty-data tracking and of torn writes.
const pageSize = 4096

// tracker is the durability state of one file or directory (one inode).
// Every field is guarded by FS.mu.
type tracker struct {
	dir  bool
	mode os.FileMode

	// Files.
	durable []byte           // the content as of the last fsync
	size    int64            // the current size
	low     int64            // the lowest size since the last fsync: what a truncate left of durable
	pending map[int64][]byte // page index → its content after the last write to it, since the last fsync

	// Directories.
	entries map[string]*tracker // the entries as of the last fsync
}

func newFile(mode os.FileMode) *tracker {
	return &tracker{mode: mode.Perm(), pending: map[int64][]byte{}}
}

func newDir(mode os.FileMode) *tracker {
	return &tracker{dir: true, mode: mode.Perm(), entries: map[string]*tracker{}}
}

// scan registers everything under path as durable and returns its tracker.
func (c *FS) scan(path string) (*tracker, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return nil, err
	}
	mode := os.FileMode(st.Mode & 0o777)
	var t *tracker
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		t = newDir(mode)
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			ch, err := c.scan(filepath.Join(path, e.Name()))
			if err != nil {
				return nil, err
			}
			t.entries[e.Name()] = ch
		}
	case syscall.S_IFREG:
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		t = newFile(mode)
		t.durable, t.size, t.low = data, int64(len(data)), int64(len(data))
	default:
		return nil, fmt.Errorf("%s: only regular files and directories are supported", path)
	}
	c.byIno[st.Ino] = t
	return t, nil
}

// written records that [off, off+n) of t was written through fd: the pages
// it touched are read back (after the write, so they hold it) as pending.
func (c *FS) written(t *tracker, fd int, off int64, n int) {
	if n <= 0 {
		return
	}
	pages := map[int64][]byte{}
	for pg := off / pageSize; pg <= (off+int64(n)-1)/pageSize; pg++ {
		buf := make([]byte, pageSize)
		if _, err := syscall.Pread(fd, buf, pg*pageSize); err != nil {
			continue // the page stays as it was: the write is not modelled
		}
		pages[pg] = buf
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Writes++
	for pg, buf := range pages {
		t.pending[pg] = buf
	}
	t.size = max(t.size, off+int64(n))
}

// resized records that t's size is now size (truncate, fallocate).
func (c *FS) resized(t *tracker, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.size, t.low = size, min(t.low, size)
	for pg, buf := range t.pending {
		switch start := pg * pageSize; {
		case start >= size:
			delete(t.pending, pg)
		case start+pageSize > size:
			clear(buf[size-start:])
		}
	}
}

// syncFile makes t's current content durable.
func (c *FS) syncFile(t *tracker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Fsyncs++
	t.durable = resize(resize(t.durable, min(int64(len(t.durable)), t.low)), t.size)
	t.low = t.size
	for pg, buf := range t.pending {
		t.apply(pg, buf)
	}
	clear(t.pending)
}

// syncDir makes the entries of the directory t, now those of the backing
// directory path, durable.
func (c *FS) syncDir(t *tracker, path string) error {
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	inos := make(map[string]uint64, len(ents))
	for _, e := range ents {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(path, e.Name()), &st); err != nil {
			return err
		}
		inos[e.Name()] = st.Ino
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.DirFsyncs++
	t.entries = make(map[string]*tracker, len(inos))
	for name, ino := range inos {
		if ch := c.byIno[ino]; ch != nil {
			t.entries[name] = ch
		}
	}
	return nil
}

// apply writes one page into the durable content, growing it up to the
// current size if needed (torn writes).
func (t *tracker) apply(pg int64, buf []byte) {
	start := pg * pageSize
	end := min(start+pageSize, t.size)
	if start >= end {
		return
	}
	if int64(len(t.durable)) < end {
		t.durable = resize(t.durable, end)
	}
	copy(t.durable[start:end], buf)
}

// tear applies each pending page with probability p and drops the rest.
func (t *tracker) tear(rng *rand.Rand, p float64) (kept, lost int) {
	for pg, buf := range t.pending {
		if p > 0 && rng.Float64() < p {
			t.apply(pg, buf)
			kept++
		} else {
			lost++
		}
	}
	clear(t.pending)
	return kept, lost
}

// walkDurable calls fn for every tracker reachable through durable entries.
func (t *tracker) walkDurable(fn func(*tracker)) {
	seen := map[*tracker]bool{}
	var walk func(*tracker)
	walk = func(t *tracker) {
		if seen[t] {
			return
		}
		seen[t] = true
		fn(t)
		for _, ch := range t.entries {
			walk(ch)
		}
	}
	walk(t)
}

// materialize writes t's durable entries into the (empty) directory path.
func (t *tracker) materialize(path string) error {
	return t.materializeSeen(path, map[*tracker]bool{t: true})
}

// materializeSeen skips a directory already written: a directory renamed
// with only some of its parents synced could otherwise contain itself.
func (t *tracker) materializeSeen(path string, seen map[*tracker]bool) error {
	for name, ch := range t.entries {
		p := filepath.Join(path, name)
		if !ch.dir {
			if err := os.WriteFile(p, ch.durable, ch.mode|0o200); err != nil {
				return err
			}
			continue
		}
		if seen[ch] {
			continue
		}
		seen[ch] = true
		if err := os.Mkdir(p, ch.mode|0o700); err != nil {
			return err
		}
		if err := ch.materializeSeen(p, seen); err != nil {
			return err
		}
	}
	return nil
}

// resize returns b with length n, zero-filled when it grows.
func resize(b []byte, n int64) []byte {
	if int64(len(b)) >= n {
		return b[:n]
	}
	return append(b, make([]byte, n-int64(len(b)))...)
}
