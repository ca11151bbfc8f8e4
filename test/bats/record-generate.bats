#!/usr/bin/env bats
# seccomp-attest record generate: a least-privilege profile from a recording,
# run back under runc, compared with Docker's default, and attested.
#
# The recording is written by hand (write_recording): the syscalls a busybox
# shell workload makes, as strace -f of `runc run` (runc 1.1.5, this rootfs)
# showed them from runc init's seccomp load on. The recorder's own tests
# (record.bats) do the same with recordings it makes.

load helpers

HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}
RECORDING_TYPE=https://seccomp-attest.dev/recording/v1
UNISTD=/usr/include/x86_64-linux-gnu/asm/unistd_64.h

# The workload: the shell writes, reads and lists, and runs the rawsyscall
# helper (here for getpid, later for the calls that must be denied).
WORKLOAD=(sh -c 'echo hello >/tmp/f && cat /tmp/f && ls / >/dev/null && sleep 0 && rawsyscall 39')

# What it calls after runc init loads the filter: runc init's tail (its Go
# runtime's threads included; openat2, statx and fstat are runc 1.5.3's),
# then busybox sh, cat, ls, sleep and the static rawsyscall. clone is the shell's fork (CLONE_CHILD_CLEARTID|
# CLONE_CHILD_SETTID|SIGCHLD = 0x1200011), with its flags recorded as a
# recorder records them.
WORKLOAD_SYSCALLS=(
	futex close openat write getpid fstatfs getdents64 epoll_ctl execve nanosleep sched_yield epoll_pwait exit
	brk arch_prctl set_tid_address set_robust_list rseq prlimit64 readlink getuid getrandom mprotect
	rt_sigaction rt_sigreturn uname getcwd getppid newfstatat fcntl dup2 clone wait4 prctl getsockopt
	exit_group sendfile ioctl read clock_nanosleep openat2 statx fstat
)

setup() {
	[ "$(uname -m)" = x86_64 ] || skip "the hand-written recording is of x86_64 syscalls"
	[ -f "$UNISTD" ] || skip "no $UNISTD (linux-libc-dev) to number the syscalls"
	keys=$BATS_TEST_TMPDIR/keys
}

# nr NAME: the x86_64 number of a syscall.
nr() {
	awk -v n="__NR_$1" '$1 == "#define" && $2 == n { print $3 }' "$UNISTD"
}

# write_recording FILE: the workload's recording.
write_recording() {
	local entries=() n num
	for n in "${WORKLOAD_SYSCALLS[@]}"; do
		num=$(nr "$n")
		[ -n "$num" ] || { echo "no number for $n" >&2; return 1; }
		if [ "$n" = clone ]; then
			entries+=("\"$num\": {\"count\": 2, \"args\": {\"0\": [18874385]}}")
		else
			entries+=("\"$num\": {\"count\": 1}")
		fi
	done
	jq -n --argjson calls "{$(
		IFS=,
		echo "${entries[*]}"
	)}" --args '{container: "busybox-sh", runtime: "runc", image: "seccomp-attest test rootfs (busybox)",
		command: $ARGS.positional, started: "2026-12-03T10:00:00Z", ended: "2026-12-03T10:00:01Z",
		recorder: "hand-written from strace (record-generate.bats)", complete: true,
		arches: {x86_64: {syscalls: $calls}}}' "${WORKLOAD[@]}" >"$1"
}

# bundle_with DIR PROFILE ARGS...: a busybox bundle (with rawsyscall) under
# the OCI profile PROFILE, writable root.
bundle_with() {
	local dir=$1 profile=$2
	shift 2
	make_bundle "$dir" "$@"
	cp "$HELPERS/rawsyscall" "$dir/rootfs/bin/"
	jq '.root.readonly = false' "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	[ "$profile" = none ] || set_seccomp "$dir" "$profile"
}

