#!/usr/bin/env bash
# Run the packages' tests as ARM binaries under qemu-user: armv6 (Pi Zero/1, ARM1176) and arm64.
# bbolt's 32-bit mmap limits, 64-bit atomics alignment and ioctl sizes are what breaks there.
# -race is not available on 32-bit ARM; tests run with -short to keep the emulated run bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=${ARM_TEST_PKGS:-"./sensors/... ./offline/... ./mqttcore/packet/... ./mqttcore/topic/... ./mqttcore/session/... ./config/..."}
for q in qemu-arm-static qemu-aarch64-static; do
	if ! command -v $q >/dev/null 2>&1; then
		if [[ -n "${CI:-}" ]]; then echo "test-arm: $q missing (install qemu-user-static)" >&2; exit 1; fi
		echo "SKIP test-arm: $q not installed"; exit 0
	fi
done
export CGO_ENABLED=0
echo "test-arm: armv6 (qemu-arm-static -cpu arm1176)"
GOOS=linux GOARCH=arm GOARM=6 go test -short -count=1 -timeout 15m -exec 'qemu-arm-static -cpu arm1176' $pkgs
echo "test-arm: arm64 (qemu-aarch64-static)"
GOOS=linux GOARCH=arm64 go test -short -count=1 -timeout 15m -exec qemu-aarch64-static $pkgs
