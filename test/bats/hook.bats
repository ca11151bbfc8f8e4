#!/usr/bin/env bats
# The OCI hook (cmd/hook) on real runtimes: registered in config.json for runc
# and crun, and through hooks.d/ for podman on runc and crun.
#
# The hook program hands its work to seccomp-attestd when one listens on its
# socket and does it itself otherwise. The tests run without a daemon; with
# SECCOMP_ATTEST_HOOK_DAEMON=1 (make bats runs both) every test is answered
# by a seccomp-attestd started for the file.

load helpers

HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
FIXTURES=$BATS_TEST_DIRNAME/../../pkg/bytecode/testdata/fixtures

setup_file() {
	# Never a daemon some other setup left at the default socket.
	export HOOK_SOCKET=$BATS_FILE_TMPDIR/no-daemon.sock
	if [ -n "${SECCOMP_ATTEST_HOOK_DAEMON:-}" ]; then
		HOOK_SOCKET=$BATS_FILE_TMPDIR/hook.sock
		start_daemon "$HOOK_SOCKET" "$BATS_FILE_TMPDIR/daemon.log"
		echo "$daemon_pid" >"$BATS_FILE_TMPDIR/daemon.pid"
	fi
}

teardown_file() {
	if [ -f "$BATS_FILE_TMPDIR/daemon.pid" ]; then
		stop_daemon "$(cat "$BATS_FILE_TMPDIR/daemon.pid")"
	fi
}

# start_daemon SOCKET LOG: seccomp-attestd serving SOCKET, its pid in
# $daemon_pid once the socket answers.
start_daemon() {
	"$DAEMON" serve --debug --socket "$1" </dev/null >/dev/null 2>"$2" 3>&- &
	daemon_pid=$!
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	echo "seccomp-attestd did not start: $(cat "$2")" >&2
	return 1
}

# stop_daemon PID: SIGTERM, and it must exit cleanly within 10 s.
stop_daemon() {
	kill -TERM "$1"
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "seccomp-attestd $1 did not stop" >&2
	return 1
}

setup() {
	store=$BATS_TEST_TMPDIR/store
	keys=$BATS_TEST_TMPDIR/keys
	log=$BATS_TEST_TMPDIR/hook.log
	hook_config MODE=enforce
}