# run_fg RUNTIME DIR: run the bundle in the foreground; $status and $output.
run_fg() {
	local id
	id=$(container_name "$1")
	register_container "$1" "$id"
	run bash -c "cd '$2' && '$1' run '$id' </dev/null 2>&1"
}

@test "record generate: the profile runs the recorded workload under runc and crun and denies what it never made" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	run "$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/profile.json" "$BATS_TEST_TMPDIR/rec.json"
	echo "$output"
	[ "$status" -eq 0 ]
	p=$BATS_TEST_TMPDIR/profile.json
	jq -e '.defaultAction == "SCMP_ACT_ERRNO" and .defaultErrnoRet == 1 and .architectures == ["SCMP_ARCH_X86_64"]' "$p"
	# clone only without namespace flags.
	jq -e '[.syscalls[] | select(.names == ["clone"])][0].args == [{index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ"}]' "$p"

	# unshare(0), mount(NULL, ...) and keyctl(KEYCTL_GET_KEYRING_ID,
	# KEY_SPEC_SESSION_KEYRING): without seccomp a no-op, EFAULT and a
	# keyring id; under the generated profile EPERM.
	declare -A without=([unshare]="ret=0" [mount]="errno=14" [keyctl]="ret=")
	declare -A args=([unshare]="0" [mount]="0 0 0 0 0" [keyctl]="0 0xfffffffffffffffd 0")
	for rt in runc crun; do
		bundle_with "$BATS_TEST_TMPDIR/b-$rt" "$p" "${WORKLOAD[@]}"
		run_fg "$rt" "$BATS_TEST_TMPDIR/b-$rt"
		echo "$rt: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *hello*"ret=1"* ]]
		for call in unshare mount keyctl; do
			b=$BATS_TEST_TMPDIR/b-$rt-$call
			# shellcheck disable=SC2086
			bundle_with "$b" none rawsyscall "$(nr $call)" ${args[$call]}
			run_fg "$rt" "$b"
			echo "$rt: $call without seccomp: $output"
			[[ "$output" == *"${without[$call]}"* ]]
			set_seccomp "$b" "$p"
			run_fg "$rt" "$b"
			echo "$rt: $call under the generated profile: $output"
			[ "$status" -eq 1 ]
			[[ "$output" == *"ret=-1 errno=1 "* ]]
		done
	done
	# A number newer than every table: ENOSYS under runc (its stub), the
	# default EPERM under crun (no stub).
	declare -A newer=([runc]=38 [crun]=1)
	for rt in runc crun; do
		b=$BATS_TEST_TMPDIR/b-$rt-new
		bundle_with "$b" "$p" rawsyscall 1000
		run_fg "$rt" "$b"
		[[ "$output" == *"ret=-1 errno=${newer[$rt]} "* ]]
	done
}

@test "record generate: strictly stricter than Docker's default, scored above it, nothing for check or score to flag" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	"$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/profile.json" "$BATS_TEST_TMPDIR/rec.json"
	run "$SECCOMP_ATTEST" diff --format json builtin:docker-default "profile:$BATS_TEST_TMPDIR/profile.json"
	[ "$status" -eq 1 ] # different
	jq -e '.counts.weaker == 0 and .counts.undecided == 0 and .counts.stricter > 0' <<<"$output"
	run "$SECCOMP_ATTEST" score --format json "profile:$BATS_TEST_TMPDIR/profile.json"
	[ "$status" -eq 0 ]
	echo "$output" | jq -c '{score, baseline, findings}'
	jq -e '.baseline.source == "builtin:docker-default" and .score > .baseline.score and .baseline.delta > 0' <<<"$output"
	jq -e '(.findings // []) | length == 0' <<<"$output"
	for policy in preset:default preset:strict; do
		run "$SECCOMP_ATTEST" check --policy "$policy" "profile:$BATS_TEST_TMPDIR/profile.json"
		echo "$output"
		[ "$status" -eq 0 ]
	done
}

