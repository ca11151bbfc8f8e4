#!/usr/bin/env bash
# bench/wrapper.sh [PAIRS]: what wrapper-runc adds to a container start.
# Paired, interleaved runs in one session (the order inside each pair
# alternates); prints the median of each side and the median of the
# per-pair ratios wrapper/plain.
#
#   runc run (busybox true, Docker's default profile): wrapper-runc vs runc
#   docker run --rm --network none bb:latest true: --runtime=wrapper-runc vs
#     runc, with create and start checked by seccomp-attestd (docker-run),
#     and without a daemon, in the wrapper's own process (docker-nod)
#
# Needs root, `make build helpers`, scripts/setup-host.sh. Targets: ratio <= 1.05.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-30}
WRAPPER=$PWD/bin/wrapper-runc
DAEMON=$PWD/bin/seccomp-attestd
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
[ -x "$WRAPPER" ] && [ -x bin/test/docker-profile ] || { echo "bench: make build helpers first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-wrapper.XXXXXX)
daemon_pid=
trap '[ -z "$daemon_pid" ] || kill "$daemon_pid"; rm -rf "$work"' EXIT
cat >"$work/config.yaml" <<CFG
key: keys/signing.key
store: store
log: wrapper.log
CFG

# A bundle as Docker makes one (its default profile and capabilities)
# running busybox true.
mkdir -p "$work/bundle"
(cd "$work/bundle" && runc spec)
bin/test/docker-profile >"$work/profile.json"
caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
jq --slurpfile s "$work/profile.json" --arg root "$ROOTFS" --argjson caps "$caps" \
	'.root = {path: $root, readonly: true} | .process.args = ["/bin/true"] | .process.terminal = false | .linux.seccomp = $s[0]
	 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}' \
	"$work/bundle/config.json" >"$work/c" && mv "$work/c" "$work/bundle/config.json"

"$DAEMON" serve --socket "$work/d.sock" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/d.sock" ] && break; sleep 0.05; done
bash packaging/docker/register.sh --name wrapper-runc-bench --path "$WRAPPER" --config "$work/config.yaml" --runtime "$(command -v runc)" --socket "$work/d.sock"
bash packaging/docker/register.sh --name wrapper-runc-bench-nod --path "$WRAPPER" --config "$work/config.yaml" --runtime "$(command -v runc)" --socket "$work/none.sock"

# runc 1.1 compiles one profile into a few different programs (its ENOSYS
# stub walks a Go map of architectures), each a verdict cache entry of its
# own: warm them all, as a host does with its first containers.
WARMUPS=8
. bench/pairs.sh

run_plain() { runc run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
run_wrapped() { "$WRAPPER" --seccomp-attest-config="$work/config.yaml" run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
docker_plain() { docker run --rm --network none --runtime=runc bb:latest true; }
docker_wrapped() { docker run --rm --network none --runtime=wrapper-runc-bench bb:latest true; }
docker_nodaemon() { docker run --rm --network none --runtime=wrapper-runc-bench-nod bb:latest true; }

pairs "runc-run" run_plain run_wrapped wrapper
pairs "docker-run" docker_plain docker_wrapped wrapper
pairs "docker-nod" docker_plain docker_nodaemon wrapper
bash packaging/docker/register.sh --name wrapper-runc-bench --remove
bash packaging/docker/register.sh --name wrapper-runc-bench-nod --remove
