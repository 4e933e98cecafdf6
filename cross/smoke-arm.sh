#!/usr/bin/env bash
# Smoke test of an ARM build under qemu-user: the binary runs the demo config (on ephemeral loopback ports),
# a host client (mosquitto_sub) receives a simulated reading from it, a fake NOTIFY_SOCKET receives READY=1,
# and SIGTERM shuts it down cleanly (exit 0, STOPPING=1).
# Usage: cross/smoke-arm.sh bin/gateway-linux-armv6 [qemu command]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: smoke-arm.sh BINARY [QEMU]}
qemu=${2:-"qemu-arm-static -cpu arm1176"}
for c in ${qemu%% *} socat mosquitto_sub; do
	if ! command -v "$c" >/dev/null 2>&1; then
		if [[ -n "${CI:-}" ]]; then echo "smoke-arm: $c missing" >&2; exit 1; fi
		echo "SKIP smoke-arm: $c not installed"; exit 0
	fi
done
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) wsport=$(free_port) httpport=$(free_port)
sed -e "s/127\.0\.0\.1:1883/127.0.0.1:$port/" -e "s/127\.0\.0\.1:9001/127.0.0.1:$wsport/" -e "s/127\.0\.0\.1:8080/127.0.0.1:$httpport/" \
	-e "s|^\(  *data_dir:\).*|\1 $tmp/data|" examples/demo.yaml >"$tmp/demo.yaml"

socat -u UNIX-RECV:"$tmp/notify.sock" - >"$tmp/notify.log" &
pids+=($!)
for _ in $(seq 50); do [[ -S $tmp/notify.sock ]] && break; sleep 0.1; done

NOTIFY_SOCKET="$tmp/notify.sock" $qemu "$bin" run -config "$tmp/demo.yaml" >"$tmp/gateway.log" 2>&1 &
gw=$!
pids+=($gw)

# The first reading must arrive (qemu start-up and the first poll included) well within 60 s.
if ! reading=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t 'sensors/demo/temperature' -C 1 -W 60 -v 2>"$tmp/sub.err"); then
	for _ in $(seq 100); do mosquitto_sub -h 127.0.0.1 -p "$port" -t 'sensors/demo/temperature' -C 1 -W 60 -v >"$tmp/r" 2>>"$tmp/sub.err" && { reading=$(cat "$tmp/r"); break; }; sleep 0.3; done
fi
if [[ -z "${reading:-}" ]]; then
	echo "smoke-arm: no reading from $bin" >&2; cat "$tmp/gateway.log" "$tmp/sub.err" >&2; exit 1
fi
echo "smoke-arm: received $reading"
case "$reading" in *'"value"'*'"unit"'*'"ts"'*) ;; *) echo "smoke-arm: reading is not the contract JSON" >&2; exit 1 ;; esac
for _ in $(seq 100); do grep -q 'READY=1' "$tmp/notify.log" && break; sleep 0.1; done
grep -q 'READY=1' "$tmp/notify.log" || { echo "smoke-arm: no READY=1 on NOTIFY_SOCKET" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
echo "smoke-arm: NOTIFY_SOCKET got READY=1"

kill -TERM "$gw"
rc=0; wait "$gw" || rc=$?
if ((rc != 0)); then echo "smoke-arm: gateway exited $rc after SIGTERM" >&2; cat "$tmp/gateway.log" >&2; exit 1; fi
for _ in $(seq 20); do grep -q 'STOPPING=1' "$tmp/notify.log" && break; sleep 0.1; done
grep -q 'STOPPING=1' "$tmp/notify.log" || { echo "smoke-arm: no STOPPING=1" >&2; exit 1; }
echo "smoke-arm: $bin ran the demo under ${qemu%% *} and stopped cleanly"
