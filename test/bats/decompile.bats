#!/usr/bin/env bats
# decompile and diff on live containers: the decision table of what the kernel
# enforces, compared with filters captured from real systems.

load helpers

FIXTURES=$BATS_TEST_DIRNAME/../../pkg/bytecode/testdata/fixtures

start_moby_default() { # RUNTIME ARGS...: echoes the container's pid
	local rt=$1
	shift
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" "$@"
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name "$rt")
	run_bundle "$rt" "$b" "$id"
	pid=$(runtime_pid "$rt" "$id")
	wait_until has_filters "$pid"
}

@test "decompile: live runc container shows Docker's rules, including the AF_VSOCK compare" {
	start_moby_default runc sleep 1000
	run "$SECCOMP_ATTEST" decompile "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"arch x86_64 (AUDIT_ARCH 0xc000003e)"* ]]
	[[ "$output" == *"arch x32 (AUDIT_ARCH 0xc000003e)"* ]]
	[[ "$output" == *"arch x86 (AUDIT_ARCH 0x40000003)"* ]]
	# socket: the 64-bit compares on the family (named since the
	# argument names of issue 17) deny AF_ALG and AF_VSOCK.
	grep -E '^  socket\(family, type, protocol\) .*family\.lo .*AF_KCM.* -> ERRNO\(1\)' <<<"$output"
	# runc's ENOSYS stub for numbers above the profile's highest syscall.
	[[ "$output" == *"ERRNO(38)"* ]]

	run "$SECCOMP_ATTEST" decompile "pid:$pid" --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.arches[] | select(.name == "x86_64") | .syscalls[] | select(.name == "ptrace") | .rules[-1].action' <<<"$output")" = ALLOW ]
}

@test "diff: the live runc filter is equivalent to the one captured with the same profile" {
	start_moby_default runc sleep 1000
	run "$SECCOMP_ATTEST" diff "$FIXTURES/moby-default-v0.2.3.runc.bpf" "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"decide alike on every input"* ]]
}

@test "diff: runc and crun compile the same profile differently" {
	start_moby_default crun sleep 1000
	run "$SECCOMP_ATTEST" diff "$FIXTURES/moby-default-v0.2.3.runc.bpf" "pid:$pid" --format json
	[ "$status" -eq 1 ]
	# crun has no ENOSYS stub: numbers runc answers with ENOSYS get the
	# default errno instead (a change, not a weakening).
	[ "$(jq -r '.counts.weaker' <<<"$output")" = 0 ]
	[ "$(jq -r '[.findings[] | select(.kind == "changed" and .a == "ERRNO(38)" and .b == "ERRNO(1)")] | length' <<<"$output")" -gt 0 ]
	jq -e '[.findings[] | select(.confirmed | not)] | length == 0' <<<"$output"
}

@test "diff: a filter stacked by the container's program shows, and never weakens" {
	# The helper's filter denies only syscall number 0x3ff0 with errno 1,
	# where runc's ENOSYS stub said errno 38: stacked, the kernel takes the
	# newer filter's errno.
	start_moby_default runc /bin/seccomp-stack -n 1
	wait_until grep -q ready "$b/out"
	run "$SECCOMP_ATTEST" diff "$FIXTURES/moby-default-v0.2.3.runc.bpf" "pid:$pid" --format json
	[ "$status" -eq 1 ]
	[ "$(jq -r '.counts.weaker' <<<"$output")" = 0 ]
	jq -e '[.findings[] | select(.kind == "changed" and .arch == "x86_64" and .first <= 16368 and .last >= 16368
		and .a == "ERRNO(38)" and .b == "ERRNO(1)" and .confirmed)] | length == 1' <<<"$output"
}

@test "diff: an unconfined container is weaker than any profile" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	run "$SECCOMP_ATTEST" decompile "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no seccomp filter"* ]]
	run "$SECCOMP_ATTEST" diff "$FIXTURES/moby-default-v0.2.3.runc.bpf" "pid:$pid"
	[ "$status" -eq 1 ]
	[[ "$output" == *"weaker (B lets through what A denies)"* ]]
	[[ "$output" == *"KILL_THREAD -> ALLOW"* ]]
}

@test "diff: the intended profile (builtin, bundle) compiled like runc matches the live container" {
	start_moby_default runc sleep 1000
	run "$SECCOMP_ATTEST" diff builtin:docker-default "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"decide alike on every input"* ]]
	run "$SECCOMP_ATTEST" diff "bundle:$b" "pid:$pid"
	[ "$status" -eq 0 ]
	# Compiled like crun instead, the ENOSYS stub is missing: changed only.
	run "$SECCOMP_ATTEST" diff --runtime crun "bundle:$b" "pid:$pid" --format json
	[ "$status" -eq 1 ]
	[ "$(jq -r '.counts.weaker' <<<"$output")" = 0 ]
	[ "$(jq -r '.counts.changed' <<<"$output")" -gt 0 ]
}

@test "check: live containers against the embedded default policy and the strict preset" {
	start_moby_default runc sleep 1000
	# The bundle has Docker's default capabilities and Docker's profile.
	run "$SECCOMP_ATTEST" check "pid:$pid" --intended "bundle:$b"
	[ "$status" -eq 0 ]
	[[ "$output" == PASS* ]]
	# For a container with three capabilities (runc spec's) the baselines,
	# resolved for that set, deny chroot, which Docker's profile for its
	# default set allows.
	run "$SECCOMP_ATTEST" check "pid:$pid" --intended "bundle:$b" --capabilities CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE
	[ "$status" -eq 1 ]
	[[ "$output" == *"baselines: x86_64 chroot: effective ALLOW where every baseline denies"* ]]
	# Docker's default allows ptrace: the strict preset refuses it.
	run "$SECCOMP_ATTEST" check "pid:$pid" --policy preset:strict
	[ "$status" -eq 1 ]
	[[ "$output" == *ptrace* ]]

	u=$BATS_TEST_TMPDIR/unconfined
	make_bundle "$u" sleep 1000
	uid=$(container_name runc-unconfined)
	run_bundle runc "$u" "$uid"
	upid=$(runtime_pid runc "$uid")
	run "$SECCOMP_ATTEST" check "pid:$upid"
	[ "$status" -eq 1 ]
	[[ "$output" == FAIL* ]]
}
