package offline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
)

// bbolt on-disk format version 2, as written by go.etcd.io/bbolt
// (internal/common: page.go, meta.go). Pages 0 and 1 hold two copies of the
// meta record; a commit writes the one with the older txid. Fields are in the
// host's byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16 // page id (8), flags (2), count (2), overflow (4)
	boltMetaSize     = 64
	boltChecksumAt   = 56 // the checksum covers the meta bytes before it
	boltNoFreelist   = ^uint64(0)
	boltMinPageSize  = 1 << 9
	boltMaxPageSize  = 1 << 24
	boltMinFileBytes = 2 * boltMinPageSize
)

// boltMeta is the part of a bbolt meta page that precheckFile needs.
type boltMeta struct {
	pageSize uint64
	root     uint64 // page id of the root bucket
	freelist uint64 // page id of the freelist, or boltNoFreelist
	pgid     uint64 // high water mark: pages [0, pgid) are in use
	txid     uint64
}

// precheckFile validates the bbolt meta pages of path against the file size
// before bbolt maps the file: a truncated file would otherwise make bbolt
// read past the end of its memory map (SIGBUS) instead of returning an error.
// It reads at most two small records. A missing or empty file is fine (bbolt
// creates it); problems with the content are ErrCorrupt, I/O errors are not.
func precheckFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("offline: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("offline: stat %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return nil
	}
	if size < boltMinFileBytes {
		return fmt.Errorf("%w: %s: %d bytes is too short for a bbolt file", ErrCorrupt, path, size)
	}
	m, err := newestMeta(f, size)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	return checkMeta(path, m, size)
}

// checkMeta checks that every page the meta record references is inside the
// file.
func checkMeta(path string, m boltMeta, size int64) error {
	switch {
	case m.pgid < 2 || m.pgid > uint64(size)/m.pageSize:
		return fmt.Errorf("%w: %s: %d pages of %d bytes in use but the file has %d bytes (truncated?)",
			ErrCorrupt, path, m.pgid, m.pageSize, size)
	case m.root < 2 || m.root >= m.pgid:
		return fmt.Errorf("%w: %s: root page %d outside [2, %d)", ErrCorrupt, path, m.root, m.pgid)
	case m.freelist != boltNoFreelist && (m.freelist < 2 || m.freelist >= m.pgid):
		return fmt.Errorf("%w: %s: freelist page %d outside [2, %d)", ErrCorrupt, path, m.freelist, m.pgid)
	}
	return nil
}

// newestMeta returns the valid meta record with the highest txid, which is
// the one bbolt will use. Page 0 gives the page size; when page 0 is damaged,
// page 1 is looked for at every plausible page size.
func newestMeta(r io.ReaderAt, size int64) (boltMeta, error) {
	m0, err0 := readMeta(r, 0)
	offsets := []int64{}
	if err0 == nil {
		offsets = append(offsets, int64(m0.pageSize))
	} else {
		for ps := int64(boltMinPageSize); ps <= boltMaxPageSize && ps+boltPageHeader+boltMetaSize <= size; ps *= 2 {
			offsets = append(offsets, ps)
		}
	}
	best, found := m0, err0 == nil
	for _, off := range offsets {
		m1, err := readMeta(r, off)
		if err != nil || int64(m1.pageSize) != off {
			continue
		}
		if !found || m1.txid > best.txid {
			best, found = m1, true
		}
		break
	}
	if !found {
		return boltMeta{}, fmt.Errorf("no valid meta page: %w", err0)
	}
	return best, nil
}

// readMeta reads and validates (magic, version, checksum, page size) the meta
// record of the page at off.
func readMeta(r io.ReaderAt, off int64) (boltMeta, error) {
	var buf [boltPageHeader + boltMetaSize]byte
	if _, err := r.ReadAt(buf[:], off); err != nil {
		return boltMeta{}, fmt.Errorf("read meta page at %d: %w", off, err)
	}
	b := buf[boltPageHeader:]
	ne := binary.NativeEndian
	if ne.Uint32(b[0:]) != boltMagic {
		return boltMeta{}, fmt.Errorf("meta page at %d: bad magic %#x", off, ne.Uint32(b[0:]))
	}
	if v := ne.Uint32(b[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("meta page at %d: format version %d, want %d", off, v, boltVersion)
	}
	h := fnv.New64a()
	_, _ = h.Write(b[:boltChecksumAt])
	if sum := ne.Uint64(b[boltChecksumAt:]); sum != h.Sum64() {
		return boltMeta{}, fmt.Errorf("meta page at %d: checksum mismatch", off)
	}
	m := boltMeta{
		pageSize: uint64(ne.Uint32(b[8:])),
		root:     ne.Uint64(b[16:]),
		freelist: ne.Uint64(b[32:]),
		pgid:     ne.Uint64(b[40:]),
		txid:     ne.Uint64(b[48:]),
	}
	if m.pageSize < boltMinPageSize || m.pageSize > boltMaxPageSize || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("meta page at %d: page size %d", off, m.pageSize)
	}
	return m, nil
}
