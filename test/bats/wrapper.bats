#!/usr/bin/env bats
# wrapper-runc with real runtimes: Docker (daemon.json runtime, SIGHUP),
# runc and crun bundles. Every refusal is proven by a marker file the
# container's program would have written on a bind mount.
#
# wrapper-runc checks create and start in seccomp-attestd when it answers
# on its socket, in its own process otherwise. The tests run without a
# daemon; with SECCOMP_ATTEST_WRAPPER_DAEMON=1 (make bats runs both) a
# seccomp-attestd serves the default socket for the whole file.

load helpers

WRAPPER=${WRAPPER:-$BATS_TEST_DIRNAME/../../bin/wrapper-runc}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
DEFAULT_SOCKET=/run/seccomp-attest/hook.sock
REGISTER=$BATS_TEST_DIRNAME/../../packaging/docker/register.sh
# A persistent directory: daemon.json keeps naming this configuration
# after the tests.
WDIR=$TEST_DIR/wrapper
RUNC=$(command -v runc)
CRUN=$(command -v crun)

setup_file() {
	[ -x "$WRAPPER" ] || skip "build first: make build"
	if [ -S "$DEFAULT_SOCKET" ]; then
		echo "a seccomp-attestd answers on $DEFAULT_SOCKET: the tests need it to themselves" >&2
		return 1
	fi
	if [ -n "${SECCOMP_ATTEST_WRAPPER_DAEMON:-}" ]; then
		"$DAEMON" serve --debug --socket "$DEFAULT_SOCKET" </dev/null >/dev/null 2>"$BATS_FILE_TMPDIR/daemon.log" 3>&- &
		echo $! >"$BATS_FILE_TMPDIR/daemon.pid"
		wait_until test -S "$DEFAULT_SOCKET"
	fi
	rm -rf "$WDIR/store" "$WDIR/keys"
	mkdir -p "$WDIR"
	cat >"$WDIR/config.yaml" <<-EOF
		key: keys/signing.key
		store: store
		log: wrapper.log
		deadline: 8s
	EOF
	# The same, under a policy that lets unconfined containers pass.
	cat >"$WDIR/permissive-policy.yaml" <<-EOF
		allowUnconfined: true
	EOF
	sed 's|^log: .*|log: wrapper-permissive.log\npolicy: permissive-policy.yaml|' "$WDIR/config.yaml" >"$WDIR/permissive.yaml"
	bash "$REGISTER" --name wrapper-runc --path "$(readlink -f "$WRAPPER")" --config "$WDIR/config.yaml" --runtime "$RUNC"
	bash "$REGISTER" --name wrapper-runc-permissive --path "$(readlink -f "$WRAPPER")" --config "$WDIR/permissive.yaml" --runtime "$RUNC"
}

teardown_file() {
	if [ -f "$BATS_FILE_TMPDIR/daemon.pid" ]; then
		kill -TERM "$(cat "$BATS_FILE_TMPDIR/daemon.pid")"
		wait_until sh -c "! kill -0 $(cat "$BATS_FILE_TMPDIR/daemon.pid") 2>/dev/null"
	fi
}

# wrapper ARGS...: the wrapper as Docker calls it, with the test config.
wrapper() {
	"$WRAPPER" --seccomp-attest-config="$WDIR/config.yaml" "$@"
}

# store_file ID: the attestation of container ID in the store.
store_file() {
	ls "$WDIR/store/"*"-$1.intoto.jsonl" 2>/dev/null | tail -n 1
}

# Docker's default capabilities: the profile docker_profile prints is
# Docker's for this set, and the policy's baselines follow the bundle's.
DOCKER_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'

