#!/usr/bin/env bats
# seccomp-attest record: record a busybox workload under runc, crun, podman
# and Docker (wrapper-runc) through seccomp user notification, generate a
# least-privilege profile from the recording, run the workload back under
# it (it succeeds; unshare, mount and keyctl, which it never made, are
# denied); podman records on the annotation alone through the precreate
# hook (hooks.d), and compare the profile with Docker's default. A recorder that
# dies mid-workload leaves an incomplete recording and a container that
# ends.

load helpers

WRAPPER=${WRAPPER:-$BATS_TEST_DIRNAME/../../bin/wrapper-runc}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}
REGISTER=$BATS_TEST_DIRNAME/../../packaging/docker/register.sh
RDIR=$TEST_DIR/record

# The workload: several commands, a subshell (a fork), then the marker
# helper (a child, a thread, x32, a socket, an exec).
WORKLOAD='echo hello | cat && ls / >/dev/null && (sleep 0) && record-workload'

# Syscalls the workload never makes: unshare, mount, keyctl (x86_64).
DENIED='rawsyscall 272 0; rawsyscall 165 0 0 0 0 0; rawsyscall 250 0 0 0'

setup_file() {
	# The helper's marker numbers are x86_64's.
	[ "$(uname -m)" = x86_64 ] || skip "x86_64 only"
	if [ ! -x "$HELPERS/record-workload" ]; then
		gcc -static -pthread -O2 -o "$BATS_FILE_TMPDIR/record-workload" "$BATS_TEST_DIRNAME/../helpers/record-workload.c"
	fi
}

setup() {
	socket=$BATS_TEST_TMPDIR/record.sock
	out=$BATS_TEST_TMPDIR/recordings
	workload_helper=$HELPERS/record-workload
	[ -x "$workload_helper" ] || workload_helper=$BATS_FILE_TMPDIR/record-workload
}

teardown() {
	cleanup_containers
	if [ -f "$BATS_TEST_TMPDIR/serve.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/serve.pid")" 2>/dev/null || true
		wait "$(cat "$BATS_TEST_TMPDIR/serve.pid")" 2>/dev/null || true
	fi
}

# start_recorder [SOCKET]: seccomp-attest record serve in the background.
start_recorder() {
	"$SECCOMP_ATTEST" record serve --socket "${1:-$socket}" --dir "$out" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/serve.log" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/serve.pid"
	wait_until test -S "${1:-$socket}"
}

# record_bundle DIR ARGS...: a bundle running ARGS with the helpers.
record_bundle() {
	local dir=$1
	shift
	make_bundle "$dir" "$@"
	cp "$workload_helper" "$HELPERS/rawsyscall" "$dir/rootfs/bin/"
}

# check_recording FILE: complete, with the workload's markers.
check_recording() {
	run "$SECCOMP_ATTEST" record wait --timeout 20s "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.complete == true and .recorder != "" and .started != null and .ended != null and (.command | length > 0)' "$1"
	# getpgrp (forked child), sysinfo (thread), times (exec'd), execve, socket; x32 getpid; i386 getpid
	jq -e '.arches.x86_64.syscalls | has("111") and has("99") and has("100") and has("59") and has("41")' "$1"
	jq -e '.arches.x86_64.syscalls["41"].args["0"] | index(1) != null' "$1" # AF_UNIX
	jq -e '.arches.x32.syscalls | has("39")' "$1"
	# i386 getpid (int $0x80), under its own arch
	jq -e '.arches.x86.syscalls | has("20")' "$1"
}

