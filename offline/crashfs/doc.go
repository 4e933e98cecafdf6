// Package crashfs is a test-only FUSE file system that simulates a power cut.
//
// Mount serves a backing directory through FUSE (github.com/hanwen/go-fuse/v2,
// mounted with mount(2) directly, so no fusermount is needed; it needs root
// and /dev/fuse). Reads and writes pass through to the backing files, so
// programs on the mount, bbolt's memory map included, see an ordinary file
// system. Meanwhile the FS keeps, in memory, what a disk would have made
// durable:
//
//   - file data up to the last fsync or fdatasync of that file (its size
//     included): the pages written since are "dirty";
//   - the entries of a directory (create, rename, unlink, mkdir, rmdir) as
//     they were at the last fsync of that directory.
//
// Everything in the backing directory when Mount is called counts as
// durable. PowerCut unmounts (every process using the mount must have been
// killed first: a power cut takes the programs with it) and rewrites the
// backing directory to hold only the durable state: a file created but whose
// directory was never synced is gone, a rename or unlink is undone, data
// written after the last fsync is lost. With Options.TornWrites, each dirty
// page independently reaches the disk with that probability (as Jepsen's
// LazyFS does), which models torn and reordered writes: a later page may
// survive while an earlier one is lost. Mount again to "reboot".
//
// Limitations of the model:
//
//   - It is stricter than ext4 with data=ordered in places (a new file in a
//     synced directory whose data was not synced comes back empty; ext4 often
//     keeps it) and never more lenient: it is a model of what POSIX promises,
//     not of one file system.
//   - Dirty data is tracked per 4 KiB page, and a page that survives a torn
//     cut holds its latest content: writes are atomic per page, there are no
//     torn sectors inside a page and no stale intermediate versions.
//   - Metadata other than size and directory entries (mode, owner, times,
//     xattrs) is not modelled: it is whatever the rewrite produces.
//   - Hard links, symlinks and device nodes are refused (ENOTSUP): no user of
//     the package needs them, and modelling shared inodes would complicate it.
//   - A rename across directories is durable per directory: if only one of
//     the two directories is synced, the file may appear in both or neither.
//   - State lives in the test process: a FUSE daemon that dies (a test
//     killed by its timeout) loses it and leaves a dead mount behind, which
//     `umount -l` (or writing 1 to /sys/fs/fuse/connections/<dev>/abort)
//     removes.
//   - It builds on 64-bit Linux only (go-fuse does not build on 32-bit
//     ARM); elsewhere the package is empty.
//
// SetFault makes every change fail with an errno (ENOSPC for a full disk,
// EROFS for a read-only remount, EIO) until it is cleared.
//
// Writes go to the backing files without fsync (durability is modelled, not
// performed), so the simulator is fast: a bbolt commit costs a few FUSE round
// trips. FUSE passthrough is disabled so that every read and write is seen,
// and direct I/O is off so that the kernel's page cache backs shared memory
// maps (bbolt reads through mmap).
package crashfs
