#!/usr/bin/env bats
# seccomp-attest record through CRI: a private containerd 2.x (the test
# stack's, cri-helpers.bash) driven by crictl as kubelet drives it. A
# container whose Localhost seccomp profile is the recording profile is
# recorded (containerd's CRI loads the profile file with its listenerPath),
# the generated profile, as a Localhost profile, runs the workload back and
# denies unshare, mount and keyctl, which it never made.

load helpers
load cri-helpers

# As record.bats: the workload (a fork, the marker helper: a child, a
# thread, x32, a socket, an exec) and syscalls it never makes (x86_64).
WORKLOAD='echo hello | cat && ls / >/dev/null && (sleep 0) && record-workload'
DENIED='rawsyscall 272 0; rawsyscall 165 0 0 0 0 0; rawsyscall 250 0 0 0'

setup_file() {
	[ "$(uname -m)" = x86_64 ] || skip "x86_64 only"
	cri_stack_ready
	if [ ! -x "$HELPERS/record-workload" ]; then
		gcc -static -pthread -O2 -o "$BATS_FILE_TMPDIR/record-workload" "$BATS_TEST_DIRNAME/../helpers/record-workload.c"
	fi
	cri_start "$BATS_FILE_TMPDIR/cri"
	echo "CRI_SOCK=$CRI_SOCK" >"$BATS_FILE_TMPDIR/env"
}

teardown_file() {
	cri_stop "$BATS_FILE_TMPDIR/cri"
}

setup() {
	source "$BATS_FILE_TMPDIR/env"
	socket=$BATS_TEST_TMPDIR/record.sock
	out=$BATS_TEST_TMPDIR/recordings
	workload_helper=$HELPERS/record-workload
	[ -x "$workload_helper" ] || workload_helper=$BATS_FILE_TMPDIR/record-workload
}

teardown() {
	[ -z "${pod:-}" ] || crictl rmp -f "$pod" >/dev/null 2>&1 || true
	if [ -f "$BATS_TEST_TMPDIR/serve.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/serve.pid")" 2>/dev/null || true
		wait "$(cat "$BATS_TEST_TMPDIR/serve.pid")" 2>/dev/null || true
	fi
}

# run_workload NAME PROFILE SCRIPT: a container of $pod running SCRIPT with
# the helpers, under the Localhost profile PROFILE; waits until it has
# exited and sets $cid, $status (its exit code) and $output (its log).
run_workload() {
	local name=$1 profile=$2 script=$3 i
	container_config "$pdir/$name.json" "$name" "$CRI_LOCALHOST" "$profile" -- /bin/sh -c "$script"
	jq --arg w "$workload_helper" --arg r "$HELPERS/rawsyscall" \
		'.mounts += [{container_path: "/bin/record-workload", host_path: $w, readonly: true},
		             {container_path: "/bin/rawsyscall", host_path: $r, readonly: true}]' \
		"$pdir/$name.json" >"$pdir/$name.j" && mv "$pdir/$name.j" "$pdir/$name.json"
	cid=$(crictl create "$pod" "$pdir/$name.json" "$podjson")
	crictl start "$cid" >/dev/null
	for i in $(seq 600); do
		[ "$(crictl inspect "$cid" | jq -r .status.state)" = CONTAINER_EXITED ] && break
		sleep 0.1
	done
	status=$(crictl inspect "$cid" | jq -r .status.exitCode)
	output=$(crictl logs "$cid" 2>&1)
}

@test "record cri: containerd 2.x through crictl records under a Localhost recording profile; the generated Localhost profile runs it back" {
	"$SECCOMP_ATTEST" record serve --socket "$socket" --dir "$out" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/serve.log" 3>&- &
	echo $! >"$BATS_TEST_TMPDIR/serve.pid"
	wait_until test -S "$socket"
	"$SECCOMP_ATTEST" record profile --socket "$socket" --name cri -o "$BATS_TEST_TMPDIR/rec.json"
	run_pod rec
	run_workload rec "$BATS_TEST_TMPDIR/rec.json" "$WORKLOAD"
	echo "recorded through CRI (exit $status): $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	# The spec containerd gave the runtime kept the listenerPath.
	crictl inspect "$cid" | jq -e --arg s "$socket" '.info.runtimeSpec.linux.seccomp.listenerPath == $s'
	run "$SECCOMP_ATTEST" record wait --timeout 20s "$out/cri.json"
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e --arg img "$BUSYBOX_IMAGE" '.complete == true and .runtime == "runc" and .image == $img' "$out/cri.json"
	# getpgrp (forked child), sysinfo (thread), times (exec'd), execve, socket; x32 getpid
	jq -e '.arches.x86_64.syscalls | has("111") and has("99") and has("100") and has("59") and has("41")' "$out/cri.json"
	jq -e '.arches.x32.syscalls | has("39")' "$out/cri.json"

	"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/cri-profile.json" "$out/cri.json"
	run_workload back "$BATS_TEST_TMPDIR/cri-profile.json" "$WORKLOAD"
	echo "under the generated profile (exit $status): $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *done* ]]
	run_workload deny "$BATS_TEST_TMPDIR/cri-profile.json" "$DENIED"
	echo "unshare, mount, keyctl under the generated profile: $output"
	[ "$(grep -c 'errno=1 ' <<<"$output")" -eq 3 ]
}
