#!/usr/bin/env bash
# The one-line summary `make test` ends with: "N passed, N failed, N skipped", counted from `go test -v` output.
#
#   cross/testsummary.sh run LOG CMD...   run CMD (a `go test -v …`), show its output without the per-test
#                                         RUN/PASS noise, keep all of it in LOG, print the summary, exit with
#                                         CMD's status
#   cross/testsummary.sh summary LOG      print the summary of LOG again (the last line of `make test`)
#
# Counted: every test and subtest's --- PASS/FAIL/SKIP line; a package that fails without a failing test
# (build failure, panic, timeout) counts as one failure.
set -uo pipefail
mode=${1:?run|summary} log=${2:?LOG}
shift 2

count() {
	awk '
		/^[ \t]*--- PASS: / { pass++ }
		/^[ \t]*--- SKIP: / { skip++ }
		/^[ \t]*--- FAIL: / { fail++; failsInPkg++ }
		/^ok[ \t]/ { failsInPkg = 0 }
		/^FAIL[ \t]+[^ \t]/ { if (failsInPkg == 0) fail++; failsInPkg = 0 }
		END { printf "%d passed, %d failed, %d skipped\n", pass, fail, skip }
	' "$1"
}

case "$mode" in
run)
	mkdir -p "$(dirname "$log")"
	"$@" 2>&1 | tee "$log" | grep -Ev '^(=== (RUN|PAUSE|CONT|NAME)|[[:space:]]*--- PASS: |PASS$)'
	status=${PIPESTATUS[0]}
	count "$log"
	exit "$status"
	;;
summary)
	[[ -f "$log" ]] || { echo "testsummary: no $log (run make test-go)" >&2; exit 1; }
	count "$log"
	;;
*) echo "testsummary: unknown mode $mode" >&2; exit 2 ;;
esac
