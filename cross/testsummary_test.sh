#!/usr/bin/env bash
# Tests for cross/testsummary.sh on canned `go test -v` output: the counts, the exit status, the filtering.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/out" <<'OUT'
=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestB
=== RUN   TestB/one
    --- PASS: TestB/one (0.00s)
=== RUN   TestB/two
    b_test.go:9: not on this host
    --- SKIP: TestB/two (0.00s)
--- PASS: TestB (0.00s)
PASS
ok  	example.com/a	0.01s
=== RUN   TestC
    c_test.go:3: boom
--- FAIL: TestC (0.00s)
FAIL
FAIL	example.com/c	0.01s
FAIL	example.com/d [build failed]
OUT
fail=0
out=$("$here/testsummary.sh" run "$tmp/log" bash -c "cat '$tmp/out'; exit 1") && status=0 || status=$?
last=$(tail -n1 <<<"$out")
[[ "$last" == "3 passed, 2 failed, 1 skipped" ]] || { echo "testsummary_test: summary $last" >&2; fail=1; }
[[ $status == 1 ]] || { echo "testsummary_test: exit status $status, want 1" >&2; fail=1; }
grep -q -- '--- FAIL: TestC' <<<"$out" || { echo "testsummary_test: failure not shown" >&2; fail=1; }
if grep -q -e '=== RUN' -e '--- PASS' <<<"$out"; then echo "testsummary_test: RUN/PASS lines shown" >&2; fail=1; fi
[[ $("$here/testsummary.sh" summary "$tmp/log") == "3 passed, 2 failed, 1 skipped" ]] || { echo "testsummary_test: summary mode" >&2; fail=1; }
"$here/testsummary.sh" run "$tmp/log2" bash -c 'echo "--- PASS: TestZ (0.00s)"' >/dev/null || { echo "testsummary_test: success exit status" >&2; fail=1; }
[[ $fail == 0 ]] && echo "testsummary_test: ok"
exit $fail
