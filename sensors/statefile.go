package sensors

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteState replaces path with data so that a power cut at any point
// leaves the old file or the new one, whole: data goes to a temporary file
// in the same directory, which is fsync'd, renamed over path, and the
// directory is fsync'd, so the rename is durable on return. Drivers keep
// their state (an SGP30's baseline) in Spec.DataDir with it.
func WriteState(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sensors: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("sensors: write %s: %w", path, err)
	}
	return nil
}

//

// syncDir fsyncs a directory, which makes a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
