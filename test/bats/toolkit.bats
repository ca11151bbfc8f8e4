#!/usr/bin/env bats
# The seccomp-tools / seccompute toolkit: eval against the kernel, dump -- CMD,
# asm/disasm round trips, argument and constant names, colour, standard input,
# score --grade.

load helpers

FIXTURES=$BATS_TEST_DIRNAME/../../pkg/bytecode/testdata/fixtures
SOURCE_C=$BATS_TEST_DIRNAME/../helpers/seccomp-threads.c

fixtures() {
	ls "$FIXTURES"/*.bpf "$FIXTURES"/../*.bpf
}

# agrees_with_kernel FILE N: eval reaches the RET the kernel reaches, with
# its value, on up to N sampled inputs of FILE; adds the calls to $checked.
agrees_with_kernel() {
	local f=$1 got
	# Each line: nr args[0..5] ip, the RET index the kernel reached, its value.
	"$HELPERS/kernel-oracle" -n "$2" "$f" >"$BATS_TEST_TMPDIR/kernel"
	[ -s "$BATS_TEST_TMPDIR/kernel" ]
	while read -r nr a0 a1 a2 a3 a4 a5 ip idx val; do
		got=$("$SECCOMP_ATTEST" eval --format json --arch x86_64 --ip "$ip" "$f" "$nr" "$a0" "$a1" "$a2" "$a3" "$a4" "$a5" |
			jq -r '"\(.filters[0].path[-1]) \(.filters[0].value) \(.decided_by)"')
		if [ "$got" != "$idx $val 0" ]; then
			echo "$(basename "$f"): nr=$nr args=$a0,$a1,$a2,$a3,$a4,$a5 ip=$ip: kernel RET $idx ($val), eval: $got"
			return 1
		fi
		checked=$((checked + 1))
	done <"$BATS_TEST_TMPDIR/kernel"
}

@test "eval agrees with the kernel on sampled inputs of every fixture" {
	local f
	checked=0
	for f in $(fixtures); do
		agrees_with_kernel "$f" 15
	done
	echo "$checked calls checked"
	[ "$checked" -ge 150 ]
}

@test "eval: names, constants, the AF_VSOCK bypass, stacks and errors" {
	f=$FIXTURES/moby-default-v0.2.3.runc.bpf
	run "$SECCOMP_ATTEST" eval "$f" socket AF_VSOCK 1 0
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == "action: ERRNO(1)" ]]
	[[ "$output" == *"if (A == AF_NFC)"* ]]
	# The 32-bit family with a high bit set: the kernel truncates it, the
	# filter lets it through (DESIGN.md).
	run "$SECCOMP_ATTEST" eval "$f" socket $((40 | 1 << 32)) 1 0
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "action: ALLOW" ]
	run "$SECCOMP_ATTEST" eval "$f" clone CLONE_NEWUSER
	[ "${lines[-1]}" = "action: ERRNO(1)" ]
	run "$SECCOMP_ATTEST" eval --arch x86 "$f" clone 0x11
	[ "${lines[-1]}" = "action: ALLOW" ]
	[[ "${lines[0]}" == "call: x86 clone (nr 120)"* ]]

	# A stack: filter 1 of stacked.* decides what filter 0 allows.
	run "$SECCOMP_ATTEST" eval --format json "bpf:$FIXTURES/stacked.0.bpf,$FIXTURES/stacked.1.bpf" getppid
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.filters | length == 2'
	echo "$output" | jq -e '.decided_by >= 0 and .decided_by < 2'

	run "$SECCOMP_ATTEST" eval "$f" no_such_call
	[ "$status" -eq 2 ]
	[[ "$output" == *'syscall "no_such_call": not a name of the x86_64 table nor a number'* ]]
	run "$SECCOMP_ATTEST" eval "$f" socket AF_BOGUS
	[ "$status" -eq 2 ]
	[[ "$output" == *'"AF_BOGUS" is neither a number nor a socket family name'* ]]
	run "$SECCOMP_ATTEST" eval "$f" read 1 2 3 4 5 6 7
	[ "$status" -ne 0 ]
}

@test "dump -- CMD stops a static program at its first filter install" {
	marker=$BATS_TEST_TMPDIR/marker
	run "$SECCOMP_ATTEST" dump --out "$BATS_TEST_TMPDIR/out" -- "$HELPERS/seccomp-threads" "$marker"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped at 1 filter install (thread "* ]]
	[[ "$output" == *"mode filter, 1 filter(s) (Seccomp_filters 1)"* ]]
	# Stopped in the install: it never ran the line after it, and it is gone.
	[ ! -e "$marker" ]
	pid=$(echo "$output" | sed -n 's/^process \([0-9]*\):.*/\1/p')
	[ -n "$pid" ] && [ ! -e "/proc/$pid" ]
	run "$SECCOMP_ATTEST" disasm "$BATS_TEST_TMPDIR/out/0.bpf"
	[[ "$output" == *"if (A != getppid) goto 0003"* ]]
	[[ "$output" == *"return ERRNO(1)"* ]]
}