# marker_bundle DIR: a bundle as Docker makes one (its default profile and
# capabilities) whose program writes DIR/marker/ran through a bind mount.
marker_bundle() {
	local dir=$1
	make_bundle "$dir" /bin/sh -c 'echo ran > /marker/ran'
	mkdir -p "$dir/marker"
	docker_profile "$dir/profile.json"
	set_seccomp "$dir" "$dir/profile.json"
	jq --argjson caps "$DOCKER_CAPS" '.process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	jq --arg src "$dir/marker" '.mounts += [{destination: "/marker", type: "bind", source: $src, options: ["rbind", "rw"]}]' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# not_stopped PID: the process is gone or at least not held in a stop.
not_stopped() {
	local st
	st=$(awk '$1 == "State:" { print $2 }' "/proc/$1/status" 2>/dev/null || true)
	[ "$st" != t ] && [ "$st" != T ]
}

@test "docker run --runtime=wrapper-runc under Docker's default profile runs and is attested" {
	local name
	name=$(container_name default)
	register_container docker "$name"
	run "$DOCKER" run --name "$name" --runtime=wrapper-runc --network none bb:latest sh -c 'echo hello from the container'
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the container" ]
	id=$("$DOCKER" inspect -f '{{.Id}}' "$name")
	file=$(store_file "$id")
	[ -n "$file" ]
	run "$SECCOMP_ATTEST" verify "$file" --key "$WDIR/keys/signing.pub"
	echo "$output"
	[ "$status" -eq 0 ]
	# The predicate names the container and a passing verdict on the
	# effective filter read at the exec stop.
	payload=$(jq -r .payload "$file" | base64 -d)
	[ "$(jq -r .predicate.container.id <<<"$payload")" = "$id" ]
	[ "$(jq -r .predicate.verdict.result <<<"$payload")" = pass ]
	[ "$(jq -r '.predicate.effective.threads[0].filters | length' <<<"$payload")" -ge 1 ]
	# The real runtime behind the wrapper, with its version.
	[ "$(jq -r .predicate.container.runtime.name <<<"$payload")" = runc ]
	[ "$(jq -r .predicate.container.runtime.version <<<"$payload")" = "$(runc --version | sed -n 's/^runc version //p')" ]
	grep -q "\"id\":\"$id\".*effective check: pass" "$WDIR/wrapper.log"
	if [ -n "${SECCOMP_ATTEST_WRAPPER_DAEMON:-}" ]; then
		# Docker's create and start were the daemon's.
		[ "$(grep -c '"kind":"wrapper-runc"' "$BATS_FILE_TMPDIR/daemon.log")" -ge 2 ]
	fi
}

@test "docker exec, logs, pause/unpause, kill, stop, rm and interactive use through the wrapper" {
	local name
	name=$(container_name life)
	register_container docker "$name"
	"$DOCKER" run -d --name "$name" --runtime=wrapper-runc --network none bb:latest \
		sh -c 'trap "echo got-usr1" USR1; echo started; while true; do sleep 0.1; done'
	wait_until sh -c "'$DOCKER' logs '$name' | grep -q started"
	run "$DOCKER" exec "$name" echo exec-ok
	[ "$status" -eq 0 ] && [ "$output" = exec-ok ]
	run "$DOCKER" pause "$name"
	[ "$status" -eq 0 ]
	[ "$("$DOCKER" inspect -f '{{.State.Status}}' "$name")" = paused ]
	run "$DOCKER" unpause "$name"
	[ "$status" -eq 0 ]
	[ "$("$DOCKER" inspect -f '{{.State.Status}}' "$name")" = running ]
	run "$DOCKER" kill -s USR1 "$name"
	[ "$status" -eq 0 ]
	wait_until sh -c "'$DOCKER' logs '$name' | grep -q got-usr1"
	run "$DOCKER" stop -t 1 "$name"
	[ "$status" -eq 0 ]
	[ "$("$DOCKER" inspect -f '{{.State.Running}}' "$name")" = false ]
	run "$DOCKER" rm "$name"
	[ "$status" -eq 0 ]
	# -i without -t: stdin reaches the program, its output and exit status
	# come back.
	run sh -c "printf 'line one\nline two\n' | '$DOCKER' run -i --rm --runtime=wrapper-runc --network none bb:latest sh -c 'cat; exit 7'"
	[ "$status" -eq 7 ]
	[ "$output" = "$(printf 'line one\nline two')" ]
	# -t: the pseudoterminal's master comes back over the console socket.
	run "$DOCKER" run -t --rm --runtime=wrapper-runc --network none bb:latest sh -c 'test -t 1 && echo on-a-tty'
	[ "$status" -eq 0 ]
	[ "$(tr -d '\r' <<<"$output")" = on-a-tty ]
}

@test "docker run with --security-opt seccomp=FILE weaker than the policy: refused, reason shown, nothing ran" {
	local name marker
	name=$(container_name weak)
	register_container docker "$name"
	marker=$BATS_TEST_TMPDIR/marker
	mkdir -p "$marker"
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO"}]}' >"$BATS_TEST_TMPDIR/weak.json"
	run "$DOCKER" run --name "$name" --runtime=wrapper-runc --network none \
		--security-opt seccomp="$BATS_TEST_TMPDIR/weak.json" -v "$marker:/marker" bb:latest sh -c 'echo ran > /marker/ran'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"OCI runtime create failed: seccomp-attest: container "*" refused by policy"* ]]
	[[ "$output" == *"effective ALLOW where every baseline denies"* ]]
	[ ! -e "$marker/ran" ]
	# The same program under Docker's default profile writes the marker:
	# the refusal, not the program, kept it from appearing.
	run "$DOCKER" run --rm --runtime=wrapper-runc --network none -v "$marker:/marker" bb:latest sh -c 'echo ran > /marker/ran'
	[ "$status" -eq 0 ]
	[ -e "$marker/ran" ]
}

