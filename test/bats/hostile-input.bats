#!/usr/bin/env bats
# Files no command may read: devices, a FIFO, a sparse 1 GiB file, a filter
# longer than the kernel takes, a directory where a file is expected. Every
# command that takes a file refuses each at once (well within `timeout 10`)
# with one line that names the file and the problem, and exit status 2
# (docs/limits.md).

load helpers

FIXTURES=$BATS_TEST_DIRNAME/../../pkg/bytecode/testdata/fixtures

setup() {
	filter=$FIXTURES/moby-default-v0.2.3.runc.bpf
	keys=$BATS_TEST_TMPDIR/keys
	"$SECCOMP_ATTEST" keygen --type ed25519 --out "$keys" >/dev/null
	fifo=$BATS_TEST_TMPDIR/fifo
	mkfifo "$fifo"
	sparse=$BATS_TEST_TMPDIR/sparse
	truncate -s 1G "$sparse"
	# 4097 times RET ALLOW (struct sock_filter: code 0x06, jt, jf, k):
	# doubled 12 times, and one more.
	long=$BATS_TEST_TMPDIR/4097.bpf
	printf '\x06\x00\x00\x00\x00\x00\xff\x7f' >"$long"
	for _ in $(seq 12); do cat "$long" "$long" >"$long.new" && mv "$long.new" "$long"; done
	printf '\x06\x00\x00\x00\x00\x00\xff\x7f' >>"$long"
	[ "$(stat -c %s "$long")" -eq $((4097 * 8)) ]
	directory=$BATS_TEST_TMPDIR/directory
	mkdir "$directory"
}

# refused PATTERN COMMAND...: COMMAND ends within 10 s with status 2 and one
# line of output containing PATTERN.
refused() {
	local pattern=$1
	shift
	run timeout 10 "$SECCOMP_ATTEST" "$@"
	if [ "$status" -ne 2 ] || [ "${#lines[@]}" -ne 1 ] || [[ "$output" != *"$pattern"* ]]; then
		echo "seccomp-attest $*: status $status, want 2 and one line containing: $pattern"
		echo "$output" | head -5
		return 1
	fi
}

# every_input_file PATH PATTERN: each command that reads a file, on PATH.
# PATTERN is the problem for a filter, a profile and the other kinds
# (policy, rules, key, attestation) of file.
every_input_file() {
	local path=$1 filter_problem=$2 profile_problem=$3 other_problem=$4
	refused "$filter_problem" decompile "$path"
	refused "$filter_problem" decompile "bpf:$path"
	refused "$filter_problem" disasm "$path"
	refused "$filter_problem" eval "$path" getpid
	refused "$filter_problem" diff "$filter" "$path"
	refused "$filter_problem" diff "bpf:$filter,$path" "$filter"
	refused "$filter_problem" score "$path"
	refused "$filter_problem" check "$path"
	refused "$filter_problem" check --intended "bpf:$path" "$filter"
	refused "$profile_problem" decompile "profile:$path"
	refused "$profile_problem" diff builtin:docker-default "profile:$path"
	refused "$profile_problem" score --baseline "profile:$path" "$filter"
	refused "$other_problem" check --policy "$path" "$filter"
	refused "$other_problem" score --rules "$path" "$filter"
	refused "$other_problem" explain --rules "$path" ptrace
	refused "$other_problem" asm --out /dev/null "$path"
	refused "$other_problem" verify --key "$path" "$filter"
	refused "$other_problem" verify --key "$keys/signing.pub" "$path"
	refused "$other_problem" report --key "$path" --html - "$filter"
}

@test "hostile input: /dev/zero" {
	every_input_file /dev/zero "/dev/zero: is a character device; a seccomp filter must be a regular file" \
		"/dev/zero: is a character device; a profile or config.json must be a regular file" \
		"/dev/zero: is a character device;"
}

@test "hostile input: /dev/urandom" {
	every_input_file /dev/urandom "/dev/urandom: is a character device; a seccomp filter must be a regular file" \
		"/dev/urandom: is a character device; a profile or config.json must be a regular file" \
		"/dev/urandom: is a character device;"
}

@test "hostile input: a FIFO without a writer" {
	every_input_file "$fifo" "$fifo: is a FIFO; a seccomp filter must be a regular file (or - for standard input)" \
		"$fifo: is a FIFO; a profile or config.json must be a regular file (or - for standard input)" \
		"$fifo: is a FIFO;"
}

@test "hostile input: a sparse 1 GiB file" {
	every_input_file "$sparse" "$sparse: too large for a seccomp filter: 1073741824 bytes exceeds the limit of 4096 instructions (32768 bytes)" \
		"$sparse: too large for a profile or config.json: 1073741824 bytes exceeds the limit of 4 MiB" \
		"$sparse: too large for"
}

@test "hostile input: a directory where a file is expected" {
	# profile:DIR is a bundle: its config.json is what is missing.
	every_input_file "$directory" "$directory: is a directory; a seccomp filter must be a regular file" \
		"bundle $directory: no config.json" \
		"$directory: is a directory;"
}

@test "hostile input: a filter of 4097 instructions is refused for its length" {
	local problem="$long: too large for a seccomp filter: 32776 bytes exceeds the limit of 4096 instructions (32768 bytes)"
	refused "$problem" decompile "$long"
	refused "$problem" decompile "bpf:$long"
	refused "$problem" disasm "$long"
	refused "$problem" eval "$long" getpid
	refused "$problem" diff "$filter" "$long"
	refused "$problem" score "$long"
	refused "$problem" check "$long"
	# Standard input is read through the same cap.
	run timeout 10 "$SECCOMP_ATTEST" disasm - <"$long"
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard input: too large for a seccomp filter: more than 32768 bytes exceeds the limit of 4096 instructions"* ]]
	run timeout 10 "$SECCOMP_ATTEST" decompile - <"$long"
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard input: too large for a seccomp filter"* ]]
}

@test "hostile input: standard input that never ends is read only up to the cap" {
	run timeout 10 "$SECCOMP_ATTEST" decompile - </dev/zero
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"standard input: too large for a seccomp filter"* ]]
	run timeout 10 "$SECCOMP_ATTEST" decompile profile:- </dev/urandom
	[ "$status" -eq 2 ]
	[[ "$output" == *"standard input: too large for a profile or config.json: more than 4194304 bytes"* ]]
	# One source of a command only.
	run timeout 10 "$SECCOMP_ATTEST" diff - bpf:- <"$filter"
	[ "$status" -eq 2 ]
	[[ "$output" == *"give - once"* ]]
	# A real filter on standard input decompiles.
	run timeout 10 "$SECCOMP_ATTEST" decompile - <"$filter"
	[ "$status" -eq 0 ]
}

@test "hostile input: errnoRet beyond MAX_ERRNO is named as such" {
	p=$BATS_TEST_TMPDIR/errno.json
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}]}' >"$p"
	refused "errnoRet 5000 is beyond the kernel's maximum errno 4095 (MAX_ERRNO)" decompile "profile:$p"
}

@test "hostile input: a profile of many rules is refused at the rule cap, quickly" {
	# 3000 single-name rules: libseccomp's time grows with the square of the
	# rules, so the cap (2048) bounds it.
	p=$BATS_TEST_TMPDIR/many.json
	{
		printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":['
		seq 3000 | sed 's/.*/{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":&,"op":"SCMP_CMP_EQ"}]}/' | paste -sd,
		printf ']}'
	} >"$p"
	refused "more than 2048 rules" decompile "profile:$p"
}
