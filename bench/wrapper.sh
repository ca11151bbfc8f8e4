#!/usr/bin/env bash
# bench/wrapper.sh [PAIRS]: what wrapper-runc adds to a container start.
# Paired, interleaved runs in one session (the order inside each pair
# alternates); prints the median of each side and the median of the
# per-pair ratios wrapper/plain.
#
#   runc run (busybox true, Docker's default profile): wrapper-runc vs runc
#   docker run --rm --network none bb:latest true: --runtime=wrapper-runc vs runc
#
# Needs root, `make build helpers`, scripts/setup-host.sh. Targets: ratio <= 1.05.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-30}
WRAPPER=$PWD/bin/wrapper-runc
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
[ -x "$WRAPPER" ] && [ -x bin/test/docker-profile ] || { echo "bench: make build helpers first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-wrapper.XXXXXX)
trap 'rm -rf "$work"' EXIT
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

bash packaging/docker/register.sh --name wrapper-runc-bench --path "$WRAPPER" --config "$work/config.yaml" --runtime "$(command -v runc)"

. bench/pairs.sh

run_plain() { runc run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
run_wrapped() { "$WRAPPER" --seccomp-attest-config="$work/config.yaml" run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
docker_plain() { docker run --rm --network none --runtime=runc bb:latest true; }
docker_wrapped() { docker run --rm --network none --runtime=wrapper-runc-bench bb:latest true; }

pairs "runc-run" run_plain run_wrapped wrapper
pairs "docker-run" docker_plain docker_wrapped wrapper
bash packaging/docker/register.sh --name wrapper-runc-bench --remove
