#!/usr/bin/env bats
# seccomp-attestd on a bad day: stopped (SIGSTOP) while containers start
# and stop under podman (runc and crun, the shipped hooks.d), runc bundles
# and Docker (wrapper-runc). The hook and the wrapper must notice within
# wire.AckWindow (250ms) and check in their own process; after SIGCONT the
# daemon drops what it was asked while stopped: every container has one
# start and one stop record, no more, no fewer. And the faults a user can
# cause (no key, no policy) reach the user in podman's and Docker's own
# error output, in words.

load helpers

HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
WRAPPER=${WRAPPER:-$BATS_TEST_DIRNAME/../../bin/wrapper-runc}
REGISTER=$BATS_TEST_DIRNAME/../../packaging/docker/register.sh

setup_file() {
	# A Docker runtime whose wrapper asks this file's daemon (its socket
	# and configuration are persistent: daemon.json keeps naming them).
	export DDIR=$TEST_DIR/daemon-bats
	rm -rf "$DDIR"
	mkdir -p "$DDIR"
	printf 'store: %s\nkey: %s\nlog: %s\n' "$DDIR/store" "$DDIR/keys/signing.key" "$DDIR/wrapper.log" >"$DDIR/config.yaml"
	bash "$REGISTER" --name wrapper-runc-stopped-daemon --path "$(readlink -f "$WRAPPER")" \
		--config "$DDIR/config.yaml" --socket "$DDIR/hook.sock"
}

setup() {
	store=$BATS_TEST_TMPDIR/store
	keys=$BATS_TEST_TMPDIR/keys
	log=$BATS_TEST_TMPDIR/hook.log
	cfg=$BATS_TEST_TMPDIR/config.yaml
	printf 'store: %s\nkey: %s\nlog: %s\nmode: enforce\n' "$store" "$keys/signing.key" "$log" >"$cfg"
	socket=$BATS_TEST_TMPDIR/hook.sock
	daemon_pid=
}

teardown() {
	if [ -n "$daemon_pid" ]; then
		kill -CONT "$daemon_pid" 2>/dev/null || true
		kill -TERM "$daemon_pid" 2>/dev/null || true
	fi
	cleanup_containers
}

# start_daemon SOCKET LOG
start_daemon() {
	"$DAEMON" serve --debug --socket "$1" </dev/null >/dev/null 2>"$2" 3>&- &
	daemon_pid=$!
	wait_until test -S "$1"
}

hooks_dir() { hooks_dir_for "$HOOK" "$cfg" "$1"; } # SOCKET