# run_back RUNTIME DIR PROFILE: the workload succeeds under PROFILE, and
# syscalls it never made are denied.
run_back() {
	local rt=$1 dir=$2 profile=$3 id
	set_seccomp "$dir" "$profile"
	id=$(container_name "back-$rt")
	register_container "$rt" "$id"
	run bash -c "cd '$dir' && timeout 60 $rt run '$id' </dev/null"
	echo "workload under the generated profile ($rt): $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	"$rt" delete -f "$id" >/dev/null 2>&1 || true
	jq --arg denied "$DENIED" '.process.args = ["sh", "-c", $denied]' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	id=$(container_name "deny-$rt")
	register_container "$rt" "$id"
	run bash -c "cd '$dir' && timeout 60 $rt run '$id' </dev/null"
	echo "unshare, mount, keyctl under the generated profile ($rt): $output"
	[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
}

record_and_run_back_bundle() { # RUNTIME
	local rt=$1 dir=$BATS_TEST_TMPDIR/bundle id
	start_recorder
	record_bundle "$dir" sh -c "$WORKLOAD"
	"$SECCOMP_ATTEST" record bundle --socket "$socket" --name "wl-$rt" "$dir"
	jq -e '.linux.seccomp.listenerPath != null' "$dir/config.json"
	id=$(container_name "rec-$rt")
	register_container "$rt" "$id"
	run bash -c "cd '$dir' && timeout 60 $rt run '$id' </dev/null"
	echo "recorded workload ($rt): $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	check_recording "$out/wl-$rt.json"
	jq -e --arg rt "$rt" '.runtime == $rt and .container != ""' "$out/wl-$rt.json"
	"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/profile.json" "$out/wl-$rt.json"
	run_back "$rt" "$dir" "$BATS_TEST_TMPDIR/profile.json"
}

@test "record: runc bundle records every task's calls; the generated profile runs the workload and denies the rest" {
	record_and_run_back_bundle runc
}

@test "record: crun bundle records every task's calls; the generated profile runs the workload and denies the rest" {
	command -v crun >/dev/null || skip "no crun"
	record_and_run_back_bundle crun
}

@test "record: the generated profile is strictly stricter than Docker's default and scores above it" {
	local dir=$BATS_TEST_TMPDIR/bundle id
	start_recorder
	record_bundle "$dir" sh -c "$WORKLOAD"
	"$SECCOMP_ATTEST" record bundle --socket "$socket" --name wl "$dir"
	id=$(container_name rec)
	register_container runc "$id"
	(cd "$dir" && timeout 60 runc run "$id" </dev/null >/dev/null)
	check_recording "$out/wl.json"
	"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/p.json" "$out/wl.json"
	run "$SECCOMP_ATTEST" diff builtin:docker-default "profile:$BATS_TEST_TMPDIR/p.json"
	echo "$output" | head -20
	[[ "$output" == *": 0 weaker, "*" stricter, "* ]]
	[[ "$output" != *": 0 weaker, 0 stricter"* ]]
	ours=$("$SECCOMP_ATTEST" score --format json "profile:$BATS_TEST_TMPDIR/p.json" | jq '.score')
	docker=$("$SECCOMP_ATTEST" score --format json builtin:docker-default | jq '.score')
	echo "score: generated $ours, docker-default $docker"
	[ "$(jq -n "$ours > $docker")" = true ]
}

@test "record: podman with the recording profile (runc and crun), named by annotation" {
	command -v podman >/dev/null || skip "no podman"
	start_recorder
	"$SECCOMP_ATTEST" record profile --socket "$socket" -o "$BATS_TEST_TMPDIR/rec.json"
	local rt name
	for rt in runc crun; do
		name=$(container_name "pod-$rt")
		register_container podman "$name"
		run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run --rm --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			--security-opt "seccomp=$BATS_TEST_TMPDIR/rec.json" --annotation "seccomp-attest.dev/record=pod-$rt" \
			-v "$workload_helper:/bin/record-workload:ro" localhost/bb:latest sh -c "$WORKLOAD"
		echo "podman $rt: $output"
		[ "$status" -eq 0 ]
		check_recording "$out/pod-$rt.json"
		"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/pod-$rt.json" "$out/pod-$rt.json"
		run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run --rm "${PODMAN_RUN_FLAGS[@]}" \
			--security-opt "seccomp=$BATS_TEST_TMPDIR/pod-$rt.json" \
			-v "$workload_helper:/bin/record-workload:ro" localhost/bb:latest sh -c "$WORKLOAD"
		echo "podman $rt under the generated profile: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *done* ]]
		run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run --rm "${PODMAN_RUN_FLAGS[@]}" \
			--security-opt "seccomp=$BATS_TEST_TMPDIR/pod-$rt.json" -v "$HELPERS/rawsyscall:/bin/rawsyscall:ro" \
			localhost/bb:latest sh -c "$DENIED"
		echo "unshare, mount, keyctl under the generated profile: $output"
		[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
	done
}

# record_hooks_dir: the shipped precreate hooks.d file, running the built
# seccomp-attest and naming this test's recorder socket.
record_hooks_dir() {
	local d=$BATS_TEST_TMPDIR/hooks.d
	mkdir -p "$d"
	jq --arg h "$SECCOMP_ATTEST" --arg s "--record-socket=$socket" \
		'.hook.path = $h | .hook.args += [$s]' \
		"$BATS_TEST_DIRNAME/../../hooks.d/record/seccomp-attest-record-precreate.json" >"$d/seccomp-attest-record-precreate.json"
	echo "$d"
}

# podman_config NAME: the config.json podman gave the runtime.
podman_config() {
	echo "/var/lib/containers/storage/overlay-containers/$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.Id}}' "$1")/userdata/config.json"
}

@test "record: podman, the annotation alone selects recording (precreate hook, runc and crun); fails closed without a recorder" {
	command -v podman >/dev/null || skip "no podman"
	[ -x "$HOOK" ] || skip "build first: make build"
	local d rt name cfg
	d=$(record_hooks_dir)
	mkdir -p "$BATS_TEST_TMPDIR/marks"

	# No recorder: refused before the runtime runs, with the reason on
	# podman's standard error; the workload never ran.
	name=$(container_name hook-norec)
	register_container podman "$name"
	run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime runc --hooks-dir "$d" run --rm --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
		--annotation seccomp-attest.dev/record=norec -v "$BATS_TEST_TMPDIR/marks:/marks" localhost/bb:latest touch /marks/ran
	echo "podman without a recorder: $output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"precreate"* ]]
	[[ "$output" == *"no recorder answers at $socket"*"refusing to start a container asked to be recorded"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/marks/ran" ]

	start_recorder
	# An invalid name is refused too.
	run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime runc --hooks-dir "$d" run --rm "${PODMAN_RUN_FLAGS[@]}" \
		--annotation seccomp-attest.dev/record=../x -v "$BATS_TEST_TMPDIR/marks:/marks" localhost/bb:latest touch /marks/ran
	echo "podman with an invalid name: $output"
	[ "$status" -ne 0 ]
	[[ "$output" == *'annotation seccomp-attest.dev/record="../x"'* ]]
	[ ! -e "$BATS_TEST_TMPDIR/marks/ran" ]

	# Without the annotation the hook does not run: podman's own profile.
	name=$(container_name hook-plain)
	register_container podman "$name"
	podman "${PODMAN_FLAGS[@]}" --runtime runc --hooks-dir "$d" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest true
	cfg=$(podman_config "$name")
	jq -e '.linux.seccomp.listenerPath == null and .linux.seccomp.defaultAction == "SCMP_ACT_ERRNO" and ([.linux.seccomp.syscalls[] | select(.action == "SCMP_ACT_NOTIFY")] | length == 0)' "$cfg"
	podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$name" >/dev/null
	[ -z "$(ls "$out")" ]

	for rt in runc crun; do
		command -v "$rt" >/dev/null || continue
		name=$(container_name "hook-$rt")
		register_container podman "$name"
		run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime "$rt" --hooks-dir "$d" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			--annotation "seccomp-attest.dev/record=hook-$rt" \
			-v "$workload_helper:/bin/record-workload:ro" localhost/bb:latest sh -c "$WORKLOAD"
		echo "podman $rt, annotation only: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *done* ]]
		cfg=$(podman_config "$name")
		jq -e --arg s "$socket" --arg n "hook-$rt" '.linux.seccomp.listenerPath == $s and .linux.seccomp.listenerMetadata == $n' "$cfg"
		podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$name" >/dev/null
		check_recording "$out/hook-$rt.json"
		jq -e --arg rt "$rt" '.runtime == $rt' "$out/hook-$rt.json"
		"$SECCOMP_ATTEST" record generate --format docker -o "$BATS_TEST_TMPDIR/hook-$rt.json" "$out/hook-$rt.json"
		run timeout 120 podman "${PODMAN_FLAGS[@]}" --runtime "$rt" --hooks-dir "$d" run --rm "${PODMAN_RUN_FLAGS[@]}" \
			--security-opt "seccomp=$BATS_TEST_TMPDIR/hook-$rt.json" -v "$workload_helper:/bin/record-workload:ro" \
			-v "$HELPERS/rawsyscall:/bin/rawsyscall:ro" localhost/bb:latest sh -c "$WORKLOAD; $DENIED; true"
		echo "podman $rt under the generated profile: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *done* ]]
		[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
	done
}

@test "record: Docker through wrapper-runc restores the listenerPath dockerd drops" {
	"$DOCKER" info >/dev/null 2>&1 || skip "no Docker engine"
	[ -x "$WRAPPER" ] || skip "build first: make build"
	[ ! -S /run/seccomp-attest/record.sock ] || skip "a recorder already answers on /run/seccomp-attest/record.sock"
	# A wrapper in audit mode: a recording profile notifies everything,
	# which the default policy rightly calls weaker.
	mkdir -p "$RDIR"
	cp "$WRAPPER" "$RDIR/wrapper-runc"
	cp "$DAEMON" "$RDIR/seccomp-attestd"
	printf 'key: keys/signing.key\nstore: store\nlog: wrapper.log\nmode: audit\ndeadline: 8s\n' >"$RDIR/config.yaml"
	bash "$REGISTER" --name wrapper-runc-record --path "$RDIR/wrapper-runc" --config "$RDIR/config.yaml" --runtime "$(command -v runc)"
	start_recorder /run/seccomp-attest/record.sock
	"$SECCOMP_ATTEST" record profile -o "$BATS_TEST_TMPDIR/rec.json"
	local name id
	name=$(container_name docker)
	register_container docker "$name"
	run timeout 120 "$DOCKER" run --name "$name" --runtime wrapper-runc-record --network none \
		--security-opt "seccomp=$BATS_TEST_TMPDIR/rec.json" -v "$workload_helper:/bin/record-workload:ro" \
		bb:latest sh -c "$WORKLOAD"
	echo "docker: $output"
	[ "$status" -eq 0 ]
	id=$("$DOCKER" inspect -f '{{.Id}}' "$name")
	check_recording "$out/$id.json"
	"$SECCOMP_ATTEST" record generate --format docker -o "$BATS_TEST_TMPDIR/docker.json" "$out/$id.json"
	run timeout 120 "$DOCKER" run --rm --network none --security-opt "seccomp=$BATS_TEST_TMPDIR/docker.json" \
		-v "$workload_helper:/bin/record-workload:ro" bb:latest sh -c "$WORKLOAD"
	echo "docker under the generated profile: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	run timeout 120 "$DOCKER" run --rm --network none --security-opt "seccomp=$BATS_TEST_TMPDIR/docker.json" \
		-v "$HELPERS/rawsyscall:/bin/rawsyscall:ro" bb:latest sh -c "$DENIED"
	echo "unshare, mount, keyctl under the generated profile: $output"
	[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
}

@test "record: a recorder that dies mid-workload leaves an incomplete recording and a container that ends" {
	local dir=$BATS_TEST_TMPDIR/bundle id
	start_recorder
	record_bundle "$dir" sh -c 'echo started; sleep 2; ls /'
	"$SECCOMP_ATTEST" record bundle --socket "$socket" --name dies "$dir"
	id=$(container_name dies)
	run_bundle runc "$dir" "$id"
	wait_until grep -q started "$dir/out"
	kill -9 "$(cat "$BATS_TEST_TMPDIR/serve.pid")"
	# Without a recorder every notified call fails ENOSYS; exit stays
	# allowed, so the workload ends.
	wait_until bash -c "runc state '$id' | jq -e '.status == \"stopped\"' >/dev/null"
	cat "$dir/out"
	jq -e '.complete == false and (.problem | length > 0) and .ended == null' "$out/dies.json"
	run "$SECCOMP_ATTEST" record wait --timeout 1s "$out/dies.json"
	[ "$status" -eq 2 ]
	run "$SECCOMP_ATTEST" record generate "$out/dies.json"
	echo "$output"
	[ "$status" -ne 0 ]
}

@test "record: a container the recorder refuses (its name is no file name) fails at once instead of hanging runc run" {
	local dir=$BATS_TEST_TMPDIR/bundle id
	start_recorder
	record_bundle "$dir" sh -c 'echo ran'
	"$SECCOMP_ATTEST" record bundle --socket "$socket" "$dir"
	jq '.annotations["seccomp-attest.dev/record"] = "../escape"' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	id=$(container_name refused)
	register_container runc "$id"
	# The recorder closed the listener; runc init holds its own copy until
	# a notified read is answered, and waited forever (even on SIGTERM).
	run bash -c "cd '$dir' && timeout -s KILL 20 runc run '$id' </dev/null"
	echo "refused: $status $output"
	[ "$status" -ne 137 ]
	[ "$status" -ne 0 ]
	[[ "$output" != *ran* ]]
	[ ! -e "$BATS_TEST_TMPDIR/escape.json" ]
	grep -q 'cannot record' "$BATS_TEST_TMPDIR/serve.log"
}

@test "record: containerd (ctr run --seccomp-profile) keeps listenerPath" {
	local sock=/run/docker/containerd/containerd.sock ns=sa-record id
	[ -S "$sock" ] && command -v ctr >/dev/null || skip "no containerd (Docker's) or ctr"
	command -v podman >/dev/null || skip "no podman to export the image"
	if ! ctr -a "$sock" -n "$ns" images ls -q | grep -qx localhost/bb:latest; then
		podman save --format oci-archive -o "$BATS_TEST_TMPDIR/bb.tar" localhost/bb:latest
		ctr -a "$sock" -n "$ns" images import --base-name localhost/bb "$BATS_TEST_TMPDIR/bb.tar"
	fi
	start_recorder
	"$SECCOMP_ATTEST" record profile --socket "$socket" --name ctr -o "$BATS_TEST_TMPDIR/rec.json"
	id=$(container_name ctr)
	run timeout 120 ctr -a "$sock" -n "$ns" run --rm --seccomp --seccomp-profile "$BATS_TEST_TMPDIR/rec.json" \
		--mount "type=bind,src=$workload_helper,dst=/bin/record-workload,options=rbind:ro" localhost/bb:latest "$id" sh -c "$WORKLOAD"
	echo "ctr: $output"
	[ "$status" -eq 0 ]
	check_recording "$out/ctr.json"
	"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/p.json" "$out/ctr.json"
	run timeout 120 ctr -a "$sock" -n "$ns" run --rm --seccomp --seccomp-profile "$BATS_TEST_TMPDIR/p.json" \
		--mount "type=bind,src=$workload_helper,dst=/bin/record-workload,options=rbind:ro" \
		--mount "type=bind,src=$HELPERS/rawsyscall,dst=/bin/rawsyscall,options=rbind:ro" localhost/bb:latest "$id-back" sh -c "$WORKLOAD; $DENIED; true"
	echo "ctr under the generated profile: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
}
