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

now_ms() { echo $(($(date +%s%N) / 1000)); } # microseconds, despite the name
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

run_plain() { runc run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
run_wrapped() { "$WRAPPER" --seccomp-attest-config="$work/config.yaml" run --bundle "$work/bundle" "bench-$$-$1" </dev/null >/dev/null; }
docker_plain() { docker run --rm --network none --runtime=runc bb:latest true; }
docker_wrapped() { docker run --rm --network none --runtime=wrapper-runc-bench bb:latest true; }

# timed CMD ARG: prints the wall time of one run in ms.
timed() {
	local t0 t1
	t0=$(now_ms)
	"$@"
	t1=$(now_ms)
	ms "$t0" "$t1"
}

# pairs NAME PLAIN WRAPPED: PAIRS interleaved pairs, after two warm-ups
# each (the first wrapped run fills the verdict cache and makes the key).
pairs() {
	local name=$1 plain=$2 wrapped=$3 i a b
	for i in 1 2; do "$plain" w$i; "$wrapped" w$i; done
	: >"$work/$name"
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 0 ]; then
			a=$(timed "$plain" "$i"); b=$(timed "$wrapped" "$i")
		else
			b=$(timed "$wrapped" "$i"); a=$(timed "$plain" "$i")
		fi
		echo "$a $b" >>"$work/$name"
	done
	awk -v name="$name" '
		function median(arr, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
			return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
		}
		{ n++; p[n] = $1; w[n] = $2; r[n] = $2 / $1 }
		END { printf "%-10s pairs %d  plain median %.1f ms  wrapper median %.1f ms  median ratio %.3f\n", name, n, median(p, n), median(w, n), median(r, n) }
	' "$work/$name"
}

pairs "runc-run" run_plain run_wrapped
pairs "docker-run" docker_plain docker_wrapped
bash packaging/docker/register.sh --name wrapper-runc-bench --remove
