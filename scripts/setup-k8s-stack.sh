#!/usr/bin/env bash
# setup-k8s-stack.sh installs the Kubernetes node stack the CRI tests run on,
# beside Debian's runtimes and Docker's containerd (nothing goes to /usr):
#
#   PREFIX/bin      runc v1.5.3 (-tags seccomp), containerd v2.4.2,
#                   containerd-shim-runc-v2, ctr, crictl v1.37.0
#   PREFIX/images   OCI archives made here (no registry): the sandbox
#                   (pause) image and a busybox image, which the tests
#                   import into their private containerd
#
# CNI comes from Debian (containernetworking-plugins, /usr/lib/cni). Each
# binary is built only when PREFIX/bin does not hold the pinned version, so
# a second run takes a second. Run after setup-host.sh (libseccomp-dev,
# gcc, the busybox rootfs).
#
# Environment:
#   SECCOMP_ATTEST_STACK      the prefix (default /opt/seccomp-attest-test)
#   SECCOMP_ATTEST_TEST_DIR   where setup-host.sh put the busybox rootfs
set -euo pipefail
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH

PREFIX=${SECCOMP_ATTEST_STACK:-/opt/seccomp-attest-test}
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
RUNC_VERSION=v1.5.3
CONTAINERD_VERSION=v2.4.2
CRICTL_VERSION=v1.37.0
HERE=$(cd "$(dirname "$0")" && pwd)

log() { echo "setup-k8s-stack: $*" >&2; }
die() { echo "setup-k8s-stack: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
command -v go >/dev/null || die "go not found (expected /usr/local/go/bin)"
[ -x "$ROOTFS/bin/busybox" ] || die "no busybox rootfs in $ROOTFS: run scripts/setup-host.sh first"

if [ ! -x /usr/lib/cni/bridge ] || [ ! -x /usr/lib/cni/host-local ] || [ ! -x /usr/lib/cni/loopback ]; then
	log "installing containernetworking-plugins"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q containernetworking-plugins
fi

mkdir -p "$PREFIX/bin" "$PREFIX/images"

# installed BIN VERSION: PREFIX/bin/BIN is there and was built from VERSION
# (a stamp beside it: `go install` leaves no version in some binaries).
installed() {
	[ -x "$PREFIX/bin/$1" ] && [ "$(cat "$PREFIX/bin/.$1.version" 2>/dev/null)" = "$2" ]
}

# build BIN VERSION TAGS PACKAGE: go install PACKAGE@VERSION into PREFIX/bin.
build() {
	local bin=$1 version=$2 tags=$3 pkg=$4
	installed "$bin" "$version" && return 0
	log "building $bin $version (go install $pkg@$version)"
	GOBIN="$PREFIX/bin" GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=1 \
		go install ${tags:+-tags "$tags"} "$pkg@$version"
	echo "$version" >"$PREFIX/bin/.$bin.version"
}

build runc "$RUNC_VERSION" seccomp github.com/opencontainers/runc
build containerd "$CONTAINERD_VERSION" "" github.com/containerd/containerd/v2/cmd/containerd
build containerd-shim-runc-v2 "$CONTAINERD_VERSION" "" github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
build ctr "$CONTAINERD_VERSION" "" github.com/containerd/containerd/v2/cmd/ctr
build crictl "$CRICTL_VERSION" "" sigs.k8s.io/cri-tools/cmd/crictl

runc_version=$("$PREFIX/bin/runc" --version)
grep -q "runc version ${RUNC_VERSION#v}" <<<"$runc_version" || die "$PREFIX/bin/runc is not $RUNC_VERSION"
grep -q "seccomp" <<<"$runc_version" || die "$PREFIX/bin/runc was built without seccomp"

# The images: a pause binary made here, and the busybox rootfs.
pause_src=$HERE/../test/helpers/pause.c
if [ ! -s "$PREFIX/images/pause.tar" ] || [ "$pause_src" -nt "$PREFIX/images/pause.tar" ]; then
	log "building the sandbox image $PREFIX/images/pause.tar"
	work=$(mktemp -d)
	mkdir -p "$work/rootfs"
	gcc -static -O2 -Wall -Wextra -o "$work/rootfs/pause" "$pause_src"
	bash "$HERE/oci-archive.sh" "$work/rootfs" localhost/seccomp-attest/pause:3.10 /pause >"$work/pause.tar"
	mv "$work/pause.tar" "$PREFIX/images/pause.tar"
	rm -rf "$work"
fi
if [ ! -s "$PREFIX/images/busybox.tar" ] || [ "$ROOTFS/bin/busybox" -nt "$PREFIX/images/busybox.tar" ]; then
	log "building the busybox image $PREFIX/images/busybox.tar"
	bash "$HERE/oci-archive.sh" "$ROOTFS" localhost/seccomp-attest/busybox:latest /bin/sh >"$PREFIX/images/busybox.tar.new"
	mv "$PREFIX/images/busybox.tar.new" "$PREFIX/images/busybox.tar"
fi

log "ready: $(ls "$PREFIX/bin" | tr '\n' ' ')"
