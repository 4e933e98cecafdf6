//go:build linux && (amd64 || arm64)

package crashfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/edgegw/edgegw/offline/crashfs"
)

// mounted is a mounted crashfs with its backing directory.
type mounted struct {
	*crashfs.FS
	backing string
}

// mount mounts a crashfs over a fresh backing directory holding files
// (name → content, all durable), or skips the test where FUSE is not
// available (fails instead when CI is set).
func mount(t *testing.T, opts crashfs.Options, files map[string]string) mounted {
	t.Helper()
	available(t)
	backing, mnt := t.TempDir(), t.TempDir()
	for name, content := range files {
		must(t, os.WriteFile(filepath.Join(backing, name), []byte(content), 0o600))
	}
	c, err := crashfs.Mount(backing, mnt, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Unmount(); err != nil && !errors.Is(err, crashfs.ErrUnmounted) {
			t.Errorf("unmount: %v", err)
		}
	})
	return mounted{FS: c, backing: backing}
}

// available skips the test unless this process can mount FUSE; with the
// environment variable CI set it fails instead.
func available(t *testing.T) {
	t.Helper()
	if err := crashfs.Available(); err != nil && os.Getenv("CI") != "" {
		t.Fatal(err)
	} else if err != nil {
		t.Skip(err)
	}
}

// cut cuts the power and returns the backing directory's files afterwards.
func (m mounted) cut(t *testing.T) map[string]string {
	t.Helper()
	if _, err := m.PowerCut(rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	return readAll(t, m.backing)
}

func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			got[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		got[rel] = string(b)
		return err
	})
	must(t, err)
	return got
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	must(t, err)
	defer d.Close()
	must(t, d.Sync())
}

// writeFile writes content to name, fsyncing the file when sync is set.
func writeFile(t *testing.T, name, content string, sync bool) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	must(t, err)
	_, err = f.WriteString(content)
	must(t, err)
	if sync {
		must(t, f.Sync())
	}
	must(t, f.Close())
}

func assertFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("after the power cut: %q, want %q", got, want)
		return
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("after the power cut: %q, want %q", got, want)
			return
		}
	}
}

func TestPowerCut_existingFilesAreDurable(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"a": "old"})
	assertFiles(t, m.cut(t), map[string]string{"a": "old"})
}

func TestPowerCut_newFile(t *testing.T) {
	tests := []struct {
		name              string
		syncFile, syncDir bool
		want              map[string]string
	}{
		{"nothing synced: gone", false, false, map[string]string{}},
		{"file synced, directory not: gone", true, false, map[string]string{}},
		{"directory synced, file not: empty", false, true, map[string]string{"f": ""}},
		{"both synced: kept", true, true, map[string]string{"f": "data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mount(t, crashfs.Options{}, nil)
			p := filepath.Join(m.Dir(), "f")
			f, err := os.Create(p)
			must(t, err)
			if tt.syncDir {
				syncDir(t, m.Dir())
			}
			_, err = f.WriteString("data")
			must(t, err)
			if tt.syncFile {
				must(t, f.Sync())
			}
			must(t, f.Close())
			if got := readAll(t, m.Dir()); got["f"] != "data" {
				t.Fatalf("before the power cut the mount shows %q", got)
			}
			assertFiles(t, m.cut(t), tt.want)
		})
	}
}

func TestPowerCut_unsyncedDataIsLost(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"f": "v1"})
	writeFile(t, filepath.Join(m.Dir(), "f"), "version 2", true)
	f, err := os.OpenFile(filepath.Join(m.Dir(), "f"), os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("VERSION 3 longer"), 0)
	must(t, err)
	must(t, f.Close())
	assertFiles(t, m.cut(t), map[string]string{"f": "version 2"})
}

func TestPowerCut_truncateWithoutFsyncIsUndone(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"f": "keep me"})
	must(t, os.Truncate(filepath.Join(m.Dir(), "f"), 0))
	assertFiles(t, m.cut(t), map[string]string{"f": "keep me"})
}

