//go:build linux && (amd64 || arm64)

package crashfs

import (
	"context"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node that reports to its FS what it changes.
type node struct {
	fs.LoopbackNode
	c *FS
	t *tracker // set when the node is made, replaced when a new file reuses the backing inode number
}

var (
	_ fs.NodeFsyncer        = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeOpendirHandler = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeRenamer        = (*node)(nil)
	_ fs.NodeUnlinker       = (*node)(nil)
	_ fs.NodeRmdirer        = (*node)(nil)
)

// newNode is LoopbackRoot.NewNode: the tracker of a file the FS already
// knows, or a new one (for a file created through the mount; Create and
// Mkdir replace it, so that a reused inode number starts afresh).
func (c *FS) newNode(lr *fs.LoopbackRoot, _ *fs.Inode, _ string, st *syscall.Stat_t) fs.InodeEmbedder {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.byIno[st.Ino]
	if t == nil {
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			t = newDir(os.FileMode(st.Mode))
		} else {
			t = newFile(os.FileMode(st.Mode))
		}
		c.byIno[st.Ino] = t
	}
	return &node{LoopbackNode: fs.LoopbackNode{RootData: lr}, c: c, t: t}
}

// fresh gives the node made for a new file or directory at path a new
// tracker.
func (c *FS) fresh(ch *fs.Inode, path string, dir bool, mode uint32) {
	n, ok := ch.Operations().(*node)
	if !ok {
		return
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if dir {
		n.t = newDir(os.FileMode(mode))
	} else {
		n.t = newFile(os.FileMode(mode))
	}
	c.byIno[st.Ino] = n.t
}

// tr is the node's tracker.
func (n *node) tr() *tracker {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.t
}

// backingPath is the node's path in the backing directory.
func (n *node) backingPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.Root()))
}

// Create creates the file, with a new tracker unless it existed.
func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := n.c.faulted(); errno != 0 {
		return nil, nil, 0, errno
	}
	p := filepath.Join(n.backingPath(), name)
	_, statErr := os.Lstat(p)
	ch, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, readable(flags), mode, out)
	if errno != 0 {
		return ch, fh, fuseFlags, errno
	}
	if statErr != nil {
		n.c.fresh(ch, p, false, mode)
	}
	return ch, n.wrap(ch, fh), fuseFlags, 0
}

// Mkdir creates the directory with a new tracker.
func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.c.faulted(); errno != 0 {
		return nil, errno
	}
	ch, errno := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if errno == 0 {
		n.c.fresh(ch, filepath.Join(n.backingPath(), name), true, mode)
	}
	return ch, errno
}

// Open opens the file with a handle that reports its writes.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, readable(flags))
	if errno != 0 {
		return fh, fuseFlags, errno
	}
	return n.wrap(n.EmbeddedInode(), fh), fuseFlags, 0
}

// readable turns write-only open flags into read-write ones: a write reads
// back the pages it touched. The kernel still enforces the caller's mode.
func readable(flags uint32) uint32 {
	if flags&syscall.O_ACCMODE == syscall.O_WRONLY {
		flags = flags&^syscall.O_ACCMODE | syscall.O_RDWR
	}
	return flags
}

// wrap wraps the loopback handle fh of the file ch.
func (n *node) wrap(ch *fs.Inode, fh fs.FileHandle) fs.FileHandle {
	lf, ok := fh.(*fs.LoopbackFile)
	cn, ok2 := ch.Operations().(*node)
	if !ok || !ok2 {
		return fh
	}
	return &file{LoopbackFile: lf, n: cn}
}

// OpendirHandle opens a directory with a handle whose fsync the FS sees.
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	ds, errno := fs.NewLoopbackDirStream(n.backingPath())
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{ds: ds, n: n}, 0, 0
}

