package offline

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
)

func TestKV_PutDeleteForEach_reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	d := openTest(t, path, Options{})
	kv := d.KV("retained")
	want := map[string]string{}
	for i := range 600 { // more than one ForEach page
		k, v := fmt.Sprintf("sensors/%03d", i), fmt.Sprintf("value-%d", i)
		if err := kv.Put(k, []byte(v)); err != nil {
			t.Fatal(err)
		}
		want[k] = v
	}
	if err := kv.Put("empty", nil); err != nil {
		t.Fatal(err)
	}
	want["empty"] = ""
	if err := kv.Put("sensors/001", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	want["sensors/001"] = "replaced"
	for _, k := range []string{"sensors/002", "sensors/599", "never-there"} {
		if err := kv.Delete(k); err != nil {
			t.Fatal(err)
		}
		delete(want, k)
	}
	if err := d.KV("sessions").Put("sensors/000", []byte("other bucket")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = openTest(t, path, Options{})
	kv = d.KV("retained")
	got := map[string]string{}
	var last string
	err := kv.ForEach(func(k string, v []byte) error {
		if k <= last && last != "" {
			t.Errorf("ForEach out of order: %q after %q", k, last)
		}
		last = k
		got[k] = string(v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("after reopen ForEach gave %d keys, want %d (e.g. sensors/001=%q)", len(got), len(want), got["sensors/001"])
	}
	if v, ok, err := kv.Get("empty"); err != nil || !ok || len(v) != 0 {
		t.Errorf("Get(empty) = %q, %v, %v; want empty value, found", v, ok, err)
	}
	if _, ok, _ := kv.Get("sensors/002"); ok {
		t.Error("deleted key still found")
	}
	if v, _, _ := d.KV("sessions").Get("sensors/000"); string(v) != "other bucket" {
		t.Errorf("sessions bucket = %q", v)
	}
}

func TestKV_ForEach_mayWrite(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "kv.db"), Options{})
	kv := d.KV("sessions")
	for i := range 300 {
		if err := kv.Put(fmt.Sprintf("c%03d", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := kv.ForEach(func(k string, _ []byte) error { // e.g. expiring sessions while loading them
		n++
		return kv.Delete(k)
	})
	if err != nil || n != 300 {
		t.Fatalf("ForEach with deletes: %d visited, err %v", n, err)
	}
	stop := errors.New("stop")
	if err := kv.ForEach(func(string, []byte) error { return stop }); err != nil {
		t.Fatalf("ForEach of an empty bucket: %v", err)
	}
	if err := kv.Put("a", nil); err != nil {
		t.Fatal(err)
	}
	if err := kv.ForEach(func(string, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("ForEach did not return fn's error: %v", err)
	}
}

func TestKV_invalidKey(t *testing.T) {
	d := openTest(t, filepath.Join(t.TempDir(), "kv.db"), Options{})
	kv := d.KV("x")
	if err := kv.Put("", []byte("v")); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put(\"\") = %v, want ErrInvalid", err)
	}
	if err := kv.Delete(strings.Repeat("k", 40000)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Delete(40000-byte key) = %v, want ErrInvalid", err)
	}
}

// Puts and deletes issued together share commits: 2,000 records cost a
// handful of fsyncs, not 2,000, and all are there after a reopen.
func TestKV_PutAsync_groupCommitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	d := openTest(t, path, Options{})
	kv := d.KV("retained")
	before := d.Stats().Commits
	const n = 2000
	errs := make(chan error, 2*n)
	for i := range n {
		kv.PutAsync(fmt.Sprintf("k%05d", i), []byte(fmt.Sprint(i)), func(err error) { errs <- err })
	}
	for i := 0; i < n; i += 2 {
		kv.DeleteAsync(fmt.Sprintf("k%05d", i), func(err error) { errs <- err })
	}
	for range n + n/2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if commits := d.Stats().Commits - before; commits > 20 {
		t.Errorf("%d commits for %d writes issued together", commits, n+n/2)
	}
	kv.PutAsync("", nil, func(err error) { errs <- err })
	if err := <-errs; !errors.Is(err, ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openTest(t, path, Options{})
	var keys []string
	if err := d.KV("retained").ForEach(func(k string, v []byte) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != n/2 || keys[0] != "k00001" {
		t.Fatalf("%d keys after reopen (first %v), want %d odd ones", len(keys), keys[:min(1, len(keys))], n/2)
	}
}
