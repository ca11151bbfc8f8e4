#!/usr/bin/env bash
# bench/record.sh [PAIRS]: what recording costs (seccomp-attest record,
# docs/record.md). Paired, interleaved runs in one session (the order
# inside each pair alternates), medians and the median of per-pair ratios:
#
#   start    `runc run` of busybox true under Docker's default profile
#            (plain) and under the recording profile answered by
#            `seccomp-attest record serve` (recorded). Target: ratio <= 1.2.
#   getpid   100000 getpid calls in the container (record-workload getpid,
#            timed inside the container, so the start is not in it), under
#            Docker's default and recorded: every recorded call is a round
#            trip to the recorder.
#
# Needs root, `make build helpers`, scripts/setup-host.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-20}
SA=${SECCOMP_ATTEST:-$PWD/bin/seccomp-attest}
HELPERS=${HELPERS:-$PWD/bin/test}
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
CALLS=${CALLS:-100000}
[ -x "$SA" ] && [ -x "$HELPERS/docker-profile" ] && [ -x "$HELPERS/record-workload" ] || { echo "bench: make build helpers first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-record.XXXXXX)
serve_pid=
trap '[ -z "$serve_pid" ] || { kill "$serve_pid"; wait "$serve_pid" || true; }; rm -rf "$work"' EXIT
. bench/pairs.sh

"$SA" record serve --socket "$work/record.sock" --dir "$work/recordings" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do [ -S "$work/record.sock" ] && break; sleep 0.05; done
"$HELPERS/docker-profile" >"$work/docker.json"
"$SA" record profile --socket "$work/record.sock" -o "$work/recording.json"

# bundle DIR PROFILE ARGS...: a read-only busybox rootfs with the helper.
mkdir -p "$work/rootfs"
cp -a "$ROOTFS/." "$work/rootfs/"
cp "$HELPERS/record-workload" "$work/rootfs/bin/"
bundle() {
	local dir=$1 profile=$2
	shift 2
	mkdir -p "$dir"
	(cd "$dir" && runc spec)
	jq --slurpfile s "$profile" --arg root "$work/rootfs" --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		--argjson caps "$("$HELPERS/docker-profile" --caps)" \
		'.root = {path: $root, readonly: true} | .process.args = $args | .process.terminal = false
		 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
		 | .linux.seccomp = $s[0]' "$dir/config.json" >"$dir/c"
	mv "$dir/c" "$dir/config.json"
}
bundle "$work/plain-true" "$work/docker.json" /bin/true
bundle "$work/rec-true" "$work/recording.json" /bin/true
bundle "$work/plain-getpid" "$work/docker.json" /bin/record-workload getpid "$CALLS"
bundle "$work/rec-getpid" "$work/recording.json" /bin/record-workload getpid "$CALLS"

run_in() { # DIR ID
	(cd "$1" && runc run "$2" </dev/null)
}
plain_start() { run_in "$work/plain-true" "bench-rec-p$$-$1" >/dev/null; }
recorded_start() { run_in "$work/rec-true" "bench-rec-r$$-$1" >/dev/null; }

echo "start: runc run of busybox true, Docker's default vs the recording profile"
pairs start plain_start recorded_start recorded

echo "getpid: $CALLS getpid calls inside the container (timed there)"
: >"$work/getpid"
for i in $(seq "$PAIRS"); do
	if [ $((i % 2)) = 0 ]; then
		a=$(run_in "$work/plain-getpid" "bench-rec-gp$$-$i"); b=$(run_in "$work/rec-getpid" "bench-rec-gr$$-$i")
	else
		b=$(run_in "$work/rec-getpid" "bench-rec-gr$$-$i"); a=$(run_in "$work/plain-getpid" "bench-rec-gp$$-$i")
	fi
	echo "${a#loop_ns=} ${b#loop_ns=}" >>"$work/getpid"
done
awk '
	function median(arr, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
		return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
	}
	{ n++; p[n] = $1 / 1e6; o[n] = $2 / 1e6; r[n] = $2 / $1 }
	END { printf "getpid     pairs %d  plain median %.1f ms  recorded median %.1f ms  median ratio %.1f\n", n, median(p, n), median(o, n), median(r, n) }
' "$work/getpid"
