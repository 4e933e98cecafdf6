package main

import (
	"fmt"
	"syscall"
)

// raiseNoFile makes sure this process may open at least need file
// descriptors (RLIMIT_NOFILE), raising the soft limit, and the hard limit
// when allowed (root).
//
// It always calls Setrlimit, even when the limit is already high enough: the
// Go runtime raises its own soft limit at start-up but gives child processes
// the original one back unless the program set the limit itself, and the
// brokers the tool starts need the high limit too.
func raiseNoFile(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("mqttbench: get open file limit: %w", err)
	}
	want := lim
	want.Cur = max(lim.Cur, need)
	want.Max = max(lim.Max, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("mqttbench: raise the open file limit from %d (hard %d) to %d: %w; run `ulimit -n %d` first",
			lim.Cur, lim.Max, need, err, need)
	}
	return nil
}