@test "seccomp=unconfined and --privileged: refused by the default policy, run under a policy that allows unconfined" {
	local opt marker name
	marker=$BATS_TEST_TMPDIR/marker
	mkdir -p "$marker"
	for opt in --security-opt=seccomp=unconfined --privileged; do
		rm -f "$marker/ran"
		run "$DOCKER" run --rm --runtime=wrapper-runc --network none "$opt" -v "$marker:/marker" bb:latest sh -c 'echo ran > /marker/ran'
		echo "$opt: $output"
		[ "$status" -ne 0 ]
		[[ "$output" == *"refused by policy"*"allowUnconfined: the process has no seccomp filter"* ]]
		[ ! -e "$marker/ran" ]

		# Allowed by the policy, the container gets runc's own answer: some
		# machines refuse --privileged's capabilities to runc itself.
		run "$DOCKER" run --rm --runtime=runc --network none "$opt" bb:latest true
		if [ "$status" -ne 0 ]; then
			want=${output%%: unknown*}
			# Docker's runc is Debian's; in the runtime matrix the
			# wrapper's is another version, whose words differ.
			[ -z "${SECCOMP_ATTEST_RUNC:-}" ] || want="${want%%runc create failed*}runc create failed"
			run "$DOCKER" run --rm --runtime=wrapper-runc-permissive --network none "$opt" bb:latest true
			echo "$opt permissive, runc alone fails: $output"
			[ "$status" -ne 0 ]
			[[ "$output" == "$want"* ]]
			[[ "$output" != *seccomp-attest* ]]
			continue
		fi
		name=$(container_name "permissive${opt//[^a-z]/}")
		register_container docker "$name"
		run "$DOCKER" run --name "$name" --runtime=wrapper-runc-permissive --network none "$opt" -v "$marker:/marker" bb:latest sh -c 'echo ran > /marker/ran'
		echo "$opt permissive: $output"
		[ "$status" -eq 0 ]
		[ -e "$marker/ran" ]
		id=$("$DOCKER" inspect -f '{{.Id}}' "$name")
		payload=$(jq -r .payload "$(store_file "$id")" | base64 -d)
		[ "$(jq -r .predicate.verdict.result <<<"$payload")" = pass ]
		[ "$(jq -r '.predicate.effective.threads[0].mode' <<<"$payload")" = disabled ]
	done
}

