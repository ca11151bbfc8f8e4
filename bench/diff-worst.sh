#!/usr/bin/env bash
# bench/diff-worst.sh [RUNS]: the worst cases found for one `seccomp-attest
# diff` (crafted and random pairs of filters, pkg/compare's
# BenchmarkDiffWorstCase), run through the CLI: median wall time, peak RSS
# and the answer (exit 0/1 an answer, 3 "too complex" or undecided).
# Target (issue 13): any two filters of at most 4096 instructions answer
# within 1 s and 256 MiB, or say "too complex".
#
# Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
CLI=$PWD/bin/seccomp-attest
[ -x "$CLI" ] || { echo "bench: make build first" >&2; exit 2; }
work=$(mktemp -d /tmp/bench-diff.XXXXXX)
trap 'rm -rf "$work"' EXIT
COMPARE_WORST_CASES_DIR=$work go test -count=1 -run '^TestWriteWorstCases$' ./pkg/compare >/dev/null
printf '%-16s %10s %12s %s\n' case median-ms peak-rss-MiB exit
for a in "$work"/*.a.bpf; do
	name=$(basename "$a" .a.bpf)
	b=$work/$name.b.bpf
	times=() rss=0 rc=0
	for _ in $(seq "$RUNS"); do
		rc=0
		/usr/bin/time -f '%e %M' -o "$work/time" "$CLI" diff "$a" "$b" >/dev/null 2>&1 || rc=$?
		read -r secs kb < <(tail -n 1 "$work/time")
		times+=("$secs")
		((kb > rss)) && rss=$kb
	done
	median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)] * 1000}')
	printf '%-16s %10s %12.1f %s\n' "$name" "$median" "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$rc"
done
