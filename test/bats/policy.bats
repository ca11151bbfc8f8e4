#!/usr/bin/env bats
# Intended profiles of the engines installed here (dockerd 20.10, podman
# 4.3.1) against what those engines really write and load, and the embedded
# default policy on their live containers.

load helpers

# docker_run NAME ARGS...: a detached busybox container; sets cid, pid and
# bundle (its config.json directory, written by dockerd).
docker_run() {
	local name
	name=$(container_name "$1")
	shift
	cid=$("$DOCKER" run -d --network none --name "$name" "$@" bb:latest sleep 1000)
	register_container docker "$cid"
	pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$cid")
	bundle=/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/$cid
	[ -f "$bundle/config.json" ]
	wait_until has_filters "$pid"
}

# podman_run RUNTIME: a detached busybox container under podman's default
# profile; sets cid, pid and bundle.
podman_run() {
	local rt=$1 name
	name=$(container_name "podman-$rt")
	cid=$(podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run -d "${PODMAN_RUN_FLAGS[@]}" --name "$name" localhost/bb:latest sleep 1000)
	register_container podman "$cid"
	pid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.State.Pid}}' "$cid")
	bundle=/var/lib/containers/storage/overlay-containers/$cid/userdata
	[ -f "$bundle/config.json" ]
	wait_until has_filters "$pid"
}

bounding_caps() { # BUNDLE: the bounding set of its config.json, comma-separated
	jq -r '.process.capabilities.bounding | join(",")' "$1/config.json"
}

@test "builtin:docker-20.10 resolved with and without CAP_SYS_ADMIN is the profile dockerd writes into config.json" {
	docker_run plain
	plain=$bundle
	[[ "$(bounding_caps "$plain")" != *CAP_SYS_ADMIN* ]]
	run "$SECCOMP_ATTEST" diff builtin:docker-20.10 "bundle:$plain"
	[ "$status" -eq 0 ]
	[[ "$output" == *"decide alike on every input"* ]]

	docker_run admin --cap-add SYS_ADMIN
	admin=$bundle
	[[ "$(bounding_caps "$admin")" == *CAP_SYS_ADMIN* ]]
	# Resolved for the container's own bounding set, and for the shorthand.
	run "$SECCOMP_ATTEST" diff --capabilities "$(bounding_caps "$admin")" builtin:docker-20.10 "bundle:$admin"
	[ "$status" -eq 0 ]
	run "$SECCOMP_ATTEST" diff --capabilities docker-default,SYS_ADMIN builtin:docker-20.10 "bundle:$admin"
	[ "$status" -eq 0 ]

	# The two variants differ: CAP_SYS_ADMIN only allows more (mount, bpf,
	# setns, unshare, ...), each with a confirmed input.
	run "$SECCOMP_ATTEST" diff --format json "bundle:$plain" "bundle:$admin"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.counts.stricter + .counts.changed + .counts.undecided' <<<"$output")" = 0 ]
	jq -e '[.findings[] | select(.kind == "weaker" and .arch == "x86_64" and .confirmed) | .syscall]
		| index("mount") and index("bpf") and index("setns")' <<<"$output"
	# And the builtin for default capabilities is not the SYS_ADMIN profile.
	run "$SECCOMP_ATTEST" diff builtin:docker-20.10 "bundle:$admin"
	[ "$status" -eq 1 ]
	# The live filter is the compiled bundle (runc, Docker's default runtime).
	run "$SECCOMP_ATTEST" diff "bundle:$admin" "pid:$pid"
	[ "$status" -eq 0 ]
}

@test "check: the default policy passes live Docker 20.10 containers under Docker's default profile" {
	docker_run plain
	run "$SECCOMP_ATTEST" check "pid:$pid" --intended "bundle:$bundle"
	[ "$status" -eq 0 ]
	[ "$output" = PASS ]
	# With CAP_SYS_ADMIN the baselines are resolved for the bundle's set.
	docker_run admin --cap-add SYS_ADMIN
	run "$SECCOMP_ATTEST" check "pid:$pid" --intended "bundle:$bundle" --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.result' <<<"$output")" = pass ]
	[ "$(jq -r '.reasons | length' <<<"$output")" = 0 ]
	# Without knowing them (pid only), the SYS_ADMIN filter is weaker than
	# every default resolved for default capabilities.
	run "$SECCOMP_ATTEST" check "pid:$pid"
	[ "$status" -eq 1 ]
	[[ "$output" == *"baselines: x86_64 bpf: effective ALLOW where every baseline denies"* ]]
}

