#!/usr/bin/env bats
# seccomp-attest dump on live containers of every runtime.

load helpers

@test "dump: runc container with Docker's default profile" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	# runc loads the filter before `runc run -d` returns.
	has_filters "$pid"
	check_dump "$pid"

	run "$SECCOMP_ATTEST" dump "$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mode filter, 1 filter(s) (Seccomp_filters 1)"* ]]
	[[ "$output" == *"filter 0: "*" instructions, sha256 "* ]]
	# The process runs on: the reader let it go.
	[ "$(status_field "$pid" TracerPid)" = 0 ]
	grep -q '^State:.*S (sleeping)' "/proc/$pid/status"
}

@test "dump: crun container with Docker's default profile" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name crun)
	run_bundle crun "$b" "$id"
	pid=$(runtime_pid crun "$id")
	# crun attaches the filter just before exec, after `run -d` may return.
	wait_until has_filters "$pid"
	check_dump "$pid"
}

@test "dump: --out writes the raw filters and sha256 matches" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	out=$BATS_TEST_TMPDIR/filters
	run "$SECCOMP_ATTEST" dump --format json --out "$out" "$pid"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.groups[0].filters[0].file' <<<"$output")" = 0.bpf ]
	[ "$(sha256sum <"$out/0.bpf" | cut -d' ' -f1)" = "$(jq -r '.groups[0].filters[0].sha256' <<<"$output")" ]
	[ $(($(stat -c %s "$out/0.bpf") / 8)) = "$(jq -r '.groups[0].filters[0].instructions' <<<"$output")" ]
	# The saved filter disassembles.
	run "$SECCOMP_ATTEST" disasm "$out/0.bpf"
	[ "$status" -eq 0 ]
}

@test "dump: podman containers (runc and crun) with podman's default profile" {
	for rt in runc crun; do
		name=$(container_name "podman-$rt")
		register_container podman "$name"
		podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			localhost/bb:latest sleep 1000 >/dev/null
		pid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.State.Pid}}' "$name")
		wait_until has_filters "$pid"
		check_dump "$pid"
	done
}

@test "dump: Docker container" {
	name=$(container_name docker)
	register_container docker "$name"
	"$DOCKER" run -d --name "$name" --network none bb:latest sleep 1000 >/dev/null
	pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")
	wait_until has_filters "$pid"
	check_dump "$pid"
}

@test "dump: a container program stacks a second filter, oldest first" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" /bin/seccomp-stack -n 1
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	# The helper prints "ready" once its filter is attached.
	wait_until grep -q ready "$b/out"
	check_dump "$pid"
	[ "$(jq -r '.groups[0].filters | length' <<<"$output")" = 2 ]
	# Index 0 is the runtime's (Docker's profile, hundreds of
	# instructions), index 1 the helper's 4-instruction filter.
	[ "$(jq -r '.groups[0].filters[0].instructions' <<<"$output")" -gt 100 ]
	[ "$(jq -r '.groups[0].filters[1].instructions' <<<"$output")" = 4 ]
	[ "$(jq -r '.groups[0].filters[1].index' <<<"$output")" = 1 ]
}

@test "dump: unconfined runc container has no filter" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	[ "$(jq -r '.linux.seccomp // "none"' "$b/config.json")" = none ]
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	run "$SECCOMP_ATTEST" dump "$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"no seccomp filter (mode disabled)"* ]]
	run "$SECCOMP_ATTEST" dump --format json "$pid"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.groups[0].mode' <<<"$output")" = disabled ]
	[ "$(jq -r '.groups[0].filters | length' <<<"$output")" = 0 ]
}

@test "dump: a pid that does not exist is an error (exit 2)" {
	max=$(cat /proc/sys/kernel/pid_max)
	run "$SECCOMP_ATTEST" dump $((max + 1))
	[ "$status" -eq 2 ]
	[[ "$output" == *"no such process"* ]]
}
