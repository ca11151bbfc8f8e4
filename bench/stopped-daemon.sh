#!/usr/bin/env bash
# bench/stopped-daemon.sh [PAIRS]: what a stopped seccomp-attestd adds to a
# podman start (issue 16: at most 1 s over the no-daemon path).
# `podman run --rm busybox true` with the shipped hooks.d (createRuntime,
# poststart, poststop), paired and interleaved in one session:
#
#   no-daemon   nothing listens on the hook's socket: the hook program
#               becomes `seccomp-attestd hook` at once
#   stopped     seccomp-attestd listens but is stopped (SIGSTOP): the hook
#               waits wire.AckWindow (250ms) for its acknowledgement, then
#               checks in its own process
#
# Prints the median of each side and of the per-pair differences.
# Needs root, `make build`, scripts/setup-host.sh (localhost/bb image).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-10}
HOOK=$PWD/bin/seccomp-attest-hook
DAEMON=$PWD/bin/seccomp-attestd
[ -x "$HOOK" ] && [ -x "$DAEMON" ] || { echo "bench: make build first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-stopped.XXXXXX)
daemon_pid=
trap '[ -z "$daemon_pid" ] || { kill -CONT "$daemon_pid"; kill "$daemon_pid"; }; rm -rf "$work"' EXIT
printf 'key: keys/signing.key\nstore: store\nlog: hook.log\n' >"$work/config.yaml"

hooks_dir() { # DIR SOCKET
	mkdir -p "$1"
	for f in hooks.d/*.json; do
		jq --arg h "$HOOK" --arg c "$work/config.yaml" --arg s "--socket=$2" \
			'.hook.path = $h | .hook.args = (.hook.args[:1] + [$s, "--config", $c] + .hook.args[1:])' "$f" >"$1/$(basename "$f")"
	done
}
hooks_dir "$work/none.d" "$work/none.sock"
hooks_dir "$work/stopped.d" "$work/stopped.sock"
"$DAEMON" serve --socket "$work/stopped.sock" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$work/stopped.sock" ] && break; sleep 0.05; done
kill -STOP "$daemon_pid"

ms() { # HOOKS-DIR: one podman run --rm, in milliseconds
	local t0
	t0=$(date +%s%N)
	podman --cgroup-manager cgroupfs --hooks-dir "$1" run --rm --network none \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/bb:latest true >/dev/null
	echo $((($(date +%s%N) - t0) / 1000000))
}
ms "$work/none.d" >/dev/null # warm up: key, caches
none=() stopped=() diff=()
for i in $(seq "$PAIRS"); do
	if ((i % 2)); then a=$(ms "$work/none.d"); b=$(ms "$work/stopped.d"); else b=$(ms "$work/stopped.d"); a=$(ms "$work/none.d"); fi
	none+=("$a") stopped+=("$b") diff+=($((b - a)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "podman run --rm true, $PAIRS pairs: no-daemon $(median "${none[@]}") ms, stopped daemon $(median "${stopped[@]}") ms, added $(median "${diff[@]}") ms (median of pairs; target <= 1000 ms)"