@test "check: a Docker container with seccomp=unconfined fails the default policy" {
	# No filter to wait for: docker_run's has_filters would never hold.
	name=$(container_name unconfined)
	cid=$("$DOCKER" run -d --network none --name "$name" --security-opt seccomp=unconfined bb:latest sleep 1000)
	register_container docker "$cid"
	pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$cid")
	[ "$(status_field "$pid" Seccomp)" = 0 ]
	run "$SECCOMP_ATTEST" check "pid:$pid"
	[ "$status" -eq 1 ]
	[[ "$output" == *"allowUnconfined: the process has no seccomp filter"* ]]
}

@test "check: the default policy passes live podman 4.3.1 containers (runc and crun); builtin:podman-4.3 is their profile" {
	for rt in runc crun; do
		podman_run "$rt"
		run "$SECCOMP_ATTEST" diff --runtime "$rt" builtin:podman-4.3 "bundle:$bundle"
		echo "$rt diff: $output"
		[ "$status" -eq 0 ]
		run "$SECCOMP_ATTEST" diff --runtime "$rt" builtin:podman-4.3 "pid:$pid"
		[ "$status" -eq 0 ]
		run "$SECCOMP_ATTEST" check --runtime "$rt" "pid:$pid" --intended "bundle:$bundle"
		echo "$rt check: $output"
		[ "$status" -eq 0 ]
		[ "$output" = PASS ]
	done
}

@test "decompile: libseccomp's compilation of overlapping argument rules is what the kernel enforces, not what the profile says" {
	# Two rules on copy_file_range testing different arguments. By the
	# profile's meaning, arg2 != 0x61046ee9 kills and arg2 == 0x61046ee9
	# with arg4 > 0xcccc37ea logs. libseccomp 2.5.4 (crun, runc) merges the
	# rules so that arg4's high word is compared with arg2's constant: the
	# decision table of the compiled filter says so, and the kernel agrees.
	cat >"$BATS_TEST_TMPDIR/profile.json" <<-'JSON'
	{"defaultAction": "SCMP_ACT_LOG", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
	 {"names": ["copy_file_range"], "action": "SCMP_ACT_KILL_THREAD", "args": [{"index": 2, "value": 1627680489, "op": "SCMP_CMP_NE"}]},
	 {"names": ["copy_file_range"], "action": "SCMP_ACT_TRAP", "args": [
	   {"index": 4, "value": 3435935722, "op": "SCMP_CMP_LE"}, {"index": 2, "value": 2147483648, "op": "SCMP_CMP_NE"}]}]}
	JSON
	run "$SECCOMP_ATTEST" decompile --runtime crun "profile:$BATS_TEST_TMPDIR/profile.json"
	[ "$status" -eq 0 ]
	# (arg4 is named len since issue 17's argument names.)
	grep -E '^  copy_file_range\(fd_in, off_in, fd_out, off_out, len, flags\) .*len\.hi == 0x61046ee9 -> LOG' <<<"$output"

	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" true
	cp "$HELPERS/rawsyscall" "$b/rootfs/bin/"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	call() { # ARGS...: run rawsyscall copy_file_range ARGS under crun
		jq --args '.process.args = ["/bin/rawsyscall", "326"] + $ARGS.positional' "$@" <"$b/config.json" >"$b/c.json"
		mv "$b/c.json" "$b/config.json"
		id=$(container_name "crun-$RANDOM")
		register_container crun "$id"
		local rc=0
		(cd "$b" && crun run "$id" </dev/null 2>&1 3>&-) || rc=$?
		echo "exit=$rc"
	}
	# arg2 = 0: the profile says kill; the compiled filter logs and the
	# call runs (EINVAL from the kernel, not a dead thread).
	run call 0 0 0 0 0x61046ee900000000 0
	[[ "$output" == *"errno=22"* ]]
	# arg2 = 0x61046ee9, arg4 = 0xffffffff: the profile says log; the
	# compiled filter kills the thread before it prints anything.
	run call 0 0 0x61046ee9 0 0xffffffff 0
	[[ "$output" != *"ret="* ]]
	[[ "$output" == *"exit=159"* ]] # 128 + SIGSYS
}