@test "record generate: the Docker and SPO forms load back and decide like the OCI form" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	d=$BATS_TEST_TMPDIR
	"$SECCOMP_ATTEST" record generate -o "$d/p.oci.json" "$d/rec.json"
	"$SECCOMP_ATTEST" record generate --format docker -o "$d/p.docker.json" "$d/rec.json"
	"$SECCOMP_ATTEST" record generate --format spo -o "$d/busybox-sh.yaml" "$d/rec.json"
	jq -e '.archMap == [{architecture: "SCMP_ARCH_X86_64", subArchitectures: []}]' "$d/p.docker.json"
	grep -q '^kind: SeccompProfile$' "$d/busybox-sh.yaml"
	grep -q '^  name: busybox-sh$' "$d/busybox-sh.yaml"
	for f in "$d/p.docker.json" "$d/busybox-sh.yaml"; do
		for rt in runc crun; do
			run "$SECCOMP_ATTEST" diff --runtime "$rt" "profile:$d/p.oci.json" "profile:$f"
			echo "$output"
			[ "$status" -eq 0 ]
		done
	done
}

@test "record generate: an incomplete recording is refused, or marked with --allow-incomplete" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	jq '.complete = false | .problem = "recorder killed at 10:00:00"' "$BATS_TEST_TMPDIR/rec.json" >"$BATS_TEST_TMPDIR/partial.json"
	run "$SECCOMP_ATTEST" record generate -o "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/partial.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"incomplete (recorder killed at 10:00:00)"*"--allow-incomplete"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/p.json" ]
	# Merged with a complete one: still incomplete.
	run "$SECCOMP_ATTEST" record generate "$BATS_TEST_TMPDIR/rec.json" "$BATS_TEST_TMPDIR/partial.json"
	[ "$status" -eq 2 ]
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	run "$SECCOMP_ATTEST" record generate --allow-incomplete --format spo --attest --key "$keys/signing.key" \
		-o "$BATS_TEST_TMPDIR/p.yaml" "$BATS_TEST_TMPDIR/partial.json"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"INCOMPLETE"* ]]
	grep -q 'seccomp-attest.dev/incomplete-recording: recorder killed at 10:00:00' "$BATS_TEST_TMPDIR/p.yaml"
	jq -r .payload "$BATS_TEST_TMPDIR/p.yaml.intoto.jsonl" | base64 -d |
		jq -e '.predicate.profile.complete == false and .predicate.recordings[0].complete == false'
}

@test "record generate --base: only what Docker's default does not allow" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	# The workload also made a user namespace and a vsock socket.
	jq --arg u "$(nr unshare)" --arg s "$(nr socket)" \
		'.arches.x86_64.syscalls[$u] = {count: 1} | .arches.x86_64.syscalls[$s] = {count: 1, args: {"0": [40], "1": [1], "2": [0]}}' \
		"$BATS_TEST_TMPDIR/rec.json" >"$BATS_TEST_TMPDIR/rec2.json"
	run "$SECCOMP_ATTEST" record generate --base builtin:docker-default -o "$BATS_TEST_TMPDIR/extra.json" "$BATS_TEST_TMPDIR/rec2.json"
	echo "$output"
	[ "$status" -eq 0 ]
	jq -c .syscalls "$BATS_TEST_TMPDIR/extra.json"
	jq -e '[.syscalls[].names[]] | sort == ["socket", "unshare"]' "$BATS_TEST_TMPDIR/extra.json"
	jq -e '[.syscalls[] | select(.names == ["socket"])][0].args[0] == {index: 0, value: 40, op: "SCMP_CMP_EQ"}' "$BATS_TEST_TMPDIR/extra.json"
}

