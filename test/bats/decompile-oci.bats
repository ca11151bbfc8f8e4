#!/usr/bin/env bats
# decompile --format oci on live containers: the profile written from the
# filter a runtime loaded, loaded again by runc, is never weaker than that
# filter, and the same where decompile said so.

load helpers

# start RUNTIME DIR PROFILE: run `sleep 1000` in a bundle at DIR under
# PROFILE with RUNTIME; sets pid.
start() {
	local rt=$1 dir=$2
	make_bundle "$dir" sleep 1000
	set_seccomp "$dir" "$3"
	id=$(container_name "$rt-$(basename "$dir")")
	run_bundle "$rt" "$dir" "$id"
	pid=$(runtime_pid "$rt" "$id")
	wait_until has_filters "$pid"
}

@test "decompile --format oci: Docker's default as runc loaded it, loaded again by runc, decides alike" {
	docker_profile "$BATS_TEST_TMPDIR/docker.json"
	start runc "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/docker.json"
	first=$pid
	"$SECCOMP_ATTEST" decompile --format oci "pid:$first" >"$BATS_TEST_TMPDIR/decompiled.json" 2>"$BATS_TEST_TMPDIR/stderr"
	grep -q "decides exactly like the filter" "$BATS_TEST_TMPDIR/stderr"
	[ "$(jq -r .defaultAction "$BATS_TEST_TMPDIR/decompiled.json")" = SCMP_ACT_ERRNO ]
	start runc "$BATS_TEST_TMPDIR/second" "$BATS_TEST_TMPDIR/decompiled.json"
	run "$SECCOMP_ATTEST" diff "pid:$first" "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"decide alike on every input"* ]]
}

@test "decompile --format oci: crun's filter loaded again by runc is never weaker, and differs only where stderr says" {
	docker_profile "$BATS_TEST_TMPDIR/docker.json"
	start crun "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/docker.json"
	first=$pid
	"$SECCOMP_ATTEST" decompile --format oci "pid:$first" >"$BATS_TEST_TMPDIR/decompiled.json" 2>"$BATS_TEST_TMPDIR/stderr"
	grep -q "the profile is never weaker than the filter" "$BATS_TEST_TMPDIR/stderr"
	start runc "$BATS_TEST_TMPDIR/second" "$BATS_TEST_TMPDIR/decompiled.json"
	run "$SECCOMP_ATTEST" diff --format json "pid:$first" "pid:$pid"
	[ "$(jq -r '.counts.weaker' <<<"$output")" = 0 ]
	[ "$(jq -r '.counts.undecided' <<<"$output")" = 0 ]
	# runc's ENOSYS stub, which crun does not add: unnamed numbers above
	# the profile's highest syscall get ENOSYS instead of crun's EPERM.
	[ "$(jq -r '[.findings[] | select(.kind != "changed" or .b != "ERRNO(38)")] | length' <<<"$output")" = 0 ]
	grep -q "approximated: x86_64 numbers" "$BATS_TEST_TMPDIR/stderr"
}
