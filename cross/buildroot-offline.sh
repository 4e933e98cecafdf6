#!/usr/bin/env bash
# Build a vendored copy of this tree exactly as Buildroot's golang-package does, with no network and an
# empty module cache: GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 GOARCH=arm GOARM=6.
# Proves that `make vendor` + BR2_EXTERNAL=buildroot builds offline.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

# Buildroot's utils/check-package (lib_defconfig.py ForceCheckHash): every defconfig forces hash checks.
for d in "$top"/buildroot/configs/*_defconfig; do
	grep -qx 'BR2_DOWNLOAD_FORCE_CHECK_HASHES=y' "$d" ||
		{ echo "buildroot-offline: ${d#"$top"/}:0: missing BR2_DOWNLOAD_FORCE_CHECK_HASHES" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# A copy of the tracked tree plus the working changes (what Buildroot's rsync of the local site sees).
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$work/") 2>/dev/null ||
	cp -a "$top/." "$work/"
rm -rf "$work/bin" "$work/vendor"
(cd "$work" && go mod vendor)

# Buildroot's environment (package/go/go.mk HOST_GO_COMMON_ENV + HOST_GO_TARGET_ENV, pkg-golang.mk build line).
export GO111MODULE=on GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local GOBIN=
# An empty module cache proves nothing is fetched; the build cache is shared with the host (it holds
# compiled packages, never sources) so that CI does not compile the standard library twice.
export GOPATH="$work/.go-path" GOMODCACHE="$work/.go-path/pkg/mod"
cd "$work"
for target in "arm 6" "arm64 "; do
	set -- $target
	out="$work/bin/gateway-$1${2:+v$2}"
	env GOOS=linux GOARCH="$1" ${2:+GOARM=$2} CGO_ENABLED=0 \
		go build -v -ldflags "-s -w -X main.version=$(cat VERSION)" -modcacherw -tags "" -trimpath -p 2 \
		-buildvcs=false -o "$out" github.com/edgegw/edgegw/cmd/gateway >/dev/null
	info=$(file -b "$out")
	case "$info" in *"statically linked"*) ;; *) echo "buildroot-offline: $out is not static: $info" >&2; exit 1 ;; esac
	echo "buildroot-offline: built $(basename "$out") offline from vendor/ ($(stat -c %s "$out") bytes)"
done
# The module cache must still be empty: nothing was fetched.
if [[ -d "$GOMODCACHE" ]] && [[ -n $(ls -A "$GOMODCACHE" 2>/dev/null) ]]; then
	echo "buildroot-offline: the build used the module cache" >&2; exit 1
fi
