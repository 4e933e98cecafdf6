package offline

// SyncDir fsyncs directory dir, so that a file created, renamed or removed
// in it stays so after a power cut (for callers writing files beside the
// store, e.g. a configuration file replaced atomically).
func SyncDir(dir string) error { return syncDir(dir) }
