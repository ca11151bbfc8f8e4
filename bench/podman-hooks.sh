#!/usr/bin/env bash
# bench/podman-hooks.sh [PAIRS]: what the installed hooks.d costs the path
# most podman (and CRI-O) users take. `podman run --rm` of busybox true with
# the project's hooks.d (createRuntime, poststart, poststop) pointing at the
# built hook, with seccomp-attestd serving, against the same run with an
# empty hooks dir; paired, interleaved runs in one session (the order inside
# each pair alternates). Prints the median of each side and the median of
# the per-pair ratios hooks/plain:
#
#   podman-run   the hooks answered by seccomp-attestd (the installed setup)
#   null-hooks   the same three stages running a hook that only reads its
#                stdin (bin/test/null-hook): the floor of any hook program
#
# and, from the operators' log, the median time of each stage's own work.
#
# The runtime is podman's default (crun on Debian 12); RUNTIME=runc picks
# another. HOOK and DAEMON name other builds of the hook and the daemon.
#
# Needs root, `make build helpers`, scripts/setup-host.sh (the image
# localhost/bb). Target: ratio <= 1.05.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-20}
HOOK=${HOOK:-$PWD/bin/seccomp-attest-hook}
DAEMON=${DAEMON:-$PWD/bin/seccomp-attestd}
NULL_HOOK=${NULL_HOOK:-$PWD/bin/test/null-hook}
[ -x "$HOOK" ] && [ -x "$DAEMON" ] && [ -x "$NULL_HOOK" ] || { echo "bench: make build helpers first" >&2; exit 2; }
PODMAN=(podman --cgroup-manager cgroupfs)
[ -z "${RUNTIME:-}" ] || PODMAN+=(--runtime "$RUNTIME")
RUN_FLAGS=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

work=$(mktemp -d /tmp/bench-podman-hooks.XXXXXX)
daemon_pid=
trap '[ -z "$daemon_pid" ] || kill "$daemon_pid"; rm -rf "$work"' EXIT
cat >"$work/config.yaml" <<CFG
key: keys/signing.key
store: store
log: hook.log
CFG

# hooks_dir DIR HOOK ARGS...: the shipped hooks.d in DIR, running HOOK with
# ARGS before each stage's name.
hooks_dir() {
	local dir=$1 hook=$2 args f
	shift 2
	args=[]
	[ $# = 0 ] || args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	mkdir -p "$dir"
	for f in hooks.d/*.json; do
		jq --arg h "$hook" --argjson a "$args" '.hook.path = $h | .hook.args = (.hook.args[:1] + $a + .hook.args[1:])' \
			"$f" >"$dir/$(basename "$f")"
	done
}
hooks_dir "$work/hooks.d" "$HOOK" "--socket=$work/hook.sock" --config "$work/config.yaml"
hooks_dir "$work/null.d" "$NULL_HOOK"
mkdir -p "$work/empty.d"

"$DAEMON" serve --socket "$work/hook.sock" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/hook.sock" ] && break; sleep 0.05; done

# The first containers make the host key and fill the verdict cache, as a
# host's first containers do.
WARMUPS=4
. bench/pairs.sh
run_with() { "${PODMAN[@]}" --hooks-dir "$1" run "${RUN_FLAGS[@]}" localhost/bb:latest true >/dev/null; }
run_plain() { run_with "$work/empty.d"; }
run_hooked() { run_with "$work/hooks.d"; }
run_null() { run_with "$work/null.d"; }
pairs "podman-run" run_plain run_hooked "with hooks"
pairs "null-hooks" run_plain run_null "with hooks"

# Each stage's own work, as the log records it (the hook's "elapsed").
jq -r 'select(.stage and .elapsed) | "\(.stage) \(.elapsed)"' "$work/hook.log" | awk '
	function ms(s) { if (s ~ /µs$/) return s / 1000; if (s ~ /ms$/) return s + 0; return s * 1000 }
	{ n[$1]++; v[$1, n[$1]] = ms($2) }
	END {
		for (st in n) {
			k = n[st]
			for (i = 1; i <= k; i++) a[i] = v[st, i]
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			printf "stage %-14s %3d runs  median %.1f ms\n", st, k, k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
		}
	}'
