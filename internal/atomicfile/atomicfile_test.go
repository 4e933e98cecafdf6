package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edgegw/edgegw/internal/atomicfile"
)

// WriteFile replaces the file whole and leaves no temporary file; in a
// directory that does not exist it fails and creates nothing.
func TestWriteFile_replaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, data := range []string{"first", "second"} {
		if err := atomicfile.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != data {
			t.Fatalf("read back %q, %v; want %q", b, err, data)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %v, want only state.json", entries)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "missing", "x"), []byte("x"), 0o644); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
}
