package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/edgegw/edgegw/mqttcore/mqtttest"
	"github.com/edgegw/edgegw/sensors/sensorstest"
)

// TestCLI_Passwd: `gateway passwd` turns a password on stdin into a bcrypt
// hash that the gateway's broker then accepts for that user (a Paho client
// logs in with it); an empty password is refused.
func TestCLI_Passwd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatewayBin, "passwd", "-cost", "4")
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader("s3cret pass\n")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("gateway passwd: %v: %s", err, errOut.String())
	}
	hash := strings.TrimSpace(out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret pass")); err != nil {
		t.Fatalf("hash %q does not match the password: %v", hash, err)
	}

	p := startGateway(t, strings.Replace(baseConfig, "  sys_interval: 1s\n",
		"  sys_interval: 1s\n  allow_anonymous: false\n  users: [{username: app, password_hash: \""+hash+"\"}]\n", 1))
	connectLocal(t, p, clientOpts{Username: "app", Password: "s3cret pass"})

	if _, stderr, code := runCLIStdin(t, "", "passwd"); code == 0 || !strings.Contains(stderr, "empty password") {
		t.Errorf("empty password: exit %d, stderr %q", code, stderr)
	}
}

// runCLIStdin runs the gateway binary with args and stdin.
func runCLIStdin(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(gatewayBin, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestCLI_DefaultConfigPath: `gateway run --help` names the default config
// path, and `gateway check` without -config and without that file says it
// looked there and how to pass another.
func TestCLI_DefaultConfigPath(t *testing.T) {
	if _, err := os.Stat(defaultConfig); err == nil {
		t.Skipf("%s exists on this machine", defaultConfig)
	}
	_, stderr, code := runCLIStdin(t, "", "run", "--help")
	if code != 0 || !strings.Contains(stderr, "(default "+defaultConfig+")") || !strings.Contains(stderr, "-config FILE") {
		t.Errorf("run --help: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCLIStdin(t, "", "check")
	want := "gateway check: no configuration at " + defaultConfig + " (the default path); pass another with -config FILE"
	if code != 1 || strings.TrimSpace(stderr) != want {
		t.Errorf("check without -config: exit %d, stderr %q, want %q", code, stderr, want)
	}
}

// TestCLI_Passwd_terminal: on a terminal, `gateway passwd` asks twice with
// the echo off (the password never shows on the terminal) and prints the
// hash of what was typed.
func TestCLI_Passwd_terminal(t *testing.T) {
	pty, err := sensorstest.OpenPTY()
	if err != nil {
		t.Skip("no pty:", err)
	}
	defer pty.Close()
	tty, err := os.OpenFile(pty.Path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(gatewayBin, "passwd", "-cost", "4")
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var screen mqtttest.SyncBuffer // what the terminal shows
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&screen, pty.Master) // until the pty is closed
	}()
	for _, prompt := range []string{"password: ", "again: "} {
		mqtttest.WaitFor(t, func() bool { return strings.Contains(screen.String(), prompt) }, "prompt %q; screen %q", prompt, &screen)
		if _, err := pty.Master.Write([]byte("typed secret\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gateway passwd: %v", err)
	}
	if err := bcrypt.CompareHashAndPassword(bytes.TrimSpace(out.Bytes()), []byte("typed secret")); err != nil {
		t.Errorf("hash %q does not match what was typed: %v", out.String(), err)
	}
	tty.Close()
	pty.Close()
	<-copied
	if strings.Contains(screen.String(), "typed secret") {
		t.Errorf("the terminal echoed the password: %q", screen.String())
	}
}
