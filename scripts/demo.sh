#!/usr/bin/env bash
# demo.sh is the main job on a real container: it starts a runc busybox
# container under Docker's default seccomp profile (moby/profiles v0.2.3)
# with the OCI hook in its config.json and nothing configured (the embedded
# defaults: default policy, a host key generated on first use in
# /etc/seccomp-attest/keys, the store /var/lib/seccomp-attest). The hook
# checks the profile at createRuntime, attests the filter the kernel enforces
# at poststart and records the end at poststop. The demo then shows what the
# kernel enforces (dump, decompile, score), compares it with the filter
# captured from Docker's own default (diff), and verifies the attestations.
# `make demo` runs the setup and build first.
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
hook=$PWD/bin/seccomp-attest-hook
jq --slurpfile s "$work/profile.json" --arg h "$hook" \
	--argjson caps "$(bin/test/docker-profile --caps)" \
	'.process.args = ["sleep", "1000"] | .process.terminal = false | .linux.seccomp = $s[0]
	 | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
	 | .hooks = ({} | .createRuntime = [{path: $h, args: ["seccomp-attest-hook", "createRuntime"], timeout: 10}]
	              | .poststart = [{path: $h, args: ["seccomp-attest-hook", "poststart"], timeout: 10}]
	              | .poststop = [{path: $h, args: ["seccomp-attest-hook", "poststop"], timeout: 10}])' \
	"$work/config.json" >"$work/config.json.new"
mv "$work/config.json.new" "$work/config.json"

(cd "$work" && runc run -d "$id" </dev/null >/dev/null 2>&1)
pid=$(runc state "$id" | jq -r .pid)
echo "demo: runc container $id, pid $pid, Docker's default profile" >&2
run() { echo "+ $*" >&2; "$@"; }
run bin/seccomp-attest dump "$pid"
echo "+ seccomp-attest decompile pid:$pid | head -40" >&2
bin/seccomp-attest decompile "pid:$pid" | head -40
# What differs from the filter Docker 20.10's embedded default loads (exit 1:
# different, which is expected: moby/profiles v0.2.3 is newer).
echo "+ seccomp-attest diff pkg/bytecode/testdata/fixtures/docker-default.runc.bpf pid:$pid | head -30" >&2
bin/seccomp-attest diff pkg/bytecode/testdata/fixtures/docker-default.runc.bpf "pid:$pid" | head -30 || true

# The embedded default policy: not unconfined, not weaker than the intended
# profile (the bundle), not weaker than the engines' built-in defaults.
run bin/seccomp-attest check "pid:$pid" --intended "bundle:$work" --name "$id"

# The hook wrote the attestation next to the bundle and into the store, with
# the host key it generated on first use.
keydir=/etc/seccomp-attest/keys
echo "+ the attestation the hook wrote (predicate summary)" >&2
jq -r .payload "$work/seccomp-attestation.intoto.jsonl" | base64 -d |
	jq '.predicate | {event, container: .container.id, runtime: .container.runtime, intended: .intended.source,
		diff: .diff.groups[0].counts, policy: .policy.mode, verdict, score}'
run bin/seccomp-attest verify "$work/seccomp-attestation.intoto.jsonl" --key "$keydir/signing.pub"
run bin/seccomp-attest score "pid:$pid" | head -20 || true

# The end of the container goes into the host chain too (poststop).
run runc delete -f "$id"
run bin/seccomp-attest verify --store /var/lib/seccomp-attest --key "$keydir/signing.pub" | tail -3