@test "crun with run.oci.seccomp_bpf_data: weaker than its config only at runtime, refused at start before its first instruction" {
	local dir=$BATS_TEST_TMPDIR/b id pid
	id=$(container_name crunbpf)
	marker_bundle "$dir"
	# One instruction, RET ALLOW: crun loads it instead of the profile that
	# config.json still shows.
	jq '.annotations["run.oci.seccomp_bpf_data"] = "BgAAAAAA/38="' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"

	# Through the wrapper, create already sees it (the static check
	# compiles the bundle as crun does).
	run wrapper --seccomp-attest-runtime="$CRUN" create --bundle "$dir" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused by policy"* ]]
	run "$CRUN" state "$id"
	[ "$status" -ne 0 ]

	# Created by crun itself, started through the wrapper: held at the exec
	# stop, the filter crun loaded is read, and the program never runs.
	register_container crun "$id"
	"$CRUN" create --bundle "$dir" "$id" </dev/null >"$dir/out" 2>&1
	pid=$("$CRUN" state "$id" | jq -r .pid)
	run wrapper --seccomp-attest-runtime="$CRUN" --log "$dir/log.json" --log-format json start "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused before its first instruction"* ]]
	[ ! -e "$dir/marker/ran" ]
	# In runc's log format, where containerd looks.
	[ "$(tail -n 1 "$dir/log.json" | jq -r .level)" = error ]
	[[ "$(tail -n 1 "$dir/log.json" | jq -r .msg)" == *"refused before its first instruction"* ]]
	wait_until sh -c "[ \"\$('$CRUN' state '$id' | jq -r .status)\" = stopped ]"
	not_stopped "$pid"
	# Attested with the raw filter crun loaded, verdict fail.
	payload=$(jq -r .payload "$(store_file "$id")" | base64 -d)
	[ "$(jq -r .predicate.verdict.result <<<"$payload")" = fail ]
	[ "$(jq -r '.predicate.effective.threads[0].filters | length' <<<"$payload")" = 1 ]
	[ "$(jq -r '.predicate.effective.threads[0].filters[0].length' <<<"$payload")" = 1 ]
	run "$SECCOMP_ATTEST" verify "$(store_file "$id")" --key "$WDIR/keys/signing.pub"
	[ "$status" -eq 1 ] # valid signature, failing verdict
	[[ "$output" == *fail* ]]
}

@test "podman --runtime wrapper-runc with crun and run.oci.seccomp_bpf_data: refused at create, and at start when only the exec stop can see it" {
	local marker=$BATS_TEST_TMPDIR/marker rt=$BATS_TEST_TMPDIR/rt/oci-runtime name id flags
	mkdir -p "$marker" "$(dirname "$rt")"
	ln -s "$CRUN" "$rt"
	# podman keeps only the runtime's path for its cleanup process (no
	# --runtime-flag): a link named wrapper-crun makes crun the default.
	ln -s "$(readlink -f "$WRAPPER")" "$BATS_TEST_TMPDIR/wrapper-crun"
	flags=(--runtime "$BATS_TEST_TMPDIR/wrapper-crun" --runtime-flag "seccomp-attest-config=$WDIR/config.yaml" "${PODMAN_FLAGS[@]}")
	# Under its default profile, podman's container runs through the
	# wrapper, and podman's cleanup removes it from crun.
	name=$(container_name podmanok)
	run podman "${flags[@]}" run --rm --name "$name" --cidfile "$BATS_TEST_TMPDIR/cid" "${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest echo podman-ok
	[ "$status" -eq 0 ] && [ "$output" = podman-ok ]
	id=$(cat "$BATS_TEST_TMPDIR/cid")
	grep -q "\"id\":\"$id\".*effective check: pass" "$WDIR/wrapper.log"
	wait_until sh -c "! '$CRUN' state '$id' >/dev/null 2>&1"

	name=$(container_name podmanbpf)
	register_container podman "$name"
	run podman "${flags[@]}" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
		--annotation run.oci.seccomp_bpf_data=BgAAAAAA/38= -v "$marker:/marker" localhost/bb:latest sh -c 'echo ran > /marker/ran'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"refused by policy"* ]]
	[ ! -e "$marker/ran" ]

	# crun under another name: the static check compiles as runc and passes.
	name=$(container_name podmanbpf2)
	register_container podman "$name"
	run podman "${flags[@]}" --runtime-flag "seccomp-attest-runtime=$rt" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
		--annotation run.oci.seccomp_bpf_data=BgAAAAAA/38= -v "$marker:/marker" localhost/bb:latest sh -c 'echo ran > /marker/ran'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"refused before its first instruction"* ]]
	[ ! -e "$marker/ran" ]
}

