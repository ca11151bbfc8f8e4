#!/usr/bin/env bash
# bench/hook.sh [PAIRS]: what the poststart hook adds to a container start.
# `runc run` of busybox true under Docker's default profile and capabilities, with the hook in
# config.json (poststart) and without it; paired, interleaved runs in one
# session (the order inside each pair alternates). Prints the median of each
# side and the median of the per-pair ratios hook/plain:
#
#   runc-run     the hook answered by seccomp-attestd (the installed setup)
#   no-daemon    no daemon: the hook program becomes `seccomp-attestd hook`
#   null-hook    a hook that only reads its stdin (bin/test/null-hook): the
#                floor of any hook program on this machine
#
# and the peak RSS of the hook program and of the daemon.
#
# Needs root, `make build helpers`, scripts/setup-host.sh. Targets: ratio <=
# 1.05, peak RSS <= 30 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-30}
HOOK=$PWD/bin/seccomp-attest-hook
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
DAEMON=$PWD/bin/seccomp-attestd
[ -x "$HOOK" ] && [ -x "$DAEMON" ] && [ -x bin/test/docker-profile ] && [ -x bin/test/null-hook ] || { echo "bench: make build helpers first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-hook.XXXXXX)
daemon_pid=
trap '[ -z "$daemon_pid" ] || kill "$daemon_pid"; rm -rf "$work"' EXIT
cat >"$work/config.yaml" <<CFG
key: keys/signing.key
store: store
log: hook.log
CFG

bundle() { # DIR HOOKS-JSON
	mkdir -p "$1"
	(cd "$1" && runc spec)
	jq --slurpfile s "$work/profile.json" --arg root "$ROOTFS" --argjson hooks "$2" --argjson caps "$(bin/test/docker-profile --caps)" \
		'.root = {path: $root, readonly: true} | .process.args = ["/bin/true"] | .process.terminal = false
		 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
		 | .linux.seccomp = $s[0] | if $hooks == null then . else .hooks = $hooks end' \
		"$1/config.json" >"$1/c" && mv "$1/c" "$1/config.json"
}
bin/test/docker-profile >"$work/profile.json"
bundle "$work/plain" null
hooked() { # DIR SOCKET
	bundle "$1" "$(jq -n --arg h "$HOOK" --arg c "$work/config.yaml" --arg s "--socket=$2" \
		'{poststart: [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, "poststart"], timeout: 10}]}')"
}
hooked "$work/hooked" "$work/hook.sock"
hooked "$work/direct" "$work/no-daemon.sock"
bundle "$work/null" "$(jq -n --arg h "$PWD/bin/test/null-hook" '{poststart: [{path: $h, args: ["null-hook"], timeout: 10}]}')"

"$DAEMON" serve --socket "$work/hook.sock" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/hook.sock" ] && break; sleep 0.05; done

# runc 1.1 compiles one profile into a few different programs (its ENOSYS
# stub walks a Go map of architectures), each a verdict cache entry of its
# own: warm them all, as a host does with its first containers.
WARMUPS=8
. bench/pairs.sh
run_plain() { runc run --bundle "$work/plain" "bench-$$-plain-$1" </dev/null >/dev/null; }
run_hooked() { runc run --bundle "$work/hooked" "bench-$$-hooked-$1" </dev/null >/dev/null; }
run_direct() { runc run --bundle "$work/direct" "bench-$$-direct-$1" </dev/null >/dev/null; }
run_null() { runc run --bundle "$work/null" "bench-$$-null-$1" </dev/null >/dev/null; }
pairs "runc-run" run_plain run_hooked "with hook"
pairs "no-daemon" run_plain run_direct "with hook"
pairs "null-hook" run_plain run_null "with hook"

# Peak RSS of the hook, cold (empty verdict cache: the analysis runs) and warm.
state() { jq -n --arg b "$work/hooked" --argjson pid "$1" '{ociVersion: "1.0.2", id: "rss", status: "running", pid: $pid, bundle: $b}'; }
(cd "$work/hooked" && jq '.process.args = ["/bin/sleep", "30"] | del(.hooks)' config.json >c.json && mv c.json config.json)
runc run -d --bundle "$work/hooked" "bench-$$-rss" </dev/null >/dev/null
pid=$(runc state "bench-$$-rss" | jq .pid)
rm -rf "$work/store/cache"
cold=$(state "$pid" | /usr/bin/time -f %M "$HOOK" --socket="$work/no-daemon.sock" --config "$work/config.yaml" poststart 2>&1 >/dev/null | tail -1)
warm=$(state "$pid" | /usr/bin/time -f %M "$HOOK" --socket="$work/no-daemon.sock" --config "$work/config.yaml" poststart 2>&1 >/dev/null | tail -1)
client=$(state "$pid" | /usr/bin/time -f %M "$HOOK" --socket="$work/hook.sock" --config "$work/config.yaml" poststart 2>&1 >/dev/null | tail -1)
runc delete -f "bench-$$-rss"
daemon=$(awk '/^VmHWM/ {print $2}' "/proc/$daemon_pid/status")
echo "peak RSS: hook program with the daemon ${client} KiB; seccomp-attestd ${daemon} KiB after $((PAIRS + WARMUPS + 1)) hooks"
echo "peak RSS without a daemon: cold cache ${cold} KiB, warm cache ${warm} KiB"
