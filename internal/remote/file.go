package remote

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgegw/edgegw/offline"
)

// WriteFile replaces path with data so that a power cut at any point leaves
// either the old file or the new one, whole: data goes to a temporary file
// in the same directory, which is fsync'd, renamed over path, and the
// directory is fsync'd (the rename is durable on return). The new file gets
// perm.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("remote: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := writeSync(f, data, perm); err != nil {
		return fmt.Errorf("remote: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("remote: write %s: %w", path, err)
	}
	if err := offline.SyncDir(dir); err != nil {
		return fmt.Errorf("remote: write %s: sync directory: %w", path, err)
	}
	return nil
}

//

// writeSync writes data to f, sets perm, fsyncs and closes f.
func writeSync(f *os.File, data []byte, perm os.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