# hook_config MODE=M [POLICY=P]: the hook's configuration file for this test.
hook_config() {
	local mode=${1#MODE=} policy=${2#POLICY=}
	cfg=$BATS_TEST_TMPDIR/config.yaml
	{
		echo "store: $store"
		echo "key: $keys/signing.key"
		echo "log: $log"
		echo "mode: $mode"
		[ -z "$policy" ] || echo "policy: $policy"
	} >"$cfg"
}

# add_hooks DIR STAGE...: register the hook in DIR/config.json for STAGEs.
add_hooks() {
	local dir=$1 st hooks='{}'
	shift
	for st in "$@"; do
		hooks=$(jq --arg st "$st" --arg h "$HOOK" --arg c "$cfg" --arg s "--socket=$HOOK_SOCKET" \
			'.[$st] = [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, $st], timeout: 10}]' <<<"$hooks")
	done
	jq --argjson h "$hooks" '.hooks = $h' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}

# hooks_dir: the shipped hooks.d pointing at the built hook and this
# test's configuration.
hooks_dir() { hooks_dir_for "$HOOK" "$cfg" "$HOOK_SOCKET"; }

# records_are N ID: the store holds N attestations of container ID.
records_are() {
	[ "$(ls "$store"/*-"$2".intoto.jsonl 2>/dev/null | wc -l)" = "$1" ]
}

predicate() { # FILE
	jq -r .payload "$1" | base64 -d | jq .predicate
}

verify_store() {
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	echo "$output"
	[ "$status" -eq 0 ]
}

docker_bundle() { # DIR ARGS...
	local dir=$1
	shift
	make_bundle "$dir" "$@"
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$dir" "$BATS_TEST_TMPDIR/profile.json"
	set_docker_caps "$dir"
}

@test "hook: runc with the hook in config.json attests next to the bundle and in the store" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	add_hooks "$b" createRuntime poststart poststop
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	[ -f "$b/seccomp-attestation.intoto.jsonl" ]
	f=$(ls "$store"/*-"$id".intoto.jsonl)
	cmp "$f" "$b/seccomp-attestation.intoto.jsonl"
	p=$(predicate "$f")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r .container.runtime.name <<<"$p")" = runc ]
	[ "$(jq -r .container.pid <<<"$p")" = "$pid" ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
	[ "$(jq -r .intended.source <<<"$p")" = "$b/config.json" ]
	# The attested filter is the one the running program has.
	"$SECCOMP_ATTEST" dump --out "$BATS_TEST_TMPDIR/bpf" "$pid" >/dev/null
	[ "$(jq -r '.effective.threads[0].filters[0].sha256' <<<"$p")" = "$(sha256sum <"$BATS_TEST_TMPDIR/bpf/0.bpf" | cut -d' ' -f1)" ]
	runc delete -f "$id"
	# poststop appended the container's end to the chain (seccomp-attestd
	# answers once the record is spooled, and appends it right after).
	wait_until records_are 2 "$id"
	last=$(ls "$store"/*-"$id".intoto.jsonl | tail -1)
	[ "$(predicate "$last" | jq -r .event)" = stop ]
	verify_store
	grep -q '"stage":"poststart"' "$log"
}

@test "hook: answered by seccomp-attestd when it listens on --socket, in the hook's own process otherwise; the same attestation" {
	sock=$BATS_TEST_TMPDIR/d/hook.sock
	start_daemon "$sock" "$BATS_TEST_TMPDIR/daemon.log"
	[ "$(stat -c %a "$(dirname "$sock")")" = 700 ]
	# One daemon per socket.
	run "$DAEMON" serve --socket "$sock"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another daemon is listening"* ]]
	declare -A pred
	for via in daemon direct; do
		b=$BATS_TEST_TMPDIR/bundle-$via
		docker_bundle "$b" sleep 1000
		HOOK_SOCKET=$sock
		[ "$via" = daemon ] || HOOK_SOCKET=$BATS_TEST_TMPDIR/none.sock
		add_hooks "$b" poststart
		id=$(container_name runc)
		run_bundle runc "$b" "$id"
		pred[$via]=$(predicate "$b/seccomp-attestation.intoto.jsonl")
		runc delete -f "$id"
	done
	# Only the first went through the daemon.
	[ "$(jq -s '[.[] | select(.msg == "answered" and .kind == "hook")] | length' "$BATS_TEST_TMPDIR/daemon.log")" = 1 ]
	for via in daemon direct; do
		jq -e '.verdict.result == "pass" and .container.runtime.name == "runc" and .diff.groups[0].equivalent' <<<"${pred[$via]}"
	done
	# (Not the filters' bytes: runc 1.1 orders its architecture checks by a
	# Go map, so two containers of one profile may get different programs.)
	same='[.intended.digest, .intended.resolvedFor, .policy, .score, .tool, .host, .verdict]'
	[ "$(jq -c "$same" <<<"${pred[daemon]}")" = "$(jq -c "$same" <<<"${pred[direct]}")" ]
	verify_store
	stop_daemon "$daemon_pid"
	[ ! -e "$sock" ]
	grep -q '"msg":"stopped"' "$BATS_TEST_TMPDIR/daemon.log"
}

@test "hook: crun with the hook in config.json waits for the filter and attests it" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	add_hooks "$b" poststart
	id=$(container_name crun)
	run_bundle crun "$b" "$id"
	f=$(ls "$store"/*-"$id".intoto.jsonl)
	p=$(predicate "$f")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r .container.runtime.name <<<"$p")" = crun ]
	[[ "$(jq -r .intended.resolvedFor <<<"$p")" == "runtime crun"* ]]
	# Compiled like crun, the intended profile equals what crun loaded.
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
	[ "$(jq -r '.effective.threads[0].filters | length' <<<"$p")" = 1 ]
	cmp "$f" "$b/seccomp-attestation.intoto.jsonl"
	verify_store
}

@test "hook: podman with --hooks-dir (the shipped hooks.d) on runc and on crun" {
	d=$(hooks_dir)
	for rt in runc crun; do
		name=$(container_name "podman-$rt")
		register_container podman "$name"
		podman "${PODMAN_FLAGS[@]}" --runtime "$rt" --hooks-dir "$d" run -d --name "$name" \
			"${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest sleep 1000
		cid=$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.Id}}' "$name")
		f=$(ls "$store"/*-"$cid".intoto.jsonl | head -1)
		p=$(predicate "$f")
		echo "$p" | jq -c '{verdict, runtime: .container.runtime}'
		[ "$(jq -r .verdict.result <<<"$p")" = pass ]
		[ "$(jq -r .container.runtime.name <<<"$p")" = "$rt" ]
		[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
		# Podman's bundle holds the copy.
		bundle=$(jq -r .container.bundle <<<"$p")
		cmp "$f" "$bundle/seccomp-attestation.intoto.jsonl"
		podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$name" >/dev/null
	done
	verify_store
}

@test "hook: a profile weaker than the policy is refused at createRuntime (enforce), recorded in audit" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	set_seccomp "$b" "$FIXTURES/denylist.profile.json"
	add_hooks "$b" createRuntime poststart
	id=$(container_name runc)
	register_container runc "$id"
	run bash -c "cd '$b' && runc run -d '$id' </dev/null >/dev/null 2>'$BATS_TEST_TMPDIR/err'"
	cat "$BATS_TEST_TMPDIR/err"
	output=$(cat "$BATS_TEST_TMPDIR/err")
	[ "$status" -ne 0 ]
	[[ "$output" == *"refused by policy preset:default"* ]]
	[[ "$output" == *"where every baseline denies"* ]]
	# Nothing runs, nothing is attested.
	! runc state "$id" 2>/dev/null | jq -e '.status == "running"'
	[ ! -e "$b/seccomp-attestation.intoto.jsonl" ]
	grep '"level":"error"' "$log" | grep -q refused

	hook_config MODE=audit
	add_hooks "$b" createRuntime poststart
	id2=$(container_name runc2)
	run_bundle runc "$b" "$id2"
	[ "$(runc state "$id2" | jq -r .status)" = running ]
	p=$(predicate "$b/seccomp-attestation.intoto.jsonl")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r .policy.mode <<<"$p")" = audit ]
	jq -e '.verdict.reasons | map(select(contains("where every baseline denies"))) | length > 0' <<<"$p"
}

@test "hook: crun's run.oci.seccomp_bpf_data weakens only at runtime: refused at poststart, recorded in audit" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	# One instruction: RET ALLOW. config.json still shows Docker's profile.
	allow=$(printf '\x06\x00\x00\x00\x00\x00\xff\x7f' | base64 -w0)
	jq --arg a "$allow" '.annotations["run.oci.seccomp_bpf_data"] = $a' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
	add_hooks "$b" poststart
	id=$(container_name crun)
	# crun 1.8 ignores a failing poststart hook (exit 0, container left
	# running); the hook stops the container itself in enforce mode.
	run_bundle crun "$b" "$id" || true
	wait_until bash -c "crun state '$id' | jq -e '.status == \"stopped\"'"
	# Stopped by the hook in its own process, or by the hook program at
	# the answer of seccomp-attestd (which never acts on a container).
	grep '"level":"error"' "$log" | grep refused | grep -qE '"killed":true|"stopRequested":true'
	p=$(predicate "$(ls "$store"/*-"$id".intoto.jsonl)")
	[ "$(jq -r .verdict.result <<<"$p")" = fail ]
	[[ "$(jq -r .intended.resolvedFor <<<"$p")" == *"run.oci.seccomp_bpf_data replaces linux.seccomp"* ]]
	[ "$(jq -r '.container.annotations["run.oci.seccomp_bpf_data"]' <<<"$p")" = "sha256:$(printf %s "$allow" | sha256sum | cut -d' ' -f1)" ]

	hook_config MODE=audit
	add_hooks "$b" poststart
	id2=$(container_name crun2)
	run_bundle crun "$b" "$id2"
	[ "$(crun state "$id2" | jq -r .status)" = running ]
	p=$(predicate "$(ls "$store"/*-"$id2".intoto.jsonl)")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r '.effective.threads[0].filters[0].length' <<<"$p")" = 1 ]
}

@test "hook: an unconfined container is refused at createRuntime; allowed by a policy that allows it" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	add_hooks "$b" createRuntime poststart
	id=$(container_name runc)
	register_container runc "$id"
	run bash -c "cd '$b' && runc run -d '$id' </dev/null >/dev/null 2>'$BATS_TEST_TMPDIR/err'"
	[ "$status" -ne 0 ]
	grep -q allowUnconfined "$BATS_TEST_TMPDIR/err"

	printf 'allowUnconfined: true\n' >"$BATS_TEST_TMPDIR/policy.yaml"
	hook_config MODE=enforce POLICY="$BATS_TEST_TMPDIR/policy.yaml"
	add_hooks "$b" createRuntime poststart
	id2=$(container_name runc2)
	run_bundle runc "$b" "$id2"
	p=$(predicate "$b/seccomp-attestation.intoto.jsonl")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r '.effective.threads[0].mode' <<<"$p")" = disabled ]
	[ "$(jq -r .policy.digest <<<"$p")" = "$(sha256sum <"$BATS_TEST_TMPDIR/policy.yaml" | cut -d' ' -f1)" ]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --policy "$BATS_TEST_TMPDIR/policy.yaml" "$b/seccomp-attestation.intoto.jsonl"
	[ "$status" -eq 0 ]
}

@test "hook: an argument-rule profile is attested with its rules equivalent" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	set_seccomp "$b" "$FIXTURES/args.profile.json"
	printf 'baselines: []\n' >"$BATS_TEST_TMPDIR/policy.yaml"
	hook_config MODE=enforce POLICY="$BATS_TEST_TMPDIR/policy.yaml"
	add_hooks "$b" poststart
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	p=$(predicate "$b/seccomp-attestation.intoto.jsonl")
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
	# The same filter bytes as the capture made with this profile.
	[ "$(jq -r '.effective.threads[0].filters[0].sha256' <<<"$p")" = "$(sha256sum <"$FIXTURES/args.runc.bpf" | cut -d' ' -f1)" ]
}

@test "hook: a filter stacked by the container's program shows in attest by hand (same pipeline)" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" /bin/seccomp-stack -n 1
	add_hooks "$b" poststart
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	wait_until grep -q ready "$b/out"
	pid=$(runtime_pid runc "$id")
	# The hook ran before the program: one filter.
	[ "$(predicate "$b/seccomp-attestation.intoto.jsonl" | jq '.effective.threads[0].filters | length')" = 1 ]
	# Attesting the running container sees the program's own filter too:
	# stricter than intended, so it still passes, and the diff says where.
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" \
		--bundle "$b" --id "$id" --runtime runc
	echo "$output"
	[ "$status" -eq 0 ]
	p=$(predicate "$b/seccomp-attestation.intoto.jsonl")
	[ "$(jq '.effective.threads[0].filters | length' <<<"$p")" = 2 ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = false ]
	[ "$(jq -r '.diff.groups[0].counts.weaker' <<<"$p")" = 0 ]
	verify_store
}

@test "hook: a container that exits at once (true) leaves a clear record and no hang" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" true
	add_hooks "$b" createRuntime poststart poststop
	for rt in runc crun; do
		id=$(container_name "$rt")
		register_container "$rt" "$id"
		run timeout 20 bash -c "cd '$b' && $rt run '$id' </dev/null 2>&1"
		echo "$rt: $output"
		[ "$status" -eq 0 ]
		wait_until records_are 2 "$id"
		files=$(ls "$store"/*-"$id".intoto.jsonl)
		# start (pass, or error when the process was gone) and stop.
		first=$(predicate "$(head -1 <<<"$files")")
		jq -e '.verdict.result == "pass" or (.verdict.result == "error" and (.verdict.reasons[0] | contains("exited")))' <<<"$first"
		[ "$(predicate "$(tail -1 <<<"$files")" | jq -r .event)" = stop ]
	done
	# Every signature and the chain hold; a record of a process gone before
	# the read is a failing verdict (error), with its reason.
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	echo "$output"
	[[ "$output" == *"chain: ok (4 attestations)"* ]]
	[ "$status" -eq 0 ] || { [ "$status" -eq 1 ] && ! grep FAIL <<<"$output" | grep -v "verdict error"; }
}

@test "hook: 50 containers started in parallel: 50 valid attestations, chain intact" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	add_hooks "$b" poststart
	pids=()
	for i in $(seq 50); do
		id=$(container_name "p$i")
		register_container runc "$id"
		(cd "$b" && runc run -d "$id" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err.$i") &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	# What runc said for any that failed (a check past its deadline on
	# an overloaded machine fails closed, and says so).
	cat "$BATS_TEST_TMPDIR"/err.* || true
	grep -h '"level":"error"' "$log" | head -5 || true
	[ "$failed" = 0 ]
	[ "$(ls "$store"/[0-9]*.intoto.jsonl | wc -l)" = 50 ]
	for i in $(seq 50); do
		id=$(container_name "p$i")
		[ "$(runc state "$id" | jq -r .status)" = running ]
		[ "$(ls "$store"/*-"$id".intoto.jsonl | wc -l)" = 1 ]
	done
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain: ok (50 attestations)"* ]]
	[ "$(grep -c '"verdict pass"\|verdict pass' <<<"$output")" = 50 ]
}

@test "hook: bad state, unknown stage and an unreadable key are clear errors" {
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<'not json'
	[ "$status" -ne 0 ]
	[[ "$output" == *"container state on stdin: not an OCI state"* ]]
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" prestop </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown stage "prestop"'* ]]
	mkdir -p "$keys" && "$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	chmod 644 "$keys/signing.key"
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	# The "container" is a process of the test's own: a poststart that
	# cannot attest in enforce mode stops it (crun would not), so that it
	# never runs unattested.
	sleep 1000 &
	victim=$!
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<"{\"ociVersion\":\"1.0.2\",\"id\":\"x\",\"status\":\"running\",\"pid\":$victim,\"bundle\":\"$b\"}"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$keys/signing.key"* ]]
	# Killed: a zombie of this shell, no longer sleeping.
	wait_until sh -c "! ps -o stat= -p $victim | grep -q '^S'"
}

@test "hook: a PID already traced is reported and, in enforce mode, the container is stopped (fail closed)" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	# Another tracer holds the init (as a debugger would).
	"$HELPERS/seccomp-stack" -T "$pid" >"$BATS_TEST_TMPDIR/tracer" 2>&1 &
	tracer=$!
	wait_until grep -q ready "$BATS_TEST_TMPDIR/tracer"
	state=$(runc state "$id")
	hook_config MODE=audit
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<"$state"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"already traced by pid $tracer"* ]]
	p=$(predicate "$(ls "$store"/*-"$id".intoto.jsonl | tail -1)")
	[ "$(jq -r .verdict.result <<<"$p")" = error ]
	[[ "$(jq -r '.verdict.reasons[0]' <<<"$p")" == *"already traced"* ]]
	[ "$(runc state "$id" | jq -r .status)" = running ]

	hook_config MODE=enforce
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<"$state"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"failing closed"* ]]
	kill "$tracer" || true
	wait_until bash -c "runc state '$id' | jq -e '.status == \"stopped\"'"
}

@test "hook: with crun under wrapper-runc, the poststart hook waits for the wrapper's exec-stop check and both attest" {
	[ -x "$BATS_TEST_DIRNAME/../../bin/wrapper-runc" ] || skip "wrapper-runc is not built"
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	add_hooks "$b" poststart
	id=$(container_name crun)
	register_container crun "$id"
	(cd "$b" && "$BATS_TEST_DIRNAME/../../bin/wrapper-runc" --seccomp-attest-config="$cfg" \
		--seccomp-attest-runtime="$(command -v crun)" run -d "$id" </dev/null >"$b/out" 2>&1)
	cat "$b/out"
	[ "$(crun state "$id" | jq -r .status)" = running ]
	# Two attestations of the one container, one by each, both passing.
	files=$(ls "$store"/*-"$id".intoto.jsonl)
	[ "$(wc -l <<<"$files")" = 2 ]
	for f in $files; do
		[ "$(predicate "$f" | jq -r .verdict.result)" = pass ]
	done
	verify_store
}

@test "hook: a deadline that passes fails closed in enforce mode and only records in audit mode" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	state=$(runc state "$id")
	# A cold cache (first container of its kind) takes far more than 1ms.
	printf 'store: %s\nkey: %s\nlog: %s\ndeadline: 1ms\nfilterWait: 1ms\nmode: audit\n' "$store" "$keys/signing.key" "$log" >"$cfg"
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<"$state"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"deadline of 1ms passed"*"audit mode: not refused"* ]]
	[ "$(runc state "$id" | jq -r .status)" = running ]
	sed -i 's/mode: audit/mode: enforce/' "$cfg"
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" poststart <<<"$state"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"deadline of 1ms passed"*"failing closed"* ]]
	wait_until bash -c "runc state '$id' | jq -e '.status == \"stopped\"'"
	grep -qE '"killed":true|"stopRequested":true' "$log"
}

@test "hook: a store that cannot be written fails closed in enforce mode, naming the path" {
	b=$BATS_TEST_TMPDIR/bundle
	docker_bundle "$b" sleep 1000
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	state=$(runc state "$id")
	# A read-only store (a tmpfs mounted read-only stands for a full or
	# read-only disk).
	mkdir -p "$store"
	mount -t tmpfs -o ro,size=1m tmpfs "$store"
	run "$HOOK" "--socket=$HOOK_SOCKET" --config "$cfg" --key "$BATS_TEST_TMPDIR/k/signing.key" poststart <<<"$state"
	umount "$store"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$store"* ]]
	[[ "$output" == *"failing closed"* ]]
	wait_until bash -c "runc state '$id' | jq -e '.status == \"stopped\"'"
	# Nothing half-written in the bundle either.
	[ ! -e "$b/seccomp-attestation.intoto.jsonl" ]
	! ls "$b"/.seccomp-attestation* 2>/dev/null
}