@test "a runc container created weaker than policy outside the wrapper is refused at start; a good one starts" {
	local dir=$BATS_TEST_TMPDIR/b id pid
	id=$(container_name runcweak)
	marker_bundle "$dir"
	jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"], syscalls: [{names: ["uname"], action: "SCMP_ACT_ERRNO"}]}' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	register_container runc "$id"
	runc create --bundle "$dir" "$id" </dev/null >"$dir/out" 2>&1
	pid=$(runtime_pid runc "$id")
	run wrapper start "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused before its first instruction"* ]]
	[ ! -e "$dir/marker/ran" ]
	wait_until sh -c "[ \"\$(runc state '$id' | jq -r .status)\" = stopped ]"
	not_stopped "$pid"

	local good=$BATS_TEST_TMPDIR/good gid
	gid=$(container_name runcgood)
	marker_bundle "$good"
	register_container runc "$gid"
	# Not under `run`: the init keeps create's stdio, a pipe would not close.
	wrapper create --bundle "$good" "$gid" </dev/null >"$good/out" 2>&1
	run wrapper start "$gid"
	[ "$status" -eq 0 ]
	wait_until test -e "$good/marker/ran"
}

@test "runc run through the wrapper: refused before anything exists when weaker, foreground otherwise" {
	local dir=$BATS_TEST_TMPDIR/b id
	id=$(container_name run)
	marker_bundle "$dir"
	jq '.process.args = ["/bin/sh", "-c", "echo ran > /marker/ran; read line; echo got $line; exit 3"]' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	register_container runc "$id"
	run sh -c "echo hello | '$WRAPPER' --seccomp-attest-config='$WDIR/config.yaml' run --bundle '$dir' '$id'"
	[ "$status" -eq 3 ]
	[ "$output" = "got hello" ]
	[ -e "$dir/marker/ran" ]
	run runc state "$id"
	[ "$status" -ne 0 ] # run deleted it, as without --keep
	# run got the effective check of start: attested at the exec stop.
	payload=$(jq -r .payload "$(store_file "$id")" | base64 -d)
	[ "$(jq -r .predicate.verdict.result <<<"$payload")" = pass ]
	[ "$(jq -r '.predicate.effective.threads[0].filters[0].length' <<<"$payload")" -gt 100 ]

	# Detached: run returns once the program runs, the container stays.
	rm "$dir/marker/ran"
	local did
	did=$(container_name rundetach)
	register_container runc "$did"
	wrapper run -d --bundle "$dir" "$did" </dev/null >"$dir/out" 2>&1
	wait_until test -e "$dir/marker/ran"
	run runc state "$did"
	[ "$status" -eq 0 ]

	rm "$dir/marker/ran"
	jq '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW"}' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	run wrapper run --bundle "$dir" "$id"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused by policy"* ]]
	[ ! -e "$dir/marker/ran" ]
}

@test "runc run with a runtime weaker than the static check knows: refused at start, before its first instruction" {
	local dir=$BATS_TEST_TMPDIR/b id rt=$BATS_TEST_TMPDIR/rt/oci-runtime
	id=$(container_name runbpf)
	marker_bundle "$dir"
	jq '.annotations["run.oci.seccomp_bpf_data"] = "BgAAAAAA/38="' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	# crun under a name the wrapper does not know: the static check compiles
	# the profile as runc would and passes; crun loads the annotation's
	# RET ALLOW instead. Only the exec stop can see that.
	mkdir -p "$(dirname "$rt")"
	ln -s "$CRUN" "$rt"
	register_container crun "$id"
	run wrapper --seccomp-attest-runtime="$rt" run --bundle "$dir" "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused before its first instruction"* ]]
	[ ! -e "$dir/marker/ran" ]
	run "$CRUN" state "$id"
	[ "$status" -ne 0 ] # deleted, as run does
}

