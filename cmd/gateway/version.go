package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set by the Makefile with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// versionLine is the one-line version used in logs, $SYS and the monitor.
func versionLine() string { return "edgegw " + version }

// printVersion writes `gateway version`: version, commit, Go version and the
// target platform (GOARM for 32-bit ARM comes from the build info).
func printVersion(w io.Writer) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "GOARM" && runtime.GOARCH == "arm" {
				platform += " GOARM=" + s.Value
			}
		}
	}
	fmt.Fprintf(w, "gateway %s (commit %s) %s %s\n", version, commit, runtime.Version(), platform)
}
