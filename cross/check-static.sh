#!/usr/bin/env bash
# Check the `make cross` outputs: present, statically linked, and the armv6 binary within its size budget.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$((11 * 1000 * 1000)) # bytes, stripped armv6 binary (the brief's ceiling is 12 MB)
printf '%-28s %12s  %s\n' binary bytes linkage
for b in bin/gateway-linux-armv6 bin/gateway-linux-armv7 bin/gateway-linux-arm64; do
	[[ -f $b ]] || { echo "check-static: $b missing (run make cross)" >&2; exit 1; }
	info=$(file -b "$b")
	case "$info" in *"statically linked"*) link=static ;; *) echo "check-static: $b is not static: $info" >&2; exit 1 ;; esac
	size=$(stat -c %s "$b")
	printf '%-28s %12d  %s\n' "$b" "$size" "$link"
done
size=$(stat -c %s bin/gateway-linux-armv6)
if ((size > budget)); then echo "check-static: armv6 binary is $size bytes, over the $budget budget" >&2; exit 1; fi
