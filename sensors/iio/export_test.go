package iio

import "io/fs"

// InjectFaults makes every file read of d (ReadFile, Open) first ask fail,
// which returns the error the read fails with (syscall.EIO, …) or nil to
// let it through: a real sysfs file cannot be made to fail on cue.
func InjectFaults(d *Dev, fail func(name string) error) {
	d.fsys = faultFS{FS: d.fsys, fail: fail}
}

type faultFS struct {
	fs.FS
	fail func(name string) error
}

func (f faultFS) Open(name string) (fs.File, error) {
	if err := f.fail(name); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f.FS.Open(name)
}

func (f faultFS) ReadFile(name string) ([]byte, error) {
	if err := f.fail(name); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return fs.ReadFile(f.FS, name)
}
