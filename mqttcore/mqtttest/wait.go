package mqtttest

import (
	"fmt"
	"testing"
	"time"
)

// DefaultWait is the deadline WaitFor uses. It is generous on purpose: it is
// a bound for a broken test, not a performance assertion.
const DefaultWait = 20 * time.Second

// WaitFor polls cond every few milliseconds until it returns true, and fails
// the test with the formatted message when DefaultWait passes first.
func WaitFor(t testing.TB, cond func() bool, format string, args ...any) {
	t.Helper()
	if !Poll(DefaultWait, cond) {
		t.Fatalf("mqtttest: timed out after %v waiting for: %s", DefaultWait, fmt.Sprintf(format, args...))
	}
}

// Poll calls cond every few milliseconds until it returns true (Poll returns
// true) or timeout passes (Poll returns false).
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
