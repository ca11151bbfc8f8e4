#!/usr/bin/env bats
# score and its findings on live containers: the truncation bypass of
# Docker's current default profile, found by the score and then performed
# inside the container by a static test program.

load helpers

# finding_args JSON SELECTOR: the args of the x86_64 AF_VSOCK truncation
# finding's SELECTOR (input or denied), space-separated, for rawsyscall.
vsock_finding() {
	jq -c '[.findings[] | select(.kind == "truncated-compare" and .arch == "x86_64"
		and (.input.call | startswith("socket(AF_VSOCK|")))][0]' <<<"$1"
}

@test "score: Docker's default (moby v0.2.3) under docker run: socket(AF_VSOCK|1<<32) works, socket(AF_VSOCK) is denied" {
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	name=$(container_name docker)
	register_container docker "$name"
	"$DOCKER" run -d --name "$name" --network none \
		--security-opt "seccomp=$BATS_TEST_TMPDIR/profile.json" \
		-v "$HELPERS/rawsyscall:/rawsyscall:ro" bb:latest sleep 1000
	pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")
	wait_until has_filters "$pid"

	run "$SECCOMP_ATTEST" score --format json --baseline none "pid:$pid"
	[ "$status" -eq 0 ]
	f=$(vsock_finding "$output")
	[ "$f" != null ]
	echo "finding: $f"
	[ "$(jq -r .confirmed <<<"$f")" = true ]
	[ "$(jq -r .input.syscall <<<"$f")" = socket ]
	nr=$(jq -r .input.nr <<<"$f")
	[ "$nr" = 41 ]
	read -r -a bypass < <(jq -r '.input.args | join(" ")' <<<"$f")
	read -r -a plain < <(jq -r '.denied.args | join(" ")' <<<"$f")
	# The finding's input differs from the denied one only in the high
	# word of the family.
	[ "${bypass[0]}" = 0x100000028 ]
	[ "${plain[0]}" = 0x28 ]

	# The plain call is denied as the profile says (EPERM)...
	run "$DOCKER" exec "$name" /rawsyscall "$nr" "${plain[@]}"
	echo "plain: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == "ret=-1 errno=1 "* ]]
	# ...the finding's input returns a working AF_VSOCK socket.
	run "$DOCKER" exec "$name" /rawsyscall "$nr" "${bypass[@]}"
	echo "bypass: $output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ret=[0-9]+\ domain=40$ ]]

	# The grade is the failing one: ptrace and process_vm_* are allowed.
	run "$SECCOMP_ATTEST" score --format json --baseline none "pid:$pid"
	[ "$(jq -r .grade <<<"$output")" = F ]
	[ "$(jq -r '.forcing | index("ptrace") != null' <<<"$output")" = true ]
}

@test "score: the same bypass on a runc container with the profile in config.json" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	cp "$HELPERS/rawsyscall" "$b/rootfs/bin/"
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	wait_until has_filters "$pid"

	run "$SECCOMP_ATTEST" score --format json --baseline none "pid:$pid"
	[ "$status" -eq 0 ]
	f=$(vsock_finding "$output")
	[ "$(jq -r .confirmed <<<"$f")" = true ]
	read -r -a bypass < <(jq -r '.input.args | join(" ")' <<<"$f")
	read -r -a plain < <(jq -r '.denied.args | join(" ")' <<<"$f")
	run runc exec "$id" /bin/rawsyscall 41 "${plain[@]}"
	[ "$status" -eq 1 ]
	[[ "$output" == "ret=-1 errno=1 "* ]]
	run runc exec "$id" /bin/rawsyscall 41 "${bypass[@]}"
	[ "$status" -eq 0 ]
	[[ "$output" =~ domain=40 ]]

	# The bundle's score equals the live one (profile compiled like runc).
	run "$SECCOMP_ATTEST" score --format json --baseline none "pid:$pid"
	live=$(jq -c '{score, rawScore, grade}' <<<"$output")
	run "$SECCOMP_ATTEST" score --format json --baseline none "bundle:$b"
	[ "$status" -eq 0 ]
	[ "$(jq -c '{score, rawScore, grade}' <<<"$output")" = "$live" ]
}