@test "dump -- CMD: two filters from two threads, static and dynamic" {
	gcc -pthread -O2 -o "$BATS_TEST_TMPDIR/dynamic" "$SOURCE_C"
	for prog in "$HELPERS/seccomp-threads" "$BATS_TEST_TMPDIR/dynamic"; do
		marker=$BATS_TEST_TMPDIR/marker.$(basename "$prog")
		run "$SECCOMP_ATTEST" dump --limit 2 --format json -- "$prog" "$marker"
		[ "$status" -eq 0 ]
		echo "$output" | jq -e '.installs == 2 and .exited == false'
		echo "$output" | jq -e '.processes | length == 1'
		# The main thread has filter A; the second thread A and then B.
		echo "$output" | jq -e '[.processes[0].groups[].filters | length] | sort == [1, 2]'
		a=$(echo "$output" | jq -r '.processes[0].groups[] | select(.filters | length == 1) | .filters[0].sha256')
		echo "$output" | jq -e --arg a "$a" '.processes[0].groups[] | select(.filters | length == 2) | .filters[0].sha256 == $a and .filters[1].sha256 != $a'
		echo "$output" | jq -e '.stopped_by as $t | .processes[0].groups[] | select(.filters | length == 2) | .tids == [$t]'
		# It ran past the first install, not past the second.
		[ "$(cat "$marker")" = "after-first" ]
	done
	# The second thread's own filter, from the file dump wrote.
	run "$SECCOMP_ATTEST" dump --limit 2 --out "$BATS_TEST_TMPDIR/two" -- "$HELPERS/seccomp-threads"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 thread(s), 2 different filter sets"* ]]
	f=$(ls "$BATS_TEST_TMPDIR"/two/*-1.bpf)
	run "$SECCOMP_ATTEST" disasm "$f"
	[[ "$output" == *"return ERRNO(2)"* ]]
}

@test "dump -- CMD: a program that exits, kills itself, forks, or outlives the timeout" {
	run "$SECCOMP_ATTEST" dump -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$output" == *"exited after 0 filter installs (limit 1)"* ]]
	[[ "$output" == *"no seccomp filter (mode disabled)"* ]]
	# More installs asked for than it makes: the filters as it exited.
	run "$SECCOMP_ATTEST" dump --limit 5 -- "$HELPERS/seccomp-threads"
	[ "$status" -eq 0 ]
	# (the program's own output, on stderr, may come first)
	[[ "$output" == *"exited after 2 filter installs (limit 5)"* ]]
	run "$SECCOMP_ATTEST" dump -- sh -c 'kill -9 $$'
	[ "$status" -eq 0 ]
	[[ "$output" == *"exited after 0 filter installs"* ]]
	# A child process installs the filter: it is followed and stopped.
	run "$SECCOMP_ATTEST" dump -- sh -c "\"$HELPERS/seccomp-threads\"; echo parent-went-on"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped at 1 filter install"* ]]
	[ "$(printf '%s\n' "${lines[@]}" | grep -cx parent-went-on)" -eq 0 ]
	[[ "$output" == *"mode filter, 1 filter(s)"* ]]
	# A program that never installs nor exits is killed at --timeout.
	start=$(date +%s)
	run "$SECCOMP_ATTEST" dump --timeout 1s -- sleep "100$$"
	[ "$status" -eq 2 ]
	[[ "$output" == *"stopped before its filter installs"* ]]
	[ $(($(date +%s) - start)) -lt 10 ]
	[ -z "$(pgrep -fx "sleep 100$$")" ]
	run "$SECCOMP_ATTEST" dump --limit 0 -- /bin/true
	[ "$status" -eq 2 ]
	run "$SECCOMP_ATTEST" dump 1 -- /bin/true
	[ "$status" -eq 2 ]
}

@test "asm: disasm and disasm --format asm assemble back byte for byte on every fixture" {
	local f
	for f in $(fixtures); do
		"$SECCOMP_ATTEST" disasm "$f" | "$SECCOMP_ATTEST" asm - >"$BATS_TEST_TMPDIR/listing.bpf"
		cmp "$f" "$BATS_TEST_TMPDIR/listing.bpf"
		"$SECCOMP_ATTEST" disasm --format asm "$f" >"$BATS_TEST_TMPDIR/f.asm"
		# The asm form carries its arch: another --arch does not change it.
		"$SECCOMP_ATTEST" asm --arch aarch64 --out "$BATS_TEST_TMPDIR/form.bpf" "$BATS_TEST_TMPDIR/f.asm"
		cmp "$f" "$BATS_TEST_TMPDIR/form.bpf"
	done
}

@test "asm: labels and names, errors that name the line, the kernel's rules" {
	cat >"$BATS_TEST_TMPDIR/deny-vsock.asm" <<'EOF'
.arch x86_64
	A = arch
	if (A != ARCH_X86_64) goto kill
	A = sys_number
	if (A != socket) goto allow
	A = family
	if (A == AF_VSOCK) goto deny   # socket(AF_VSOCK)
allow:
	return ALLOW
deny:
	return ERRNO(1)
kill:
	return KILL_PROCESS
EOF
	"$SECCOMP_ATTEST" asm --out "$BATS_TEST_TMPDIR/deny-vsock.bpf" "$BATS_TEST_TMPDIR/deny-vsock.asm"
	run "$SECCOMP_ATTEST" eval "$BATS_TEST_TMPDIR/deny-vsock.bpf" socket AF_VSOCK
	[ "${lines[-1]}" = "action: ERRNO(1)" ]
	run "$SECCOMP_ATTEST" eval "$BATS_TEST_TMPDIR/deny-vsock.bpf" socket AF_INET
	[ "${lines[-1]}" = "action: ALLOW" ]
	# The kernel loads what asm wrote and decides as eval says.
	checked=0
	agrees_with_kernel "$BATS_TEST_TMPDIR/deny-vsock.bpf" 40
	[ "$checked" -ge 10 ]
	grep -q ' 0x28 .* 0x00050001$' "$BATS_TEST_TMPDIR/kernel"

	printf 'A = sys_number\nif (A == socket) goto 3\nreturn ALLOW\n' >"$BATS_TEST_TMPDIR/bad.asm"
	run "$SECCOMP_ATTEST" asm --out /dev/null "$BATS_TEST_TMPDIR/bad.asm"
	[ "$status" -eq 2 ]
	[[ "$output" == *"line 2: jump to 3 is past the last instruction (2)"* ]]
	printf 'A = sys_number\nreturn ALLOW\nA = arch\n' >"$BATS_TEST_TMPDIR/bad.asm"
	run "$SECCOMP_ATTEST" asm --out /dev/null "$BATS_TEST_TMPDIR/bad.asm"
	[ "$status" -eq 2 ]
	[[ "$output" == *"line 3: invalid filter: instruction 2"* ]]
	run bash -c "printf 'A = family\nreturn ALLOW\n' | '$SECCOMP_ATTEST' asm --out /dev/null -"
	[ "$status" -eq 2 ]
	[[ "$output" == *'line 1: "family" is not a seccomp_data field'* ]]
}

@test "disasm and decompile name the arguments of socket, clone and personality" {
	run "$SECCOMP_ATTEST" disasm "$FIXTURES/moby-default-v0.2.3.runc.bpf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"A = family  # socket(family, type, protocol)"* ]]
	[[ "$output" == *"if (A == AF_NFC) goto"* ]]
	[[ "$output" == *"if (A > AF_VSOCK) goto"* ]]
	run "$SECCOMP_ATTEST" disasm "$FIXTURES/docker-default.runc.bpf"
	[[ "$output" == *"A = clone_flags  # clone(clone_flags, newsp, parent_tidptr, "* ]]
	[[ "$output" == *"A &= CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"* ]]
	[[ "$output" == *"A = personality  # personality(personality)"* ]]
	[[ "$output" == *"if (A == PER_LINUX32|UNAME26) goto"* ]]
	[[ "$output" == *"if (A == PER_LINUX) goto"* ]]
	run "$SECCOMP_ATTEST" decompile "$FIXTURES/moby-default-v0.2.3.runc.bpf"
	[ "$status" -eq 0 ]
	[[ "$output" == *"socket(family, type, protocol) family.lo > AF_CAIF && family.lo < AF_KCM && family.lo != AF_NFC"* ]]
	[[ "$output" == *"(clone_flags.lo & (CLONE_NEWNS|"* ]]
	[[ "$output" == *"personality.lo != PER_LINUX32 &&"* ]]
}

@test "colour on request only; every SOURCE from standard input; score --grade" {
	f=$FIXTURES/moby-default-v0.2.3.runc.bpf
	run "$SECCOMP_ATTEST" disasm "$f"
	[[ "$output" != *$'\e['* ]]
	run "$SECCOMP_ATTEST" disasm --color=always "$f"
	[[ "$output" == *$'\e[32mALLOW\e[0m'* ]]
	[[ "$output" == *$'\e[31mERRNO(1)\e[0m'* ]]
	run "$SECCOMP_ATTEST" decompile --color=always "$f"
	[[ "$output" == *$'\e[31mERRNO(1)\e[0m'* ]]
	run "$SECCOMP_ATTEST" decompile --color=sometimes "$f"
	[ "$status" -eq 2 ]
	[[ "$output" == *'--color "sometimes": want auto, always or never'* ]]

	run bash -c "'$SECCOMP_ATTEST' decompile - < '$f'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"socket(family, type, protocol)"* ]]
	run bash -c "'$SECCOMP_ATTEST' eval - getpid < '$f'"
	[ "${lines[-1]}" = "action: ALLOW" ]
	run bash -c "'$SECCOMP_ATTEST' diff - '$f' < '$f'"
	[ "$status" -eq 0 ]
	run bash -c "'$SECCOMP_ATTEST' score --grade - < '$f'"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[A-F]$ ]]
	want=$("$SECCOMP_ATTEST" score --format json "$f" | jq -r .grade)
	[ "$output" = "$want" ]
	run "$SECCOMP_ATTEST" score --grade --format json "$f"
	[ "$status" -eq 2 ]
}
