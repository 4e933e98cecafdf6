//go:build linux && (amd64 || arm64)

package atomicfile_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/atomicfile"
	"github.com/edgegw/edgegw/offline/crashfs"
)

// writerEnv makes the test binary a child that replaces the file it names
// over and over with WriteFile (TestWriteFile_powerCut's victim).
const writerEnv = "REMOTE_TEST_WRITER"

// docs are the two versions the writer alternates between: several pages
// each, so that a torn write shows.
var docs = [2][]byte{
	bytes.Repeat([]byte("old: configuration line\n"), 800),
	bytes.Repeat([]byte("new: configuration, longer line\n"), 900),
}

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		for i := 1; ; i++ {
			if err := atomicfile.WriteFile(path, docs[i%2], 0o600); err != nil {
				os.Exit(3)
			}
		}
	}
	os.Exit(m.Run())
}

// TestWriteFile_powerCut kills a process replacing a file with WriteFile at
// random points (kill -9), cuts the power (crashfs keeps only what was
// fsync'd, tearing the rest) and checks that the file is one of the two
// versions, whole, every time.
func TestWriteFile_powerCut(t *testing.T) {
	if err := crashfs.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	rng := rand.New(rand.NewPCG(13, 1))
	for cycle := range 20 {
		backing, mnt := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(backing, "gateway.yaml"), docs[0], 0o600); err != nil {
			t.Fatal(err)
		}
		fs, err := crashfs.Mount(backing, mnt, crashfs.Options{TornWrites: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+filepath.Join(mnt, "gateway.yaml"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(40)+5) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if _, err := fs.PowerCut(rng); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(backing, "gateway.yaml"))
		if err != nil {
			t.Fatalf("cycle %d: the file is gone after the power cut: %v", cycle, err)
		}
		if !bytes.Equal(got, docs[0]) && !bytes.Equal(got, docs[1]) {
			t.Fatalf("cycle %d: the file is neither version after the power cut (%d bytes, starts %q)",
				cycle, len(got), strings.SplitN(string(got), "\n", 2)[0])
		}
		if err := fs.Unmount(); err != nil && !errors.Is(err, crashfs.ErrUnmounted) {
			t.Fatal(err)
		}
	}
}

// TestWriteFile_durable cuts the power right after WriteFile returned: the
// new version must be the one on disk (the rename is durable on return).
func TestWriteFile_durable(t *testing.T) {
	if err := crashfs.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	backing, mnt := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(backing, "gateway.yaml"), docs[0], 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := crashfs.Mount(backing, mnt, crashfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(filepath.Join(mnt, "gateway.yaml"), docs[1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.PowerCut(rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(backing, "gateway.yaml"))
	if err != nil || !bytes.Equal(got, docs[1]) {
		t.Fatalf("after WriteFile returned and a power cut: %d bytes (%v), want the new version", len(got), err)
	}
}
