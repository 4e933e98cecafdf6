#!/usr/bin/env bash
# Verify systemd/gateway.service offline in a staged root, alone and with the remote-config drop-in
# (gateway.service.d/remote-config.conf): any output from `systemd-analyze verify` fails
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
dropin="$here/gateway.service.d/remote-config.conf"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/bin" "$root/bin" "$root/etc/gateway"
cp "$unit" "$root/etc/systemd/system/gateway.service"
# The unit's executables must exist in the root: a stand-in gateway and the real kill, chgrp, chmod.
printf '#!/bin/sh\nexit 0\n' >"$root/usr/bin/gateway"
chmod +x "$root/usr/bin/gateway"
for tool in kill chgrp chmod; do cp "$(type -P "$tool")" "$root/bin/$tool"; done
# verify_unit WHAT: systemd-analyze verify on the staged root; any output fails.
verify_unit() {
	local out
	out=$(systemd-analyze verify --root="$root" --recursive-errors=no "$root/etc/systemd/system/gateway.service" 2>&1) || {
		echo "systemd/verify: systemd-analyze verify failed ($1):" >&2; echo "$out" >&2; exit 1; }
	if [[ -n "$out" ]]; then echo "systemd/verify: systemd-analyze verify said ($1):" >&2; echo "$out" >&2; exit 1; fi
}
verify_unit "gateway.service"
score=$(systemd-analyze security --offline=true --root="$root" "$root/etc/systemd/system/gateway.service" 2>&1 | grep 'Overall exposure' || true)
echo "systemd/verify: gateway.service verifies cleanly; ${score#→ }"

# With the drop-in: it must verify too, and systemd must see what it sets (a drop-in in the wrong
# directory or section is silently ignored).
mkdir -p "$root/etc/systemd/system/gateway.service.d"
cp "$dropin" "$root/etc/systemd/system/gateway.service.d/remote-config.conf"
verify_unit "with gateway.service.d/remote-config.conf"
# The control: the same drop-in with a typo must fail, or verify never read it.
{ cat "$dropin"; echo "ReadWritePathz=/etc/gateway"; } >"$root/etc/systemd/system/gateway.service.d/remote-config.conf"
if out=$(systemd-analyze verify --root="$root" --recursive-errors=no "$root/etc/systemd/system/gateway.service" 2>&1) && [[ -z "$out" ]]; then
	echo "systemd/verify: a typo in the staged drop-in went unnoticed: systemd-analyze does not read gateway.service.d/" >&2; exit 1
fi
echo "systemd/verify: gateway.service with remote-config.conf verifies cleanly"