@test "score: --min-score gates (0 at or above, 1 below, 2 on error); text output names the bypass" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name crun)
	run_bundle crun "$b" "$id"
	pid=$(runtime_pid crun "$id")
	wait_until has_filters "$pid"

	run "$SECCOMP_ATTEST" score "pid:$pid"
	[ "$status" -eq 0 ]
	[[ "$output" == *"grade F"* ]]
	[[ "$output" == *"truncated-compare x86_64: socket denies socket(AF_VSOCK, 0x1) but permits socket(AF_VSOCK|1<<32, 0x1)"* ]]
	[[ "$output" == *"legacy-multiplexer x86: socketcall"* ]]
	# The baseline is Docker's default resolved for the container's
	# bounding set (Docker's default set, as make_bundle gives it): the
	# same profile. Resolved for runc spec's three capabilities it denies
	# chroot and more, so the container's profile is weaker than that.
	[[ "$output" == *"delta +0.0 (same)"* ]]
	run "$SECCOMP_ATTEST" score --capabilities CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE "pid:$pid"
	[[ "$output" =~ baseline\ builtin:docker-default:\ .*delta\ -[0-9.]+\ \(weaker\) ]]

	score=$("$SECCOMP_ATTEST" score --format json "pid:$pid" | jq .score)
	run "$SECCOMP_ATTEST" score --min-score "$score" "pid:$pid"
	[ "$status" -eq 0 ]
	run "$SECCOMP_ATTEST" score --min-score "$(jq -n "$score + 0.1")" "pid:$pid"
	[ "$status" -eq 1 ]
	[[ "$output" == *"below --min-score"* ]]
	run "$SECCOMP_ATTEST" score --min-score 10 pid:999999999
	[ "$status" -eq 2 ]
}

@test "score: an unconfined container scores 0; podman's default scores below Docker's" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	wait_until test -d "/proc/$pid"
	run "$SECCOMP_ATTEST" score --format json "pid:$pid"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.score, .grade, .unconfined, .findings[0].kind' <<<"$output" | tr '\n' ' ')" = "0 F true unconfined " ]
	[ "$(jq -r '.baseline.delta < 0' <<<"$output")" = true ]

	name=$(container_name podman)
	register_container podman "$name"
	podman "${PODMAN_FLAGS[@]}" run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" --runtime crun localhost/bb:latest sleep 1000
	ppid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.State.Pid}}' "$name")
	wait_until has_filters "$ppid"
	run "$SECCOMP_ATTEST" score --format json "pid:$ppid"
	[ "$status" -eq 0 ]
	# podman allows mount, unshare and clone3: namespace creation counts.
	[ "$(jq -r '.syscalls[] | select(.name == "clone") | .uses[0].permitted' <<<"$output")" = true ]
	[ "$(jq -r '.baseline.delta < 0' <<<"$output")" = true ]
}

@test "explain: ptrace and socket from the knowledge base; unknown names are errors" {
	run "$SECCOMP_ATTEST" explain ptrace
	[ "$status" -eq 0 ]
	[[ "$output" == "ptrace  (tier 1: critical"* ]]
	[[ "$output" == *"CVE-2019-13272"* ]]
	[[ "$output" == *"x86_64 101"* ]]
	run "$SECCOMP_ATTEST" explain socket
	[[ "$output" == *"32-bit args: args[0], args[1], args[2]"* ]]
	[[ "$output" == *"use:         AF_VSOCK"* ]]
	run "$SECCOMP_ATTEST" explain no_such_call
	[ "$status" -eq 2 ]
}

@test "score: a live container whose profile allows bpf only with CAP_BPF, with and without it" {
	for caps in docker-default docker-default,BPF; do
		b=$BATS_TEST_TMPDIR/bundle-${caps//,/-}
		make_bundle "$b" sleep 1000
		"$SECCOMP_ATTEST" decompile --capabilities "$caps" --format oci builtin:docker-default >"$b/profile.json" 2>/dev/null
		set_seccomp "$b" "$b/profile.json"
		if [[ $caps == *BPF ]]; then
			jq '.process.capabilities.bounding += ["CAP_BPF"]' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
		fi
		id=$(container_name "runc-${caps//,/-}")
		run_bundle runc "$b" "$id"
		pid=$(runtime_pid runc "$id")
		wait_until has_filters "$pid"
		run "$SECCOMP_ATTEST" score --format json "pid:$pid"
		[ "$status" -eq 0 ]
		forcing=$(jq -r '.forcing | index("bpf") != null' <<<"$output")
		if [[ $caps == *BPF ]]; then
			[ "$forcing" = true ]
			with=$(jq .rawScore <<<"$output")
			base_with=$(jq .baseline.rawScore <<<"$output")
		else
			[ "$forcing" = false ]
			without=$(jq .rawScore <<<"$output")
			base_without=$(jq .baseline.rawScore <<<"$output")
		fi
	done
	[ "$(jq -n "$with < $without")" = true ]
	# The baseline is resolved for each process's bounding set: with
	# CAP_BPF, Docker's default allows bpf too and scores lower.
	[ "$(jq -n "$base_with < $base_without")" = true ]
}