@test "the init dies with the wrapper and a deadline refuses: no process is left stopped" {
	local dir=$BATS_TEST_TMPDIR/b id pid slow=$BATS_TEST_TMPDIR/slow-runc wpid
	# The real runc, reached through a script that waits before `start`
	# reaches it, so that the wrapper is caught holding the init.
	# It waits SLOW_START tenths of a second, or until the file SLOW_GO exists.
	cat >"$slow" <<-EOF
		#!/bin/sh
		case " \$* " in *" start "*)
			i=0
			while [ ! -e "\${SLOW_GO:-/nonexistent}" ] && [ \$i -lt \${SLOW_START:-30} ]; do sleep 0.1; i=\$((i + 1)); done ;;
		esac
		exec $RUNC "\$@"
	EOF
	chmod +x "$slow"

	id=$(container_name diewith)
	marker_bundle "$dir"
	register_container runc "$id"
	runc create --bundle "$dir" "$id" </dev/null >"$dir/out" 2>&1
	pid=$(runtime_pid runc "$id")
	SLOW_START=600 SLOW_GO=$BATS_TEST_TMPDIR/go "$WRAPPER" --seccomp-attest-config="$WDIR/config.yaml" --seccomp-attest-runtime="$slow" start "$id" 3>&- &
	wpid=$!
	wait_until sh -c "[ \"\$(awk '\$1 == \"TracerPid:\" { print \$2 }' /proc/$pid/status)\" != 0 ]"
	kill -KILL "$wpid"
	wait "$wpid" || true
	# PTRACE_O_EXITKILL: the init went with its tracer.
	wait_until sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	[ ! -e "$dir/marker/ran" ]
	touch "$BATS_TEST_TMPDIR/go" # the orphaned slow start goes on and fails
	wait_until sh -c "[ \"\$(runc state '$id' | jq -r .status)\" = stopped ]"

	# A deadline shorter than the runtime's start: fail closed.
	id=$(container_name deadline)
	rm -rf "$dir"
	marker_bundle "$dir"
	register_container runc "$id"
	runc create --bundle "$dir" "$id" </dev/null >"$dir/out" 2>&1
	pid=$(runtime_pid runc "$id")
	sed 's/^deadline: .*/deadline: 1s\nfilterWait: 500ms/' "$WDIR/config.yaml" >"$BATS_TEST_TMPDIR/short.yaml"
	sed -i "s|^key: .*|key: $WDIR/keys/signing.key|; s|^store: .*|store: $WDIR/store|; s|^log: .*|log: $WDIR/wrapper.log|" "$BATS_TEST_TMPDIR/short.yaml"
	run "$WRAPPER" --seccomp-attest-config="$BATS_TEST_TMPDIR/short.yaml" --seccomp-attest-runtime="$slow" start "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot check its effective filter"*"deadline"* ]]
	not_stopped "$pid"
	wait_until sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
	[ ! -e "$dir/marker/ran" ]
}

# same_as_runc ARGS...: the wrapper and runc give the same stdout, stderr
# (runc's log timestamps aside) and exit status.
same_as_runc() {
	local want got
	want=$(runc "$@" 2>"$BATS_TEST_TMPDIR/want.err"; echo "exit $?")
	got=$(wrapper "$@" 2>"$BATS_TEST_TMPDIR/got.err"; echo "exit $?")
	if [ "$want" != "$got" ]; then
		echo "runc $*: stdout differs" >&2
		diff <(echo "$want") <(echo "$got") >&2
		return 1
	fi
	sed -i 's/time="[^"]*"//' "$BATS_TEST_TMPDIR/want.err" "$BATS_TEST_TMPDIR/got.err"
	if ! cmp -s "$BATS_TEST_TMPDIR/want.err" "$BATS_TEST_TMPDIR/got.err"; then
		echo "runc $*: stderr differs" >&2
		diff "$BATS_TEST_TMPDIR/want.err" "$BATS_TEST_TMPDIR/got.err" >&2
		return 1
	fi
}

