#!/usr/bin/env bash
# setup-host.sh prepares a Debian 12 machine (as root) for the real-runtime
# tests and the demo: packages, the crun cgroup fix-up, a running dockerd and
# a busybox image for podman and Docker. It is idempotent: every step checks
# whether it is already done, so `make test` can call it on every run.
#
# Environment:
#   SECCOMP_ATTEST_TEST_DIR  where the busybox rootfs lives
#                            (default /var/lib/seccomp-attest-test)
set -euo pipefail

# Debian puts dockerd and runc in sbin, which a CI PATH may lack.
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH

TEST_DIR=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}
ROOTFS=$TEST_DIR/rootfs

log() { echo "setup-host: $*" >&2; }
die() { echo "setup-host: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (runtimes, cgroups and ptrace need it)"

# Packages. apt is slow and needs the network, so skip it when every tool is
# already there (a developer machine set up by hand, or a second run).
# chromium (headless) renders the HTML reports in test/bats/report.bats.
packages=(runc crun podman docker.io bats libseccomp-dev busybox-static jq gcc chromium)
need_apt=0
for tool in runc crun podman dockerd bats jq gcc chromium; do
	command -v "$tool" >/dev/null 2>&1 || need_apt=1
done
[ -x /bin/busybox ] || need_apt=1
[ -e /usr/include/seccomp.h ] || need_apt=1
# gcc -static needs the C library's static archive (libc6-dev, pulled by gcc).
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ "$(uname -m)" != x86_64 ] || need_apt=1
if [ "$need_apt" = 1 ]; then
	log "installing ${packages[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q "${packages[@]}" libc6-dev
else
	log "packages already installed"
fi

# crun refuses cgroup v1 + a cgroup2 mount that still holds a controller
# ("cgroups in hybrid mode not supported"): move hugetlb to its v1 hierarchy.
if grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	log "moving the hugetlb controller off the cgroup2 mount for crun"
	mkdir -p /sys/fs/cgroup/hugetlb
	mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi

# Docker client: docker.io ships /usr/bin/docker matching its daemon; a newer
# client elsewhere on PATH works too (it negotiates the API version).
DOCKER=docker
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker

# dockerd: start it in the background unless it answers already.
if ! "$DOCKER" info >/dev/null 2>&1; then
	log "starting dockerd (log: /var/log/dockerd.log)"
	# setsid: the daemon must not die with this script's session or its
	# process group (CI runners kill those at the end of a step).
	setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
	for _ in $(seq 300); do
		"$DOCKER" info >/dev/null 2>&1 && break
		sleep 0.2
	done
	"$DOCKER" info >/dev/null 2>&1 || {
		tail -n 20 /var/log/dockerd.log >&2 || true
		die "dockerd did not answer within 60s"
	}
fi

# A busybox root filesystem: no registry is reachable on these machines.
if [ ! -x "$ROOTFS/bin/busybox" ]; then
	log "building busybox rootfs in $ROOTFS"
	mkdir -p "$ROOTFS"/{bin,proc,dev,sys,tmp,etc}
	cp /bin/busybox "$ROOTFS/bin/busybox"
	for applet in sh sleep true cat grep ls echo ps; do
		ln -sf busybox "$ROOTFS/bin/$applet"
	done
fi

if ! podman image exists localhost/bb:latest; then
	log "importing localhost/bb:latest into podman"
	tar -C "$ROOTFS" -c . | podman import - localhost/bb:latest >/dev/null
fi
if ! "$DOCKER" image inspect bb:latest >/dev/null 2>&1; then
	log "importing bb:latest into docker"
	tar -C "$ROOTFS" -c . | "$DOCKER" import - bb:latest >/dev/null
fi

log "ready (rootfs $ROOTFS, docker client $DOCKER)"
