# bench/pairs.sh, sourced by the bench scripts: paired, interleaved timing of
# a plain command against the same work through seccomp-attest. Needs $work
# (a scratch directory) and $PAIRS.

now_us() { echo $(($(date +%s%N) / 1000)); }

# timed CMD ARGS...: the wall time of one run, in ms.
timed() {
	local t0 t1
	t0=$(now_us)
	"$@"
	t1=$(now_us)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }'
}

# pairs NAME PLAIN OTHER LABEL: PAIRS pairs of runs of the functions PLAIN
# and OTHER (each given the run number), the order inside a pair
# alternating, after WARMUPS (default 2) warm-ups each (the first run
# through seccomp-attest makes the host key and fills the verdict cache, as
# the first container of a host does). Prints the median of each side and the
# median of the per-pair ratios OTHER/PLAIN.
pairs() {
	local name=$1 plain=$2 other=$3 label=$4 i a b
	for i in $(seq "${WARMUPS:-2}"); do "$plain" "w$i"; "$other" "w$i"; done
	: >"$work/$name"
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 0 ]; then
			a=$(timed "$plain" "$i"); b=$(timed "$other" "$i")
		else
			b=$(timed "$other" "$i"); a=$(timed "$plain" "$i")
		fi
		echo "$a $b" >>"$work/$name"
	done
	awk -v name="$name" -v label="$label" '
		function median(arr, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
			return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
		}
		{ n++; p[n] = $1; o[n] = $2; r[n] = $2 / $1 }
		END { printf "%-10s pairs %d  plain median %.1f ms  %s median %.1f ms  median ratio %.3f\n", name, n, median(p, n), label, median(o, n), median(r, n) }
	' "$work/$name"
}