@test "record generate --attest: verify and cosign accept it, a changed profile is caught, and a container under the profile is attested with the same seccompDigest" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	p=$BATS_TEST_TMPDIR/profile.json
	run "$SECCOMP_ATTEST" record generate --attest --key "$keys/signing.key" -o "$p" "$BATS_TEST_TMPDIR/rec.json"
	echo "$output"
	[ "$status" -eq 0 ]
	att=$p.intoto.jsonl
	pred=$(jq -r .payload "$att" | base64 -d | jq .predicate)
	jq -e --arg d "$(sha256sum <"$p" | cut -d' ' -f1)" --arg r "$(sha256sum <"$BATS_TEST_TMPDIR/rec.json" | cut -d' ' -f1)" \
		'.profile.digest == $d and .profile.format == "oci" and .profile.complete and
		 .recordings[0].digest == $r and .recordings[0].container == "busybox-sh" and
		 .recordings[0].command[0] == "sh" and .recordings[0].started == "2026-12-03T10:00:00Z" and
		 (.recordings[0].recorder | length > 0) and .tool.name == "seccomp-attest"' <<<"$pred"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$att"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"verdict recording"* ]]
	if command -v cosign >/dev/null; then
		cosign verify-blob-attestation --key "$keys/signing.pub" --signature "$att" \
			--type "$RECORDING_TYPE" --insecure-ignore-tlog "$p"
	fi

	# A container started with the profile, attested by the hook: its
	# intended.seccompDigest is the recording's profile.seccompDigest.
	store=$BATS_TEST_TMPDIR/store
	cfg=$BATS_TEST_TMPDIR/config.yaml
	printf 'store: %s\nkey: %s\nlog: %s\nmode: enforce\n' "$store" "$keys/signing.key" "$BATS_TEST_TMPDIR/hook.log" >"$cfg"
	b=$BATS_TEST_TMPDIR/bundle
	bundle_with "$b" "$p" sh -c 'echo hello >/tmp/f && sleep 1000'
	jq --arg h "$HOOK" --arg c "$cfg" --arg s "--socket=$BATS_TEST_TMPDIR/no-daemon.sock" \
		'.hooks = {poststart: [{path: $h, args: ["seccomp-attest-hook", $s, "--config", $c, "poststart"], timeout: 10}]}' \
		"$b/config.json" >"$b/config.json.new"
	mv "$b/config.json.new" "$b/config.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	cpred=$(jq -r .payload "$b/seccomp-attestation.intoto.jsonl" | base64 -d | jq .predicate)
	jq -e --arg d "$(jq -r .profile.seccompDigest <<<"$pred")" '.intended.seccompDigest == $d and .verdict.result == "pass"' <<<"$cpred"
	runc delete -f "$id"

	# The profile changed after signing: verify and cosign refuse it.
	jq '.syscalls[0].names += ["unshare"]' "$p" >"$p.new"
	mv "$p.new" "$p"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$att"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the profile was changed"* ]]
	if command -v cosign >/dev/null; then
		run cosign verify-blob-attestation --key "$keys/signing.pub" --signature "$att" \
			--type "$RECORDING_TYPE" --insecure-ignore-tlog "$p"
		[ "$status" -ne 0 ]
	fi
}

