package main

import (
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// mosquittoBin returns the Mosquitto executable, or skips the test (fails
// it when the environment variable CI is set) when it is not installed.
func mosquittoBin(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(defaultMosquitto); err == nil {
		return defaultMosquitto
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	msg := "mosquitto is not installed (" + defaultMosquitto + " missing and not in $PATH); " +
		"install the Debian package \"mosquitto\" to run this test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this is a failure)")
	}
	t.Skip(msg)
	return ""
}

// startTestMosquitto runs a Mosquitto configured as `mqttbench compare`
// configures it, until the test ends.
func startTestMosquitto(t *testing.T) *broker {
	t.Helper()
	b, err := startMosquitto(t.Context(), mosquittoBin(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b
}
