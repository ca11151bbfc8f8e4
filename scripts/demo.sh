#!/usr/bin/env bash
# demo.sh starts a runc busybox container under Docker's default seccomp
# profile (moby/profiles v0.2.3), shows what the kernel enforces on it with
# `seccomp-attest dump`, and removes the container. `make demo` runs the
# setup and build first.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
[ -x "$ROOTFS/bin/busybox" ] || { echo "demo: no rootfs in $ROOTFS; run make setup" >&2; exit 1; }

work=$(mktemp -d /tmp/seccomp-attest-demo.XXXXXX)
id=seccomp-attest-demo-$$
cleanup() {
	runc delete -f "$id" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/rootfs"
cp -a "$ROOTFS/." "$work/rootfs/"
(cd "$work" && runc spec)
bin/test/docker-profile >"$work/profile.json"
jq --slurpfile s "$work/profile.json" \
	'.process.args = ["sleep", "1000"] | .process.terminal = false | .linux.seccomp = $s[0]' \
	"$work/config.json" >"$work/config.json.new"
mv "$work/config.json.new" "$work/config.json"

(cd "$work" && runc run -d "$id" </dev/null >/dev/null 2>&1)
pid=$(runc state "$id" | jq -r .pid)
echo "demo: runc container $id, pid $pid, Docker's default profile" >&2
echo "+ seccomp-attest dump $pid" >&2
bin/seccomp-attest dump "$pid"
