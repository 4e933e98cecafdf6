package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_QueueStats_readOnly: `gateway queue stats` only reads the store:
// a damaged file is reported and left as it is (the gateway itself would
// move it aside), and no new file appears in data_dir.
func TestCLI_QueueStats_readOnly(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte("not a bbolt file "), 512)
	store := filepath.Join(data, storeFile)
	if err := os.WriteFile(store, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfg, []byte("gateway: {id: ro, data_dir: "+data+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, dir, "queue", "stats", "-config", cfg)
	if code == 0 || !strings.Contains(stderr, "queue stats:") {
		t.Errorf("queue stats on a damaged store: exit %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(store); !bytes.Equal(got, garbage) {
		t.Error("queue stats changed the store file")
	}
	if entries, _ := os.ReadDir(data); len(entries) != 1 {
		t.Errorf("data_dir holds %d entries after queue stats, want only %s", len(entries), storeFile)
	}
}
