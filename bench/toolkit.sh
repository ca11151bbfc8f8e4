#!/usr/bin/env bash
# bench/toolkit.sh: the speed targets of issue 17, as whole processes.
#   eval of one input under 5 ms: the median wall time of
#     seccomp-attest eval FILTER socket AF_VSOCK 1 0 (Docker's default, 1015
#     instructions; the text output disassembles the path), beside
#     seccomp-attest --version (the process's start alone);
#   dump -- CMD adds under 50 ms to the program's start: paired,
#     interleaved runs of CMD alone and under dump (--limit above what CMD
#     installs, so it runs to its exit under the tracer), the median of the
#     per-pair differences.
# Usage: bench/toolkit.sh [RUNS]   (make build helpers first; root for dump)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-41}
SA=${SECCOMP_ATTEST:-bin/seccomp-attest}
HELPERS=${HELPERS:-bin/test}
FILTER=pkg/bytecode/testdata/fixtures/moby-default-v0.2.3.runc.bpf

# ms CMD...: wall time of one run in ms (bash's clock: no process to time it).
ms() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || true
	local t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# single NAME CMD...: the median of RUNS runs after 3 warm-ups.
single() {
	local name=$1 i
	shift
	for i in 1 2 3; do ms "$@" >/dev/null; done
	for i in $(seq "$RUNS"); do ms "$@"; done | median | awk -v n="$name" -v r="$RUNS" '{ printf "%-28s runs %d  median %.2f ms\n", n, r, $1 }'
}

# paired NAME CMD...: CMD alone against dump --limit 100 -- CMD, order alternating.
paired() {
	local name=$1 i a b
	shift
	local out
	out=$(mktemp)
	for i in 1 2 3; do ms "$@" >/dev/null; ms "$SA" dump --limit 100 -- "$@" >/dev/null; done
	for i in $(seq "$RUNS"); do
		if [ $((i % 2)) = 0 ]; then
			a=$(ms "$@"); b=$(ms "$SA" dump --limit 100 -- "$@")
		else
			b=$(ms "$SA" dump --limit 100 -- "$@"); a=$(ms "$@")
		fi
		echo "$a $b" >>"$out"
	done
	awk '{ print $1 }' "$out" | median >"$out.a"
	awk '{ print $2 }' "$out" | median >"$out.b"
	awk '{ print $2 - $1 }' "$out" | median >"$out.d"
	printf "%-28s pairs %d  alone median %.2f ms  under dump median %.2f ms  median added %.2f ms\n" \
		"$name" "$RUNS" "$(cat "$out.a")" "$(cat "$out.b")" "$(cat "$out.d")"
	rm -f "$out" "$out.a" "$out.b" "$out.d"
}

single "seccomp-attest --version" "$SA" --version
single "eval (text)" "$SA" eval "$FILTER" socket AF_VSOCK 1 0
single "eval --format json" "$SA" eval --format json "$FILTER" socket AF_VSOCK 1 0
paired "dump -- seccomp-threads" "$HELPERS/seccomp-threads"
paired "dump -- /bin/true (dynamic)" /bin/true
if command -v python3 >/dev/null; then
	paired "dump -- python3 -c pass" python3 -c pass
fi
