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

. bench/pairs.sh
run_plain() { runc run --bundle "$work/plain" "bench-$$-plain-$1" </dev/null >/dev/null; }
run_hooked() { runc run --bundle "$work/hooked" "bench-$$-hooked-$1" </dev/null >/dev/null; }
pairs "runc-run" run_plain run_hooked "with hook"

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