// A file shrunk, then grown again, and fsync'd holds zeros where the
// shrink cut it, not the old content.
func TestPowerCut_truncateThenGrowIsDurable(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"f": "old content"})
	p := filepath.Join(m.Dir(), "f")
	must(t, os.Truncate(p, 3))
	must(t, os.Truncate(p, 11))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	assertFiles(t, m.cut(t), map[string]string{"f": "old" + strings.Repeat("\x00", 8)})
}

func TestPowerCut_renameNeedsDirectoryFsync(t *testing.T) {
	for _, sync := range []bool{false, true} {
		m := mount(t, crashfs.Options{}, map[string]string{"a": "A", "b": "old B"})
		must(t, os.Rename(filepath.Join(m.Dir(), "a"), filepath.Join(m.Dir(), "b")))
		want := map[string]string{"a": "A", "b": "old B"}
		if sync {
			syncDir(t, m.Dir())
			want = map[string]string{"b": "A"}
		}
		assertFiles(t, m.cut(t), want)
	}
}

func TestPowerCut_unlinkNeedsDirectoryFsync(t *testing.T) {
	for _, sync := range []bool{false, true} {
		m := mount(t, crashfs.Options{}, map[string]string{"a": "A"})
		must(t, os.Remove(filepath.Join(m.Dir(), "a")))
		want := map[string]string{"a": "A"}
		if sync {
			syncDir(t, m.Dir())
			want = map[string]string{}
		}
		assertFiles(t, m.cut(t), want)
	}
}

func TestPowerCut_mkdirNeedsParentFsync(t *testing.T) {
	m := mount(t, crashfs.Options{}, nil)
	dir := filepath.Join(m.Dir(), "d")
	must(t, os.Mkdir(dir, 0o700))
	writeFile(t, filepath.Join(dir, "f"), "x", true)
	syncDir(t, dir)
	assertFiles(t, m.cut(t), map[string]string{})

	m = mount(t, crashfs.Options{}, nil)
	dir = filepath.Join(m.Dir(), "d")
	must(t, os.Mkdir(dir, 0o700))
	syncDir(t, m.Dir())
	writeFile(t, filepath.Join(dir, "f"), "x", true)
	syncDir(t, dir)
	assertFiles(t, m.cut(t), map[string]string{"d/": "", "d/f": "x"})
}

// A reused inode number (a file deleted, another created) must not give the
// new file the old one's durable content or vice versa.
func TestPowerCut_inodeReuse(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"old": "old content"})
	must(t, os.Remove(filepath.Join(m.Dir(), "old")))
	writeFile(t, filepath.Join(m.Dir(), "new"), "new content", true)
	assertFiles(t, m.cut(t), map[string]string{"old": "old content"})
}