// Fsync makes the file's data, or the directory's entries, durable. The
// backing file is not synced: durability is modelled, not performed.
func (n *node) Fsync(ctx context.Context, f fs.FileHandle, flags uint32) syscall.Errno {
	if errno := n.c.faulted(); errno != 0 {
		return errno
	}
	t := n.tr()
	if t.dir {
		return fs.ToErrno(n.c.syncDir(t, n.backingPath()))
	}
	n.c.syncFile(t)
	return 0
}

// Setattr records a change of size.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.c.faulted(); errno != 0 {
		return errno
	}
	if errno := n.LoopbackNode.Setattr(ctx, f, in, out); errno != 0 {
		return errno
	}
	if sz, ok := in.GetSize(); ok {
		n.c.resized(n.tr(), int64(sz))
	}
	return 0
}

// Rename renames unless a fault is set.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if errno := n.c.faulted(); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

// Unlink unlinks unless a fault is set.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	if errno := n.c.faulted(); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

// Rmdir removes the directory unless a fault is set.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	if errno := n.c.faulted(); errno != 0 {
		return errno
	}
	return n.LoopbackNode.Rmdir(ctx, name)
}

// Link is refused: the model has no shared inodes.
func (n *node) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}

// Symlink is refused: the model has only files and directories.
func (n *node) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}

// Mknod is refused: the model has only files and directories.
func (n *node) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.ENOTSUP
}

// CopyFileRange is refused, so that the kernel copies with reads and
// writes, which the FS sees.
func (n *node) CopyFileRange(context.Context, fs.FileHandle, uint64, *fs.Inode, fs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

//

// file is a loopback file handle that reports its writes.
type file struct {
	*fs.LoopbackFile
	n *node
}

// fd is the backing file descriptor.
func (f *file) fd() int {
	fd, _ := f.LoopbackFile.PassthroughFd()
	return fd
}

// PassthroughFd refuses FUSE passthrough: with it the kernel would read and
// write the backing file directly, unseen.
func (f *file) PassthroughFd() (int, bool) { return -1, false }

// Write writes and records the pages written.
func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := f.n.c.faulted(); errno != 0 {
		return 0, errno
	}
	n, errno := f.LoopbackFile.Write(ctx, data, off)
	f.n.c.written(f.n.tr(), f.fd(), off, int(n))
	return n, errno
}

// Writev writes and records the pages written.
func (f *file) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	if errno := f.n.c.faulted(); errno != 0 {
		return 0, errno
	}
	n, errno := f.LoopbackFile.Writev(ctx, data, off)
	f.n.c.written(f.n.tr(), f.fd(), off, int(n))
	return n, errno
}

// Allocate allocates and records the new size.
func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if errno := f.n.c.faulted(); errno != 0 {
		return errno
	}
	if errno := f.LoopbackFile.Allocate(ctx, off, size, mode); errno != 0 {
		return errno
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(f.fd(), &st); err == nil {
		f.n.c.resized(f.n.tr(), st.Size)
	}
	return 0
}

// Fsync is the node's (the bridge asks the node first; this is for
// completeness).
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return f.n.Fsync(ctx, f, flags)
}

// dirHandle is a loopback directory stream whose fsync the FS sees.
type dirHandle struct {
	ds fs.DirStream
	n  *node
}

var (
	_ fs.FileReaddirenter = (*dirHandle)(nil)
	_ fs.FileReleasedirer = (*dirHandle)(nil)
	_ fs.FileSeekdirer    = (*dirHandle)(nil)
	_ fs.FileFsyncdirer   = (*dirHandle)(nil)
)

// Readdirent returns the next entry.
func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	return d.ds.(fs.FileReaddirenter).Readdirent(ctx)
}

// Seekdir rewinds or seeks the stream.
func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	return d.ds.(fs.FileSeekdirer).Seekdir(ctx, off)
}

// Releasedir closes the stream.
func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	d.ds.(fs.FileReleasedirer).Releasedir(ctx, flags)
}

// Fsyncdir makes the directory's entries durable.
func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	return d.n.Fsync(ctx, nil, flags)
}
