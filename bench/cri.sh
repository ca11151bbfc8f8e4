#!/usr/bin/env bash
# bench/cri.sh [PAIRS]: what seccomp-attest adds to a Kubernetes container
# start: `crictl create` + `crictl start` of a busybox container (sleep) in
# an existing pod, on private containerd 2.4 instances of the test stack
# (scripts/setup-k8s-stack.sh), with seccomp-attestd answering. Paired,
# interleaved runs (the order inside each pair alternates); prints the
# median of each side and the median of the per-pair ratios.
#
#   nri:          containerd with the NRI plugin connected (hooks at
#                 createRuntime, poststart, poststop) vs a containerd without
#   runtimeclass: the RuntimeClass handler (runc shim running wrapper-runc)
#                 vs the plain runc handler of the same containerd
#
# Both sides run the same runc (SECCOMP_ATTEST_CRI_RUNC, default the stack's
# v1.5.3). Needs root and `make build`. Targets: ratio <= 1.05.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH
PAIRS=${1:-30}
ROOT=$PWD
SECCOMP_ATTEST=$ROOT/bin/seccomp-attest
[ -x bin/seccomp-attest-nri ] && [ -x bin/wrapper-runc ] || { echo "bench: make build first" >&2; exit 2; }
. test/bats/cri-helpers.bash
cri_stack_ready || exit 2

work=$(mktemp -d /tmp/bench-cri.XXXXXX)
sock=$(mktemp -d /run/sa-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	cri_stop "$work/cd-plain" 2>/dev/null || true
	cri_stop "$work/cd-nri" 2>/dev/null || true
	rm -rf "$work" "$sock"
}
trap cleanup EXIT

"$SECCOMP_ATTEST" keygen --out "$work/keys" >/dev/null
cat >"$work/config.yaml" <<CFG
key: $work/keys/signing.key
store: $work/store
log: $work/checks.log
CFG
bin/seccomp-attestd serve --socket "$sock/hook.sock" 2>"$work/daemon.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock/hook.sock" ] && break; sleep 0.05; done

# containerd "plain": the runc handler and the RuntimeClass handler;
# containerd "nri": the NRI plugin connected and required.
mkdir -p "$work/cd-plain/conf.d"
bash packaging/containerd/register.sh --path "$ROOT/bin/wrapper-runc" --config "$work/config.yaml" \
	--runtime "$CRI_RUNC" --socket "$sock/hook.sock" --dropin-dir "$work/cd-plain/conf.d" \
	--containerd-config "$work/cd-plain/config.toml" --launcher-dir "$work/cd-plain/launchers" 2>/dev/null
cri_start "$work/cd-plain" 2>/dev/null
PLAIN_SOCK=$CRI_SOCK
cri_start "$work/cd-nri" seccomp-attest 2>/dev/null
NRI_SOCK=$CRI_SOCK
bin/seccomp-attest-nri --nri-socket "$CRI_NRI_SOCK" --hook "$ROOT/bin/seccomp-attest-hook" \
	--hook-config "$work/config.yaml" --hook-socket "$sock/hook.sock" 2>"$work/nri.log" &
pids+=($!)
for _ in $(seq 100); do grep -qs "Started plugin" "$work/nri.log" && break; sleep 0.05; done

# pod SOCK NAME [HANDLER]: a RuntimeDefault pod, its id printed.
pod() {
	pod_config "$work/$2.pod.json" "$2"
	CRI_SOCK=$1 crictl runp ${3:+--runtime "$3"} "$work/$2.pod.json" 2>/dev/null
}
container_config "$work/c.json" bench "$CRI_RUNTIME_DEFAULT" -- sleep 3600
# A pod per side: containerd's work per container grows with what a pod
# and the instance hold, so each side gets the same.
pod_nonri=$(pod "$PLAIN_SOCK" nonri)
pod_nri=$(pod "$NRI_SOCK" nri)
pod_plain=$(pod "$PLAIN_SOCK" plain)
pod_rc=$(pod "$PLAIN_SOCK" rc seccomp-attest)

# create_start_in SOCK POD NAME: crictl create and start of the busybox
# container. The containers keep running until the end (removing them
# inside a timed run would time the removal): both sides accumulate alike.
create_start_in() {
	local id
	sed "s/\"name\": \"bench\"/\"name\": \"$3\"/" "$work/c.json" >"$work/$3.json"
	id=$(CRI_SOCK=$1 crictl create "$2" "$work/$3.json" "$work/$(basename "$3" | cut -d- -f1).pod.json" 2>/dev/null)
	CRI_SOCK=$1 crictl start "$id" >/dev/null 2>&1
}

nri_without() { create_start_in "$PLAIN_SOCK" "$pod_nonri" "nonri-$1"; }
nri_with() { create_start_in "$NRI_SOCK" "$pod_nri" "nri-$1"; }
rc_plain() { create_start_in "$PLAIN_SOCK" "$pod_plain" "plain-$1"; }
rc_wrapped() { create_start_in "$PLAIN_SOCK" "$pod_rc" "rc-$1"; }

. bench/pairs.sh
WARMUPS=${WARMUPS:-4}
echo "runc: $("$CRI_RUNC" --version | head -1); containerd $("$STACK/bin/containerd" --version | awk '{print $3}')"
pairs nri nri_without nri_with "nri-hooks"
running=$( (CRI_SOCK=$PLAIN_SOCK crictl ps -q; CRI_SOCK=$NRI_SOCK crictl ps -q) 2>/dev/null | wc -l)
# Each comparison starts from empty instances.
for s in "$PLAIN_SOCK" "$NRI_SOCK"; do
	ids=$(CRI_SOCK=$s crictl ps -q 2>/dev/null)
	[ -z "$ids" ] || CRI_SOCK=$s crictl stop -t 0 $ids >/dev/null 2>&1 || true
	CRI_SOCK=$s crictl rm -a >/dev/null 2>&1 || true
done
pairs runtimeclass rc_plain rc_wrapped wrapper
# Every checked container was attested and passed (a refusal is faster).
running=$((running + $( (CRI_SOCK=$PLAIN_SOCK crictl ps -q; CRI_SOCK=$NRI_SOCK crictl ps -q) 2>/dev/null | wc -l)))
echo "containers running: $running (want $((4 * (PAIRS + WARMUPS)))); attestations: $(grep -c 'effective check: pass\|"verdict":"pass"' "$work/checks.log")"