records() { # STORE ID EVENT: how many attestations of ID with EVENT
	local f n=0
	for f in "$1"/*-"$2".intoto.jsonl; do
		[ -e "$f" ] || continue
		[ "$(jq -r .payload "$f" | base64 -d | jq -r '.predicate.event // "start"')" = "$3" ] && n=$((n + 1))
	done
	echo "$n"
}

@test "daemon stopped: podman (runc, crun) and runc bundles are checked here; after SIGCONT no duplicate or lost record" {
	start_daemon "$socket" "$BATS_TEST_TMPDIR/daemon.log"
	d=$(hooks_dir "$socket")
	kill -STOP "$daemon_pid"
	ids=()
	for rt in runc crun; do
		name=$(container_name "stopped-$rt")
		register_container podman "$name"
		start=$(date +%s%N)
		podman "${PODMAN_FLAGS[@]}" --runtime "$rt" --hooks-dir "$d" run -d --name "$name" \
			"${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest sleep 1000 >/dev/null
		echo "podman run -d on $rt with a stopped daemon: $((($(date +%s%N) - start) / 1000000)) ms" >&3
		ids+=("$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.Id}}' "$name")")
		podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$name" >/dev/null
	done
	# A runc bundle with the hooks in its config.json.
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	set_docker_caps "$b"
	hooks=$(jq -n --arg h "$HOOK" --arg s "--socket=$socket" --arg c "$cfg" \
		'{createRuntime: [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, "createRuntime"]}],
		  poststart: [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, "poststart"]}],
		  poststop: [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, "poststop"]}]}')
	jq --argjson h "$hooks" '.hooks = $h' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	id=$(container_name runc-stopped)
	register_container runc "$id"
	run_bundle runc "$b" "$id"
	runc delete -f "$id"
	ids+=("$id")

	# Each was checked here, saying why.
	grep -c '"fallback":"seccomp-attestd did not acknowledge' "$log"
	[ "$(grep -c '"fallback":"seccomp-attestd did not acknowledge' "$log")" -ge 8 ]
	kill -CONT "$daemon_pid"
	# The daemon now reads what was asked while it was stopped, and drops it.
	wait_until grep -q 'dropped a request' "$BATS_TEST_TMPDIR/daemon.log"
	sleep 1
	for id in "${ids[@]}"; do
		echo "$id: $(records "$store" "$id" start) start, $(records "$store" "$id" stop) stop"
		[ "$(records "$store" "$id" start)" = 1 ]
		[ "$(records "$store" "$id" stop)" = 1 ]
	done
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	echo "$output"
	[ "$status" -eq 0 ]
	# And it answers again: no more checks here.
	before=$(grep -c '"fallback"' "$log")
	name=$(container_name after)
	register_container podman "$name"
	podman "${PODMAN_FLAGS[@]}" --hooks-dir "$d" run --rm --name "$name" "${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest true
	[ "$(grep -c '"fallback"' "$log")" = "$before" ]
	grep -q '"kind":"hook"' "$BATS_TEST_TMPDIR/daemon.log"
}

@test "daemon stopped: docker run through wrapper-runc is checked here and attested" {
	start_daemon "$DDIR/hook.sock" "$BATS_TEST_TMPDIR/daemon.log"
	kill -STOP "$daemon_pid"
	name=$(container_name docker-stopped)
	register_container docker "$name"
	start=$(date +%s%N)
	run "$DOCKER" run --name "$name" --runtime=wrapper-runc-stopped-daemon --network none bb:latest true
	echo "docker run with a stopped daemon: $((($(date +%s%N) - start) / 1000000)) ms" >&3
	echo "$output"
	[ "$status" -eq 0 ]
	cid=$("$DOCKER" inspect --format '{{.Id}}' "$name")
	ls "$DDIR/store/"*"-$cid.intoto.jsonl"
	kill -CONT "$daemon_pid"
	wait_until grep -q 'dropped a request' "$BATS_TEST_TMPDIR/daemon.log"
	sleep 1
	[ "$(records "$DDIR/store" "$cid" start)" = 1 ]
}

@test "faults reach the user in podman's and Docker's own error output, in words" {
	# No key (and none to be generated): refused at createRuntime, before
	# the container exists, with the reason, not "command not found".
	printf 'store: %s\nkey: %s\ngenerateKey: false\nlog: %s\n' "$store" "$BATS_TEST_TMPDIR/nokeys/signing.key" "$log" >"$cfg"
	d=$(hooks_dir "$BATS_TEST_TMPDIR/none.sock")
	for rt in runc crun; do
		name=$(container_name "nokey-$rt")
		register_container podman "$name"
		run podman "${PODMAN_FLAGS[@]}" --runtime "$rt" --hooks-dir "$d" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			-v "$BATS_TEST_TMPDIR:/marker" localhost/bb:latest sh -c "echo ran > /marker/ran-$rt"
		echo "$output"
		[ "$status" -ne 0 ]
		[ "$status" -ne 127 ]
		[[ "$output" != *"command that was not found"* ]]
		[ ! -e "$BATS_TEST_TMPDIR/ran-$rt" ]
		# runc puts the hook's stderr into its error; crun 1.8 says only
		# "error executing hook (exit code: 2)", and the reason is in the
		# operators' log.
		if [ "$rt" = runc ]; then
			[[ "$output" == *"createRuntime"*"$BATS_TEST_TMPDIR/nokeys/signing.key"*"does not exist"* ]]
		fi
		grep -q "$BATS_TEST_TMPDIR/nokeys/signing.key" "$log"
	done
	# A policy file that is not there.
	printf 'store: %s\nkey: %s\nlog: %s\npolicy: %s\n' "$store" "$keys/signing.key" "$log" "$BATS_TEST_TMPDIR/missing-policy.yaml" >"$cfg"
	name=$(container_name nopolicy)
	register_container podman "$name"
	run podman "${PODMAN_FLAGS[@]}" --runtime runc --hooks-dir "$d" run --name "$name" "${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest true
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$status" -ne 127 ]
	[[ "$output" == *"missing-policy.yaml"* ]]
	[[ "$output" != *"command that was not found"* ]]

	# Docker: the wrapper's refusal is in runc's --log, which Docker reads.
	printf 'store: %s\nkey: %s\ngenerateKey: false\nlog: %s\n' "$DDIR/store" "$BATS_TEST_TMPDIR/nokeys/signing.key" "$DDIR/wrapper.log" >"$DDIR/config.yaml"
	name=$(container_name docker-nokey)
	register_container docker "$name"
	run "$DOCKER" run --name "$name" --runtime=wrapper-runc-stopped-daemon --network none bb:latest true
	printf 'store: %s\nkey: %s\nlog: %s\n' "$DDIR/store" "$DDIR/keys/signing.key" "$DDIR/wrapper.log" >"$DDIR/config.yaml"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$status" -ne 127 ] # Docker's "command not found"
	[[ "$output" == *"nokeys/signing.key"*"does not exist"* ]]
	[[ "$output" != *"log.json: no such file"* ]]
	# Found at create, before the container existed.
	grep '"command":"create"' "$DDIR/wrapper.log" | tail -1 | grep -q 'nokeys/signing.key' ||
		grep 'nokeys' "$DDIR/wrapper.log" | tail -1 | grep -q 'cannot check'
	[ "$("$DOCKER" inspect --format '{{.State.Pid}}' "$name")" = 0 ]
}

@test "daemon: a program that is not root is refused, and the daemon logs its uid and pid" {
	# The socket is root-only (0700 directory); a socket a non-root user
	# can reach shows that the daemon checks who asks all the same.
	d=$(mktemp -d /tmp/sa-peer.XXXXXX)
	chmod 755 "$d"
	start_daemon "$d/hook.sock" "$BATS_TEST_TMPDIR/daemon.log"
	chmod 666 "$d/hook.sock"
	install -m 755 "$HOOK" "$d/seccomp-attest-hook"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$d/seccomp-attest-hook" --socket="$d/hook.sock" poststart <<<'{}'
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"uid 65534"*"may not ask for hooks: root only"* ]]
	grep '"refused a request"' "$BATS_TEST_TMPDIR/daemon.log"
	grep '"refused a request"' "$BATS_TEST_TMPDIR/daemon.log" | jq -e '.uid == 65534 and .pid > 0'
	rm -rf "$d"
}

@test "daemon: a poststop whose spool is refused (a symbolic link) is written to the store, nothing is signed from the link's target" {
	start_daemon "$socket" "$BATS_TEST_TMPDIR/daemon.log"
	b=$BATS_TEST_TMPDIR/bundle
	mkdir -p "$b" "$store" "$BATS_TEST_TMPDIR/elsewhere"
	echo '{"ociVersion":"1.0.2","process":{"args":["true"]},"root":{"path":"rootfs"},"linux":{}}' >"$b/config.json"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$store/spool"
	run "$HOOK" --socket="$socket" --config "$cfg" poststop <<<"{\"ociVersion\":\"1.0.2\",\"id\":\"spoollink\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"$b\"}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(records "$store" spoollink stop)" = 1 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
	grep '"handOffError"' "$log" | grep -q 'symbolic link'
	run "$SECCOMP_ATTEST" verify --store "$store" --key "$keys/signing.pub"
	echo "$output"
	[ "$status" -eq 0 ]
}
