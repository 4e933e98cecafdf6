package offline

import (
	"os"
	"path/filepath"
	"testing"
)

// A data directory deleted under a running DB is created again and the
// store written there, with everything queued: a restart finds it all.
func TestDB_checkPath_directoryDeleted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.db")
	d := openTest(t, path, Options{})
	q := openQueue(t, d, "up", QueueOptions{})
	appendN(t, q, 100, 0)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	appendN(t, q, 1, 0) // its commit notices
	waitFor(t, "the store back at its path", func() bool { _, err := os.Stat(path); return err == nil })
	if n := d.Stats().Relocations; n != 1 {
		t.Errorf("Relocations = %d, want 1", n)
	}
	appendN(t, q, 1, 0) // the DB works on the new file
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	if n := openQueue(t, d, "up", QueueOptions{}).Stats().Messages; n != 102 {
		t.Fatalf("%d messages after reopen, want 102", n)
	}
}
