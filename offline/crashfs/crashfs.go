//go:build linux && (amd64 || arm64)

package crashfs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Options configure Mount. The zero value is usable.
type Options struct {
	// TornWrites is the probability (0 to 1) that a page written since the
	// last fsync of its file reaches the disk anyway at a power cut, each
	// page decided independently. Zero (the default) loses every unsynced
	// page; 1 keeps them all (still losing unsynced directory entries).
	TornWrites float64
	// UnmountWait bounds how long PowerCut and Unmount retry an unmount
	// that fails because a file on the mount is still open (a killed
	// process's files are closed asynchronously). Default 5 s.
	UnmountWait time.Duration
}

// Stats count what the FS saw since Mount and what the last PowerCut did.
type Stats struct {
	// Writes counts write requests; Fsyncs file fsyncs and fdatasyncs;
	// DirFsyncs directory fsyncs.
	Writes, Fsyncs, DirFsyncs int
	// LostPages counts the dirty pages PowerCut dropped; TornPages the
	// dirty pages it kept (Options.TornWrites).
	LostPages, TornPages int
	// Faulted counts the changes failed by SetFault.
	Faulted int
}

// FS is a mounted crash-simulating file system. Its methods are safe for
// concurrent use.
type FS struct {
	backing, mnt string
	opts         Options
	server       *fuse.Server

	fault atomic.Uintptr // a syscall.Errno every change fails with, or 0

	mu    sync.Mutex
	root  *tracker
	byIno map[uint64]*tracker // backing inode number → the file or directory it is now
	stats Stats
	done  bool // unmounted
}

// Errors of PowerCut and Unmount.
var (
	// ErrUnmounted is returned by PowerCut and Unmount on an FS already
	// unmounted.
	ErrUnmounted = errors.New("crashfs: already unmounted")
)

// Available reports why this process cannot mount crashfs, or nil: it
// needs root (it calls mount(2) itself) and /dev/fuse.
func Available() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("crashfs: %w", err)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("crashfs: needs root, euid is %d", os.Geteuid())
	}
	return nil
}

// Mount serves backing at mnt (both existing directories) and returns when
// the mount is ready. Everything in backing counts as durable.
func Mount(backing, mnt string, opts Options) (*FS, error) {
	if opts.UnmountWait <= 0 {
		opts.UnmountWait = 5 * time.Second
	}
	c := &FS{backing: backing, mnt: mnt, opts: opts, byIno: make(map[uint64]*tracker)}
	root, err := c.scan(backing)
	if err != nil {
		return nil, fmt.Errorf("crashfs: scan %s: %w", backing, err)
	}
	c.root = root
	lr := &fs.LoopbackRoot{Path: backing, NewNode: c.newNode}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("crashfs: stat %s: %w", backing, err)
	}
	lr.Dev = uint64(st.Dev)
	rootNode := c.newNode(lr, nil, "", &st)
	lr.RootNode = rootNode
	sec := time.Second
	server, err := fs.Mount(mnt, rootNode, &fs.Options{
		EntryTimeout: &sec,
		AttrTimeout:  &sec,
		MountOptions: fuse.MountOptions{
			DirectMountStrict: true,
			FsName:            "crashfs",
			Name:              "crashfs",
			DisableXAttrs:     true,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("crashfs: mount %s: %w", mnt, err)
	}
	c.server = server
	return c, nil
}

// Dir is the mount point.
func (c *FS) Dir() string { return c.mnt }

// Stats returns the counters so far.
func (c *FS) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// SetFault makes every change through the mount (write, truncate, create,
// mkdir, rename, unlink, rmdir, fsync) fail with errno until SetFault(0):
// ENOSPC for a full disk, EROFS for a read-only remount, EIO for a failing
// card. Reads go on working.
func (c *FS) SetFault(errno syscall.Errno) { c.fault.Store(uintptr(errno)) }

// faulted returns the fault set by SetFault, or 0, and counts it.
func (c *FS) faulted() syscall.Errno {
	errno := syscall.Errno(c.fault.Load())
	if errno != 0 {
		c.mu.Lock()
		c.stats.Faulted++
		c.mu.Unlock()
	}
	return errno
}

// PowerCut unmounts the FS and rewrites the backing directory so that it
// holds only the durable state (plus, with Options.TornWrites, a random
// subset of the dirty pages, drawn from rng). Every process using the mount
// must have exited. The FS is unusable afterwards: Mount again.
func (c *FS) PowerCut(rng *rand.Rand) (Stats, error) {
	if err := c.unmount(); err != nil {
		return c.Stats(), err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tear(rng)
	if err := clearDir(c.backing); err != nil {
		return c.stats, fmt.Errorf("crashfs: power cut: %w", err)
	}
	if err := c.root.materialize(c.backing); err != nil {
		return c.stats, fmt.Errorf("crashfs: power cut: %w", err)
	}
	return c.stats, nil
}

// Unmount unmounts the FS and leaves the backing directory as it is: a
// clean shutdown, after which everything written is durable.
func (c *FS) Unmount() error { return c.unmount() }

//

// unmount retries while the mount is busy (files of a killed process are
// released asynchronously), up to Options.UnmountWait.
func (c *FS) unmount() error {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return ErrUnmounted
	}
	c.done = true
	c.mu.Unlock()
	deadline := time.Now().Add(c.opts.UnmountWait)
	for {
		err := c.server.Unmount()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			c.mu.Lock()
			c.done = false // still mounted: a later Unmount may succeed
			c.mu.Unlock()
			return fmt.Errorf("crashfs: unmount %s: %w", c.mnt, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tear decides, for every dirty page of every file, whether it reached the
// disk. c.mu is held.
func (c *FS) tear(rng *rand.Rand) {
	seen := map[*tracker]bool{}
	for _, t := range c.byIno {
		seen[t] = true
	}
	c.root.walkDurable(func(t *tracker) { seen[t] = true })
	for t := range seen {
		kept, lost := t.tear(rng, c.opts.TornWrites)
		c.stats.TornPages += kept
		c.stats.LostPages += lost
	}
}

// clearDir removes everything inside dir.
func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
