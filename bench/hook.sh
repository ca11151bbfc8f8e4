#!/usr/bin/env bash
# bench/hook.sh [PAIRS]: what the poststart hook adds to a container start.
# `runc run` of busybox true under Docker's default profile and capabilities, with the hook in
# config.json (poststart) and without it; paired, interleaved runs in one
# session (the order inside each pair alternates). Prints the median of each
# side, the median of the per-pair ratios hook/plain, and the hook's peak RSS.
#
# Needs root, `make build helpers`, scripts/setup-host.sh. Targets: ratio <=
# 1.05, peak RSS <= 30 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-30}
HOOK=$PWD/bin/seccomp-attest-hook
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
[ -x "$HOOK" ] && [ -x bin/test/docker-profile ] || { echo "bench: make build helpers first" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-hook.XXXXXX)
trap 'rm -rf "$work"' EXIT
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
bundle "$work/hooked" "$(jq -n --arg h "$HOOK" --arg c "$work/config.yaml" \
	'{poststart: [{path: $h, args: ["seccomp-attest-hook", "--config", $c, "poststart"], timeout: 10}]}')"

now_us() { echo $(($(date +%s%N) / 1000)); }
run_in() { runc run --bundle "$work/$1" "bench-$$-$1-$2" </dev/null >/dev/null; }
timed() { # DIR N: wall time of one run in ms
	local t0 t1
	t0=$(now_us)
	run_in "$@"
	t1=$(now_us)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }'
}

# Two warm-ups each: the first hooked run generates the key and fills the
# verdict cache, as the first container of a host does.
for i in 1 2; do run_in plain "w$i"; run_in hooked "w$i"; done
: >"$work/times"
for i in $(seq "$PAIRS"); do
	if [ $((i % 2)) = 0 ]; then
		a=$(timed plain "$i"); b=$(timed hooked "$i")
	else
		b=$(timed hooked "$i"); a=$(timed plain "$i")
	fi
	echo "$a $b" >>"$work/times"
done
awk '
	function median(arr, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
		return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
	}
	{ n++; p[n] = $1; h[n] = $2; r[n] = $2 / $1 }
	END { printf "runc-run   pairs %d  plain median %.1f ms  with hook median %.1f ms  median ratio %.3f\n", n, median(p, n), median(h, n), median(r, n) }
' "$work/times"

# Peak RSS of the hook, cold (empty verdict cache: the analysis runs) and warm.
state() { jq -n --arg b "$work/hooked" --argjson pid "$1" '{ociVersion: "1.0.2", id: "rss", status: "running", pid: $pid, bundle: $b}'; }
(cd "$work/hooked" && jq '.process.args = ["/bin/sleep", "30"] | del(.hooks)' config.json >c.json && mv c.json config.json)
runc run -d --bundle "$work/hooked" "bench-$$-rss" </dev/null >/dev/null
pid=$(runc state "bench-$$-rss" | jq .pid)
rm -rf "$work/store/cache"
cold=$(state "$pid" | /usr/bin/time -f %M "$HOOK" --config "$work/config.yaml" poststart 2>&1 >/dev/null | tail -1)
warm=$(state "$pid" | /usr/bin/time -f %M "$HOOK" --config "$work/config.yaml" poststart 2>&1 >/dev/null | tail -1)
runc delete -f "bench-$$-rss"
echo "hook peak RSS: cold cache ${cold} KiB, warm cache ${warm} KiB"
