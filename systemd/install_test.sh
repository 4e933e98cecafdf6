#!/usr/bin/env bash
# Tests for systemd/install.sh: which binary it picks for each OS (32-bit Raspberry Pi OS on a 64-bit
# kernel included), and, as root, an install into a staged root that lacks the gpio and i2c groups.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail=0
check() { # name want got
	if [[ "$2" != "$3" ]]; then echo "install_test: $1: want $2, got $3" >&2; fail=1; fi
}

# dpkg arch, uname -m, getconf LONG_BIT → binary. "-" is a board without dpkg.
while read -r dpkg machine bits want; do
	[[ $dpkg == - ]] && dpkg=""
	got=$(GATEWAY_DPKG_ARCH=$dpkg GATEWAY_UNAME_M=$machine GATEWAY_LONG_BIT=$bits \
		"$here/install.sh" --print-binary 2>/dev/null || echo error)
	check "pick $dpkg/$machine/$bits" "$want" "$got"
done <<'CASES'
arm64 aarch64 64 gateway-linux-arm64
armhf aarch64 32 gateway-linux-armv7
armhf armv7l 32 gateway-linux-armv7
armhf armv6l 32 gateway-linux-armv6
armel armv6l 32 gateway-linux-armv6
- aarch64 64 gateway-linux-arm64
- aarch64 32 gateway-linux-armv7
- armv6l 32 gateway-linux-armv6
amd64 x86_64 64 error
CASES

if [[ $(id -u) != 0 ]] || ! command -v useradd >/dev/null 2>&1; then
	echo "SKIP install_test: staged install needs root and useradd"
else
	root=$(mktemp -d) bins=$(mktemp -d)
	trap 'rm -rf "$root" "$bins"' EXIT
	mkdir -p "$root/etc"
	# A Debian without Raspberry Pi OS's gpio and i2c groups: only root and dialout.
	printf 'root:x:0:0:root:/root:/bin/bash\n' >"$root/etc/passwd"
	printf 'root:*::0:::::\n' >"$root/etc/shadow"
	printf 'root:x:0:\ndialout:x:20:\n' >"$root/etc/group"
	printf 'root:*::\ndialout:*::\n' >"$root/etc/gshadow"
	cp /etc/login.defs "$root/etc/" 2>/dev/null || true
	printf '#!/bin/sh\n' >"$bins/gateway-linux-arm64"
	out=$(GATEWAY_DPKG_ARCH=arm64 GATEWAY_UNAME_M=aarch64 "$here/install.sh" --root "$root" --bin-dir "$bins" 2>&1) || {
		echo "install_test: install.sh failed:" >&2; echo "$out" >&2; exit 1; }
	check "user created" 1 "$(grep -c '^gateway:' "$root/etc/passwd")"
	check "dialout joined" "dialout:x:20:gateway" "$(grep '^dialout:' "$root/etc/group")"
	check "gpio skipped" 1 "$(grep -c 'group gpio does not exist here: skipped' <<<"$out")"
	check "i2c skipped" 1 "$(grep -c 'group i2c does not exist here: skipped' <<<"$out")"
	check "binary" "$(cat "$bins/gateway-linux-arm64")" "$(cat "$root/usr/bin/gateway")"
	check "unit" "" "$(cmp "$here/gateway.service" "$root/etc/systemd/system/gateway.service")"
	check "config mode" "640 root" "$(stat -c '%a %U' "$root/etc/gateway/gateway.yaml")"
	# A second run keeps the user and the config.
	out=$(GATEWAY_DPKG_ARCH=arm64 GATEWAY_UNAME_M=aarch64 "$here/install.sh" --root "$root" --bin-dir "$bins" 2>&1) || {
		echo "install_test: second install.sh failed:" >&2; echo "$out" >&2; exit 1; }
	check "rerun keeps config" 1 "$(grep -c 'keeping the existing' <<<"$out")"
	check "rerun one user" 1 "$(grep -c '^gateway:' "$root/etc/passwd")"
	check "no drop-in by default" 1 "$([[ -e "$root/etc/systemd/system/gateway.service.d" ]] || echo 1)"
	out=$(GATEWAY_DPKG_ARCH=arm64 GATEWAY_UNAME_M=aarch64 "$here/install.sh" --root "$root" --bin-dir "$bins" --remote-config 2>&1) || {
		echo "install_test: install.sh --remote-config failed:" >&2; echo "$out" >&2; exit 1; }
	check "remote-config drop-in" "" "$(cmp "$here/gateway.service.d/remote-config.conf" "$root/etc/systemd/system/gateway.service.d/remote-config.conf" 2>&1)"
fi
# The unit must not name groups (a missing one fails the start with 216/GROUP): the user's groups apply.
check "no SupplementaryGroups" 0 "$(grep -c '^SupplementaryGroups=' "$here/gateway.service" || true)"
[[ $fail == 0 ]] && echo "install_test: ok"
exit $fail
