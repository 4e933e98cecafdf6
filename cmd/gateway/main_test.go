package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// The end-to-end tests in this package run the real gateway binary, built
// once by TestMain, as a child process: they talk to it over MQTT (Paho,
// mosquitto_sub), give it upstream brokers (Mosquitto, mochi) behind a fault
// proxy, signal it, kill -9 it and read its sd_notify datagrams.

// Version and commit stamped into the test binary, as the Makefile does.
const (
	testVersion = "v0.0.0-e2e"
	testCommit  = "e2ecommit"
)

// gatewayBin is the path of the binary TestMain built.
var gatewayBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gateway-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	gatewayBin = filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", gatewayBin,
		"-ldflags", "-X main.version="+testVersion+" -X main.commit="+testCommit, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "gateway e2e: go build failed: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "gateway e2e: goroutines leaked:", err)
			return 1
		}
	}
	return code
}