@test "record generate: the Docker form runs the workload under Docker and denies what it never made" {
	timeout 20 "$DOCKER" info >/dev/null 2>&1 || skip "no Docker daemon"
	"$DOCKER" image inspect bb:latest >/dev/null 2>&1 || skip "no bb:latest image (scripts/setup-host.sh loads it)"
	# Docker runs without noNewPrivileges: runc loads the filter before it
	# drops privileges, so its tail has these too (strace of runc 1.1.5).
	WORKLOAD_SYSCALLS+=(capget capset chdir setgid setgroups setuid faccessat2)
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	p=$BATS_TEST_TMPDIR/profile.docker.json
	"$SECCOMP_ATTEST" record generate --format docker -o "$p" "$BATS_TEST_TMPDIR/rec.json"
	name=$(container_name docker)
	register_container docker "$name"
	run "$DOCKER" run --name "$name" --network none --security-opt "seccomp=$p" bb:latest \
		sh -c 'echo hello >/tmp/f && cat /tmp/f && ls / >/dev/null && echo done'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'hello\ndone')" ]
	# setpriority was never recorded: renice works without the profile,
	# not under it.
	name=$(container_name docker-renice)
	register_container docker "$name"
	run "$DOCKER" run --name "$name" --network none bb:latest busybox renice -n 1 -p 1
	[ "$status" -eq 0 ]
	name=$(container_name docker-renice-profile)
	register_container docker "$name"
	run "$DOCKER" run --name "$name" --network none --security-opt "seccomp=$p" bb:latest busybox renice -n 1 -p 1
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "record generate: refuses to write the profile or its attestation over a recording or over each other" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	cp "$BATS_TEST_TMPDIR/rec.json" "$BATS_TEST_TMPDIR/rec.orig"
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	cd "$BATS_TEST_TMPDIR"
	run "$SECCOMP_ATTEST" record generate -o rec.json rec.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"rec.json is also a recording to read"* ]]
	run "$SECCOMP_ATTEST" record generate --attest --key "$keys/signing.key" -o p.json --attest-out "$BATS_TEST_TMPDIR/rec.json" rec.json
	[ "$status" -eq 2 ]
	cmp rec.json rec.orig
	# The attestation over its own subject would never verify.
	run "$SECCOMP_ATTEST" record generate --attest --key "$keys/signing.key" -o p.json --attest-out ./p.json rec.json
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the attestation would replace the profile it signs"* ]]
	[ ! -e p.json ]
}

@test "record generate: socket's argument rule under runc: the recorded values run; other values, and the recorded low 32 bits with other high bits, get EPERM" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	# The workload also opened an AF_UNIX stream socket: socket(1, 1, 0).
	jq --arg s "$(nr socket)" '.arches.x86_64.syscalls[$s] = {count: 1, args: {"0": [1], "1": [1], "2": [0]}}' \
		"$BATS_TEST_TMPDIR/rec.json" >"$BATS_TEST_TMPDIR/rec2.json"
	p=$BATS_TEST_TMPDIR/profile.json
	"$SECCOMP_ATTEST" record generate -o "$p" "$BATS_TEST_TMPDIR/rec2.json"
	# args: the call; the kernel's answer without seccomp; under the profile.
	declare -A want=(
		["1 1 0"]="domain=1|domain=1"
		["0x100000001 1 0"]="domain=1|errno=1 "
		["0xffffffff00000001 1 0"]="domain=1|errno=1 "
		["2 1 0"]="domain=2|errno=1 "
		["1 0x100000001 0"]="domain=1|errno=1 "
	)
	for args in "${!want[@]}"; do
		b=$BATS_TEST_TMPDIR/b-$RANDOM
		# shellcheck disable=SC2086
		bundle_with "$b" none rawsyscall "$(nr socket)" $args
		run_fg runc "$b"
		echo "socket($args) without seccomp: $output"
		[[ "$output" == *"${want[$args]%%|*}"* ]]
		set_seccomp "$b" "$p"
		run_fg runc "$b"
		echo "socket($args) under the profile: $output"
		[[ "$output" == *"${want[$args]#*|}"* ]]
	done
}

@test "record generate --attest: an attestation larger than verify reads is refused, and nothing is written" {
	write_recording "$BATS_TEST_TMPDIR/rec.json"
	# 7 MB of problem: twice in the predicate (the recording's and the
	# INCOMPLETE note), then base64 in the envelope.
	jq '.complete = false | .problem = ("x" * 7000000)' "$BATS_TEST_TMPDIR/rec.json" >"$BATS_TEST_TMPDIR/big.json"
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	run "$SECCOMP_ATTEST" record generate --allow-incomplete --attest --key "$keys/signing.key" -o "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/big.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"more than verify reads (16 MiB)"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/p.json" ]
	[ ! -e "$BATS_TEST_TMPDIR/p.json.intoto.jsonl" ]
}
