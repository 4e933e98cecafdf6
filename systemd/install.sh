#!/usr/bin/env bash
# Install the gateway on a Debian-family board (Raspberry Pi OS 32- or 64-bit, Debian, Ubuntu) from the files
# `make cross` built: the binary that matches the OS, the systemd unit, the `gateway` user, and the example
# config when /etc/gateway/gateway.yaml does not exist yet.
#
#   sudo systemd/install.sh [--root DIR] [--bin-dir DIR | --binary FILE] [--config FILE] [--remote-config] [--no-start]
#   systemd/install.sh --print-binary      # which bin/gateway-linux-* this OS needs, and why
#
# Which binary: the unit sets SystemCallArchitectures=native, and systemd's "native" is the architecture
# systemd itself was built for, i.e. the userland's (dpkg --print-architecture), not the kernel's: 32-bit
# Raspberry Pi OS on a Pi 4/5 boots a 64-bit kernel (uname -m says aarch64) under an armhf userland. A 32-bit
# ARM binary on a 64-bit (arm64) userland would be killed by that filter at its first system call (SIGSYS),
# so arm64 gets the arm64 binary and armhf gets armv6 (armv6l CPUs: Pi Zero/1) or armv7.
#
# --remote-config also installs gateway.service.d/remote-config.conf, which lets the service replace
# /etc/gateway/gateway.yaml (remote.config: true; see the README's remote configuration section).
#
# Groups: the user joins gpio, i2c and dialout where they exist (systemd applies a User='s groups); a missing
# group is skipped with a message, never an error. With --root everything happens inside DIR (useradd
# --root), nothing is started: that is how systemd/install_test.sh runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
root="" bindir="$top/bin" binary="" config="$top/examples/pi.yaml" start=1 print=0 remote=0

die() { echo "install: $*" >&2; exit 1; }
say() { echo "install: $*"; }

# The three inputs of the choice; tests override them through the environment.
dpkg_arch() { [[ -n "${GATEWAY_DPKG_ARCH+x}" ]] && { echo "$GATEWAY_DPKG_ARCH"; return; }
	command -v dpkg >/dev/null 2>&1 && dpkg --print-architecture || true; }
uname_m() { echo "${GATEWAY_UNAME_M:-$(uname -m)}"; }
long_bit() { echo "${GATEWAY_LONG_BIT:-$(getconf LONG_BIT 2>/dev/null || echo 0)}"; }

# pick_binary prints the gateway-linux-* name for this OS and a reason on stderr.
pick_binary() {
	local arch machine bits
	arch=$(dpkg_arch) machine=$(uname_m) bits=$(long_bit)
	if [[ -z "$arch" ]]; then # no dpkg (e.g. Buildroot): the userland's word size decides
		case "$machine/$bits" in
		aarch64/64 | arm64/64) arch=arm64 ;;
		aarch64/32 | armv6*/* | armv7*/* | armv8*/*) arch=armhf ;;
		*) arch=$machine ;;
		esac
	fi
	case "$arch" in
	arm64) echo gateway-linux-arm64; echo "userland arm64 (kernel $machine): the arm64 binary" >&2 ;;
	armhf | armel)
		case "$machine" in
		armv6*) echo gateway-linux-armv6; echo "userland $arch on an armv6 CPU: the armv6 binary" >&2 ;;
		*) echo gateway-linux-armv7; echo "userland $arch (32-bit) on $machine: the armv7 binary (a 64-bit binary would be killed by SystemCallArchitectures=native)" >&2 ;;
		esac ;;
	*) echo "install: no gateway binary for userland ${arch:-unknown} ($machine); pass --binary FILE" >&2; return 1 ;;
	esac
}

while [[ $# -gt 0 ]]; do
	case "$1" in
	--root) root=${2:?--root DIR}; shift 2 ;;
	--bin-dir) bindir=${2:?--bin-dir DIR}; shift 2 ;;
	--binary) binary=${2:?--binary FILE}; shift 2 ;;
	--config) config=${2:?--config FILE}; shift 2 ;;
	--no-start) start=0; shift ;;
	--remote-config) remote=1; shift ;;
	--print-binary) print=1; shift ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done

if [[ $print == 1 ]]; then pick_binary; exit; fi
[[ $(id -u) == 0 ]] || die "run as root (sudo $0 $*)"
if [[ -z "$binary" ]]; then
	name=$(pick_binary) || exit 1
	binary="$bindir/$name"
	[[ -f "$binary" ]] || binary="$bindir/gateway" # copied to the board under its short name
fi
[[ -f "$binary" ]] || die "binary $binary not found (run make cross, or pass --binary FILE)"

# useradd/usermod with --root read and write DIR/etc; without it, the system's.
ur=()
[[ -n "$root" ]] && ur=(--root "$root")
has_group() { grep -q "^$1:" "$root/etc/group"; }
groups=()
for g in gpio i2c dialout; do
	if has_group "$g"; then groups+=("$g"); else
		case "$g" in
		gpio) say "group gpio does not exist here: skipped; GPIO sensors need /dev/gpiochip* readable by the gateway user (create the group and a udev rule, see README Install)" ;;
		i2c) say "group i2c does not exist here: skipped; I2C sensors need /dev/i2c-* readable by the gateway user (raspi-config enables I2C and creates it on Raspberry Pi OS)" ;;
		*) say "group $g does not exist here: skipped; serial sensors need their /dev/tty* readable by the gateway user" ;;
		esac
	fi
done
joined=$(IFS=,; echo "${groups[*]}")
if grep -q '^gateway:' "$root/etc/passwd"; then
	[[ -n "$joined" ]] && usermod "${ur[@]}" --append --groups "$joined" gateway
	say "user gateway exists${joined:+; member of $joined}"
else
	useradd "${ur[@]}" --system --user-group --home-dir /var/lib/gateway --no-create-home \
		--shell /usr/sbin/nologin ${joined:+--groups "$joined"} gateway 2>&1 | grep -v 'missing or non-executable shell' || true
	grep -q '^gateway:' "$root/etc/passwd" || die "useradd gateway failed"
	say "created system user gateway${joined:+, member of $joined}"
fi
gid=$(awk -F: '$1 == "gateway" { print $3 }' "$root/etc/group")

install -D -m 0755 "$binary" "$root/usr/bin/gateway"
install -D -m 0644 "$here/gateway.service" "$root/etc/systemd/system/gateway.service"
if [[ $remote == 1 ]]; then
	install -D -m 0644 "$here/gateway.service.d/remote-config.conf" "$root/etc/systemd/system/gateway.service.d/remote-config.conf"
	say "installed the remote-config drop-in: /etc/gateway is writable by the service"
fi
if [[ -e "$root/etc/gateway/gateway.yaml" ]]; then
	say "keeping the existing /etc/gateway/gateway.yaml"
else
	install -D -m 0640 -o 0 -g "$gid" "$config" "$root/etc/gateway/gateway.yaml"
	say "installed $(basename "$config") as /etc/gateway/gateway.yaml (0640 root:gateway): edit it, then check it"
fi
say "installed $(basename "$binary") as /usr/bin/gateway and the unit"
if [[ -n "$root" || $start == 0 ]]; then
	say "next: systemctl daemon-reload && systemctl enable --now gateway"
	exit 0
fi
systemctl daemon-reload
if ! runuser -u gateway -- /usr/bin/gateway check -config /etc/gateway/gateway.yaml; then
	die "the config does not check: fix /etc/gateway/gateway.yaml, then: sudo systemctl enable --now gateway"
fi
systemctl enable --now gateway
say "running: journalctl -u gateway -f"
