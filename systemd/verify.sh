#!/usr/bin/env bash
# Verify systemd/gateway.service offline in a staged root: any output from `systemd-analyze verify` fails
# (systemd 252 exits 0 on some errors unless --recursive-errors is given, so we also treat output as failure).
# Prints the `systemd-analyze security` exposure score. Runs install_test.sh first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
unit="$here/gateway.service"
# install.sh: the binary it picks per OS, the user and groups it creates (staged root).
"$here/install_test.sh"
if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [[ -n "${CI:-}" ]]; then echo "systemd/verify: systemd-analyze missing (install systemd)" >&2; exit 1; fi
	echo "SKIP systemd/verify: systemd-analyze not installed"; exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/bin" "$root/bin" "$root/etc/gateway"
cp "$unit" "$root/etc/systemd/system/gateway.service"
# The unit's executables must exist in the root: a stand-in gateway and the real kill.
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/gateway"
chmod +x "$root/usr/bin/gateway"
cp /bin/kill "$root/bin/kill"
out=$(systemd-analyze verify --root="$root" --recursive-errors=no "$root/etc/systemd/system/gateway.service" 2>&1) || {
	echo "systemd/verify: systemd-analyze verify failed:" >&2; echo "$out" >&2; exit 1; }
if [[ -n "$out" ]]; then echo "systemd/verify: systemd-analyze verify said:" >&2; echo "$out" >&2; exit 1; fi
score=$(systemd-analyze security --offline=true --root="$root" "$root/etc/systemd/system/gateway.service" 2>&1 | grep 'Overall exposure' || true)
echo "systemd/verify: gateway.service verifies cleanly; ${score#→ }"