func TestPowerCut_tornWrites(t *testing.T) {
	page := bytes.Repeat([]byte{'.'}, 4096)
	durable := string(page) + string(page)
	for _, tt := range []struct {
		p    float64
		want string
	}{
		{0, durable},
		{1, "A" + string(page[1:]) + "B" + string(page[1:])},
	} {
		m := mount(t, crashfs.Options{TornWrites: tt.p}, map[string]string{"f": durable})
		f, err := os.OpenFile(filepath.Join(m.Dir(), "f"), os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteAt([]byte("B"), 4096)
		must(t, err)
		_, err = f.WriteAt([]byte("A"), 0)
		must(t, err)
		must(t, f.Close())
		got := m.cut(t)
		if got["f"] != tt.want {
			t.Errorf("TornWrites %v: first bytes of pages %q %q, want %q %q", tt.p,
				got["f"][0], got["f"][4096], tt.want[0], tt.want[4096])
		}
		if st := m.Stats(); st.LostPages+st.TornPages != 2 {
			t.Errorf("TornWrites %v: stats %+v, want 2 dirty pages", tt.p, st)
		}
	}
}

// Stats counts the requests the model acts on: writes, file fsyncs and
// directory fsyncs.
func TestFS_Stats(t *testing.T) {
	m := mount(t, crashfs.Options{}, nil)
	writeFile(t, filepath.Join(m.Dir(), "f"), "data", true)
	syncDir(t, m.Dir())
	if st := m.Stats(); st.Writes < 1 || st.Fsyncs != 1 || st.DirFsyncs != 1 {
		t.Errorf("after a write, a file fsync and a directory fsync: %+v", st)
	}
}

func TestSetFault(t *testing.T) {
	m := mount(t, crashfs.Options{}, map[string]string{"f": "durable"})
	p := filepath.Join(m.Dir(), "f")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	must(t, err)
	m.SetFault(syscall.ENOSPC)
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write with ENOSPC set: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("fsync with ENOSPC set: %v", err)
	}
	if err := os.WriteFile(filepath.Join(m.Dir(), "g"), nil, 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("create with ENOSPC set: %v", err)
	}
	if err := os.Rename(p, p+"2"); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("rename with ENOSPC set: %v", err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "durable" {
		t.Errorf("read with ENOSPC set: %q %v", b, err)
	}
	m.SetFault(0)
	_, err = f.WriteAt([]byte("D"), 0)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	assertFiles(t, m.cut(t), map[string]string{"f": "Durable"})
}

// bbolt reads its file through a shared memory map and writes it with
// pwrite and fdatasync: both must work through the mount, and the commits
// of a NoSync handle must be lost at a power cut while synced ones survive.
// bbolt runs in a child process: a page fault on the mount in the process
// serving it can deadlock (the faulting thread cannot be preempted, so a
// garbage collection waits for it while the server waits for the GC).
func TestMount_bbolt(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		m := mount(t, crashfs.Options{}, nil)
		cmd := childCommand(t)
		cmd.Env = append(os.Environ(), helperEnv+"="+filepath.Join(m.Dir(), "b.db"), fmt.Sprintf("CRASHFS_NOSYNC=%v", noSync))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("bbolt child: %v\n%s", err, out)
		}
		m.cut(t)
		n := countKeys(t, filepath.Join(m.backing, "b.db"))
		// NoSync still syncs when bbolt grows the file (NoGrowSync is
		// separate), so some keys may survive, never all.
		if (!noSync && n != 200) || (noSync && n == 200) {
			t.Errorf("NoSync %v: %d of 200 keys after the power cut", noSync, n)
		}
	}
}

// helperEnv names the bbolt file the child process of TestMount_bbolt
// writes.
const helperEnv = "CRASHFS_BBOLT_HELPER"

func TestMain(m *testing.M) {
	if step, path, ok := strings.Cut(os.Getenv(offlineHelperEnv), ":"); ok {
		if err := offlineChild(step, path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if path := os.Getenv(helperEnv); path != "" {
		if err := bboltChild(path, os.Getenv("CRASHFS_NOSYNC") == "true"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bboltChild writes 200 keys of 1000 bytes in 200 commits, reads the last
// back through the memory map and closes the file.
func bboltChild(path string, noSync bool) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: noSync})
	if err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		return err
	}
	d.Close()
	for i := range 200 {
		if err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return b.Put([]byte{byte(i)}, bytes.Repeat([]byte{byte(i)}, 1000))
		}); err != nil {
			return err
		}
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("b")).Get([]byte{199}); len(v) != 1000 || v[0] != 199 {
			return fmt.Errorf("read back through mmap: %d bytes", len(v))
		}
		return nil
	}); err != nil {
		return err
	}
	return db.Close()
}

func countKeys(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	defer db.Close()
	n := 0
	must(t, db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("b")); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	}))
	return n
}

// childCommand returns the command that re-executes this test binary as a
// child. Tests that need one skip with -short, as offline's crash test
// does: the qemu-user runs of make test-arm use -short, and there the child
// cannot be executed.
func childCommand(t *testing.T) *exec.Cmd {
	t.Helper()
	if testing.Short() {
		t.Skip("re-executes the test binary; skipped with -short")
	}
	return exec.Command(os.Args[0], "-test.run=^$")
}
