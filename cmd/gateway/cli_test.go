package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runCLI runs the gateway binary with args in dir and returns its output
// and exit code.
func runCLI(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatewayBin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run gateway %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestCLI_Check_Demo: the shipped demo config is valid: exit 0, a one-line
// summary on stdout naming the gateway, nothing on stderr.
func TestCLI_Check_Demo(t *testing.T) {
	stdout, stderr, code := runCLI(t, ".", "check", "-config", "../../examples/demo.yaml")
	if code != 0 {
		t.Fatalf("gateway check examples/demo.yaml: exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	got := lines(stdout)
	if len(got) != 1 {
		t.Fatalf("stdout has %d lines, want a one-line summary:\n%s", len(got), stdout)
	}
	if !strings.Contains(got[0], "demo") {
		t.Errorf("summary %q does not name the gateway id \"demo\"", got[0])
	}
	if stderr != "" {
		t.Errorf("stderr not empty for a valid config:\n%s", stderr)
	}
}

// wantError is one error `gateway check` must print: at one of lines, with
// every fragment in the message.
type wantError struct {
	lines     []int // acceptable line numbers (an entry's line or its key's line)
	fragments []string
}

// TestCLI_Check_Errors: an invalid file exits 1 and lists every error, one
// per line as "file:line: key: message": config errors (unknown key, bad
// duration) and sensor driver errors (unknown driver, misspelt option).
func TestCLI_Check_Errors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []wantError
	}{
		{
			name: "config and sensor errors together",
			file: "testdata/check-errors.yaml",
			want: []wantError{
				{[]int{5}, []string{"colour", "unknown key"}},
				{[]int{7}, []string{"sys_interval", "10 seconds"}},
				{[]int{9, 10}, []string{"nosuch"}},
				{[]int{15}, []string{"quantites"}},
			},
		},
		{
			name: "sensor driver errors only",
			file: "testdata/check-sensors.yaml",
			want: []wantError{
				{[]int{6, 7}, []string{"nosuch"}},
				{[]int{12}, []string{`sensors[1].quantites: unknown option for driver sim (did you mean "quantities"?)`}},
				{[]int{13}, []string{"waveform", "triangle"}},
				{[]int{16}, []string{`sensors[2].intervall: unknown option for driver sim (did you mean "interval"?)`}},
			},
		},
	}
	lineRE := regexp.MustCompile(`^(\S+):(\d+): (.+)$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, ".", "check", "-config", tt.file)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if strings.TrimSpace(stdout) != "" {
				t.Errorf("stdout not empty for an invalid config: %q", stdout)
			}
			got := lines(stderr)
			for _, l := range got {
				m := lineRE.FindStringSubmatch(l)
				if m == nil || m[1] != tt.file {
					t.Errorf("error line %q is not %q-prefixed file:line: message", l, tt.file)
				}
			}
			for _, w := range tt.want {
				if !hasError(got, tt.file, w) {
					t.Errorf("no error at %s:%v mentioning %q in:\n%s", tt.file, w.lines, w.fragments, stderr)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("%d error lines, want %d:\n%s", len(got), len(tt.want), stderr)
			}
		})
	}
}

func hasError(got []string, file string, w wantError) bool {
	for _, l := range got {
		for _, n := range w.lines {
			prefix := file + ":" + strconv.Itoa(n) + ": "
			if !strings.HasPrefix(l, prefix) {
				continue
			}
			all := true
			for _, f := range w.fragments {
				all = all && strings.Contains(l, f)
			}
			if all {
				return true
			}
		}
	}
	return false
}

// TestCLI_Version: `gateway version` prints one line with the version and
// commit stamped at build time, the Go version and GOOS/GOARCH.
func TestCLI_Version(t *testing.T) {
	stdout, stderr, code := runCLI(t, ".", "version")
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	got := lines(stdout)
	if len(got) != 1 {
		t.Fatalf("version output has %d lines, want 1: %q", len(got), stdout)
	}
	for _, want := range []string{testVersion, testCommit, runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(got[0], want) {
			t.Errorf("version line %q does not contain %q", got[0], want)
		}
	}
}

// TestCLI_Usage: no command and an unknown command are usage errors (exit 2,
// usage text on stderr).
func TestCLI_Usage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"check", "-config"}} {
		_, stderr, code := runCLI(t, ".", args...)
		if code != 2 {
			t.Errorf("gateway %q: exit %d, want 2", args, code)
		}
		if !strings.Contains(strings.ToLower(stderr), "usage") {
			t.Errorf("gateway %q: no usage on stderr: %q", args, stderr)
		}
	}
}