@test "create and start are checked by seccomp-attestd when it answers on --seccomp-attest-socket, in the wrapper's process otherwise" {
	local sock=$BATS_TEST_TMPDIR/d/hook.sock dir id via
	"$DAEMON" serve --debug --socket "$sock" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/daemon.log" 3>&- &
	local dpid=$!
	wait_until test -S "$sock"
	for via in daemon direct; do
		dir=$BATS_TEST_TMPDIR/$via
		marker_bundle "$dir"
		id=$(container_name "$via")
		register_container runc "$id"
		s=$sock
		[ "$via" = daemon ] || s=$BATS_TEST_TMPDIR/none.sock
		# Relative paths are the caller's: the daemon takes them from its
		# working directory.
		(cd "$dir/.." && wrapper --seccomp-attest-socket="$s" create --bundle "$via" "$id" </dev/null >"$dir/out" 2>&1)
		wrapper --seccomp-attest-socket="$s" start "$id"
		wait_until test -e "$dir/marker/ran"
		p=$(jq -r .payload "$(store_file "$id")" | base64 -d | jq .predicate)
		jq -e '.verdict.result == "pass" and .container.runtime.name == "runc" and .diff.groups[0].equivalent' <<<"$p"
		[ "$(jq -r .container.bundle <<<"$p")" = "$dir" ]
		wrapper --seccomp-attest-socket="$s" delete -f "$id"
	done
	# The daemon checked the first create (then handed runc create back to
	# the wrapper) and the first start, nothing else.
	[ "$(grep -c '"kind":"wrapper-runc"' "$BATS_TEST_TMPDIR/daemon.log")" = 2 ]
	[ "$(grep -c '"exec":true' "$BATS_TEST_TMPDIR/daemon.log")" = 1 ]
	kill -TERM "$dpid"
	wait_until sh -c "! kill -0 $dpid 2>/dev/null"
}

@test "runc's own behaviour is preserved: state, list, features, --version, ps, events, update, delete, failures" {
	local dir=$BATS_TEST_TMPDIR/b id
	id=$(container_name same)
	make_bundle "$dir" sleep 1000
	docker_profile "$dir/profile.json"
	set_seccomp "$dir" "$dir/profile.json"
	run_bundle runc "$dir" "$id"
	wait_until has_filters "$(runtime_pid runc "$id")"

	same_as_runc state "$id"
	same_as_runc list
	same_as_runc list -f json
	same_as_runc --root /run/runc list -q
	same_as_runc features
	same_as_runc --version
	same_as_runc -v
	# ps's C column (CPU use) moves between two calls.
	diff <(runc ps "$id" | awk '{ $4 = ""; print }') <(wrapper ps "$id" | awk '{ $4 = ""; print }')
	same_as_runc ps -f json "$id"
	same_as_runc update --pids-limit 200 "$id"
	same_as_runc help
	# events prints live statistics: compare the shape, not the numbers.
	want=$(runc events --stats "$id" | jq -c '[.type, .id, (.data | keys)]')
	got=$(wrapper events --stats "$id" | jq -c '[.type, .id, (.data | keys)]')
	[ "$want" = "$got" ]

	# Failing commands: same messages, same exit codes.
	same_as_runc state nope-"$id"
	same_as_runc start nope-"$id"
	same_as_runc kill nope-"$id" KILL
	same_as_runc exec nope-"$id" true
	same_as_runc --bogus state "$id"
	same_as_runc --root
	same_as_runc create
	same_as_runc start "$id" # not in the created state
	same_as_runc delete nope-"$id"
	same_as_runc nosuchcommand

	# delete --force ends the running container, as runc does.
	run wrapper delete --force "$id"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run runc state "$id"
	[ "$status" -ne 0 ]
	same_as_runc delete --force "$id"
}

@test "fds pass through the wrapper: --preserve-fds reaches the container" {
	local dir=$BATS_TEST_TMPDIR/b id
	id=$(container_name fds)
	marker_bundle "$dir"
	jq '.process.args = ["/bin/sh", "-c", "cat <&3 > /marker/fd3; echo ran > /marker/ran"]' "$dir/config.json" >"$dir/c" && mv "$dir/c" "$dir/config.json"
	register_container runc "$id"
	echo "through fd 3" >"$dir/fd3.in"
	run sh -c "'$WRAPPER' --seccomp-attest-config='$WDIR/config.yaml' run --preserve-fds 1 --bundle '$dir' '$id' 3<'$dir/fd3.in'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$dir/marker/fd3")" = "through fd 3" ]
}
