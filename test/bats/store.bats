#!/usr/bin/env bats
# The host store as an intruder finds it: attestations deleted from its end
# or its middle, its head rolled back, the whole store rewritten with the
# host key. verify must say the evidence is incomplete (exit 3) with and
# without a checkpoint kept elsewhere, the next append must record the
# break instead of reusing sequence numbers, and a checkpoint taken before
# the damage must reveal it even after new appends.

load helpers

CHECKPOINT_TYPE=https://seccomp-attest.dev/checkpoint/v1
HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}

setup() {
	keys=$BATS_TEST_TMPDIR/keys
	store=$BATS_TEST_TMPDIR/store
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
	# The test's own shell is the attested process: no container needed
	# to exercise the store, and a policy that lets it pass.
	printf 'allowUnconfined: true\n' >"$BATS_TEST_TMPDIR/policy.yaml"
}

append() { # ID...: one attestation per id
	local id
	for id in "$@"; do
		"$SECCOMP_ATTEST" attest "pid:$$" --key "$keys/signing.key" --store "$store" \
			--policy "$BATS_TEST_TMPDIR/policy.yaml" --id "$id" >/dev/null 2>&1
	done
}

verify_store() { # [ARGS...]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store" "$@"
	echo "$output"
}

seq_of() { # FILE: the chain sequence inside
	jq -r .payload "$1" | base64 -d | jq -r .predicate.chain.sequence
}

@test "store: deleting the newest attestation is reported, and the next append records the break" {
	append c1 c2 c3 c4
	verify_store
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain: ok (4 attestations)"* ]]

	rm "$store/00000004-c4.intoto.jsonl"
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"the store's head (.lock) records sequence 4"*"truncated since"* ]]
	[[ "$output" == *"the store's checkpoint records sequence 4"*"truncated since"* ]]

	# The next append neither reuses 4 nor chains silently on 3.
	append c5
	[ ! -e "$store/00000004-c5.intoto.jsonl" ]
	[ "$(seq_of "$store/00000005-store-break.intoto.jsonl")" = 5 ]
	[ "$(seq_of "$store/00000006-c5.intoto.jsonl")" = 6 ]
	brk=$(jq -r .payload "$store/00000005-store-break.intoto.jsonl" | base64 -d | jq -c .predicate.break)
	echo "$brk"
	[ "$(jq -r .expected.sequence <<<"$brk")" = 4 ]
	[ "$(jq -r .found.sequence <<<"$brk")" = 3 ]
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"BRK "*"00000005-store-break"* ]]
	[[ "$output" == *"records a break of the store"*"is missing"* ]]
	[[ "$output" == *"sequence 4 is missing"* ]]
}

@test "store: deleting the two newest, or a middle one, is reported before and after the next append" {
	append c1 c2 c3 c4
	rm "$store/00000004-c4.intoto.jsonl" "$store/00000003-c3.intoto.jsonl"
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"records sequence 4"*"the store ends at sequence 2: truncated since"* ]]
	append c5
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"records a break of the store"* ]]
	[[ "$output" == *"sequences 3..4 are missing"* ]]
	[ -e "$store/00000006-c5.intoto.jsonl" ]

	rm -rf "$store"
	append c1 c2 c3
	rm "$store/00000002-c2.intoto.jsonl"
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"sequence 2 is missing"* ]]
	# The head is intact: the next append chains on it, no break.
	append c4
	[ -e "$store/00000004-c4.intoto.jsonl" ]
	! ls "$store" | grep -q store-break
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"sequence 2 is missing"* ]]
}

@test "store: a head rolled back by hand is older than the store's signed checkpoint: the next append records the break" {
	append c1 c2 c3
	rm "$store/00000003-c3.intoto.jsonl"
	f2=00000002-c2.intoto.jsonl
	jq -nc --arg f "$f2" --arg d "$(sha256sum <"$store/$f2" | cut -d' ' -f1)" \
		--arg b "$(cat /proc/sys/kernel/random/boot_id)" \
		'{sequence: 2, file: $f, sha256: $d, boot: $b}' >"$store/.lock"
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"the store's checkpoint records sequence 3"*"truncated since"* ]]
	append c4
	# Sequence 3 is not reused: the break takes 4, the attestation 5.
	[ -e "$store/00000004-store-break.intoto.jsonl" ]
	[ -e "$store/00000005-c4.intoto.jsonl" ]
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"records a break of the store: the store's signed checkpoint records sequence 3"*"newer than its head"* ]]
	# A .lock that is a FIFO neither hangs verify nor lets an append by.
	rm "$store/.lock"
	mkfifo "$store/.lock"
	run timeout 20 "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	[ "$status" -eq 3 ]
	[[ "$output" == *".lock is not a regular file"* ]]
	run "$SECCOMP_ATTEST" attest "pid:$$" --key "$keys/signing.key" --store "$store" --policy "$BATS_TEST_TMPDIR/policy.yaml" --id c5
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a regular file"* ]]
}

@test "store: a checkpoint kept elsewhere reveals a store rolled back by hand, even after new appends" {
	append c1 c2
	cp "$store/checkpoint.intoto.jsonl" "$BATS_TEST_TMPDIR/old-checkpoint"
	append c3
	cp "$store/checkpoint.intoto.jsonl" "$BATS_TEST_TMPDIR/kept.intoto.jsonl"
	verify_store --checkpoint "$BATS_TEST_TMPDIR/kept.intoto.jsonl"
	[ "$status" -eq 0 ]

	# An intruder who knows the format deletes the newest attestation,
	# rolls the head back to the one before it and puts back the
	# checkpoint of that time (signed, so it verifies).
	rm "$store/00000003-c3.intoto.jsonl"
	cp "$BATS_TEST_TMPDIR/old-checkpoint" "$store/checkpoint.intoto.jsonl"
	f2=00000002-c2.intoto.jsonl
	jq -nc --arg f "$f2" --arg d "$(sha256sum <"$store/$f2" | cut -d' ' -f1)" \
		--arg b "$(cat /proc/sys/kernel/random/boot_id)" \
		'{sequence: 2, file: $f, sha256: $d, boot: $b}' >"$store/.lock"
	append c4 c5
	# The store itself looks whole now...
	verify_store
	[ "$status" -eq 0 ]
	# ...but not to whoever kept the checkpoint.
	verify_store --checkpoint "$BATS_TEST_TMPDIR/kept.intoto.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the checkpoint of "*"records sequence 3 (00000003-c3.intoto.jsonl"*"rewritten or forked since"* ]]

	# Rewritten from scratch with the host key: the same.
	rm -rf "$store"
	append x1 x2
	verify_store --checkpoint "$BATS_TEST_TMPDIR/kept.intoto.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"the store ends at sequence 2: truncated since"* ]]

	# Deleting the checkpoint instead is seen by the store itself.
	rm "$store/checkpoint.intoto.jsonl"
	append x3
	verify_store
	[ "$status" -eq 3 ]
	[[ "$output" == *"records a break of the store: the store has no signed checkpoint"* ]]
}

@test "store: checkpoints are signed by the host key; cosign verifies one against the attestation it names" {
	append c1 c2
	cp="$store/checkpoint.intoto.jsonl"
	[ "$(jq -r .payload "$cp" | base64 -d | jq -r .predicateType)" = "$CHECKPOINT_TYPE" ]
	[ "$(jq -r .payload "$cp" | base64 -d | jq -r .predicate.sequence)" = 2 ]
	# A checkpoint that does not verify is refused as such (exit 2).
	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/other" >/dev/null
	run "$SECCOMP_ATTEST" verify --key "$BATS_TEST_TMPDIR/other/signing.pub" --store "$store" --checkpoint "$cp"
	[ "$status" -eq 2 ]
	[[ "$output" == *"checkpoint"*"signature"* ]]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store" --checkpoint "$store/00000001-c1.intoto.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a checkpoint"* ]]

	command -v cosign >/dev/null || skip "cosign is not installed (CI installs it: scripts/install-cosign.sh)"
	run cosign verify-blob-attestation --key "$keys/signing.pub" --signature "$cp" \
		--type "$CHECKPOINT_TYPE" --insecure-ignore-tlog "$store/00000002-c2.intoto.jsonl"
	echo "$output"
	[ "$status" -eq 0 ]
	run cosign verify-blob-attestation --key "$keys/signing.pub" --signature "$cp" \
		--type "$CHECKPOINT_TYPE" --insecure-ignore-tlog "$store/00000001-c1.intoto.jsonl"
	[ "$status" -ne 0 ]
}

@test "store: the checkpoint sink gets every checkpoint off the host; one that fails or hangs delays nothing past its timeout" {
	sinkdir=$BATS_TEST_TMPDIR/witness
	mkdir -p "$sinkdir"
	cat >"$BATS_TEST_TMPDIR/sink" <<-EOS
	#!/bin/sh
	cat >"$sinkdir/\$(date +%s%N).intoto.jsonl"
	EOS
	chmod +x "$BATS_TEST_TMPDIR/sink"
	printf 'store: %s\nkey: %s\nlog: %s\npolicy: %s\ncheckpointSink:\n  exec: [%s]\n' "$store" "$keys/signing.key" \
		"$BATS_TEST_TMPDIR/log" "$BATS_TEST_TMPDIR/policy.yaml" "$BATS_TEST_TMPDIR/sink" >"$BATS_TEST_TMPDIR/config.yaml"
	# Through the hook, as containers get it: three containers' ends.
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" true
	stop_state() { jq -nc --arg b "$b" --arg id "sink-$1" '{ociVersion: "1.0.2", id: $id, status: "stopped", pid: 0, bundle: $b}'; }
	for i in 1 2 3; do
		stop_state "$i" | "$HOOK" --socket="$BATS_TEST_TMPDIR/none.sock" --config "$BATS_TEST_TMPDIR/config.yaml" poststop
	done
	[ "$(ls "$sinkdir" | wc -l)" = 3 ]
	newest=$(ls "$sinkdir" | sort | tail -1)
	cmp "$sinkdir/$newest" "$store/checkpoint.intoto.jsonl"
	verify_store --checkpoint "$sinkdir/$newest"
	[ "$status" -eq 0 ]

	# A sink that hangs is given up after its timeout (the hook's deadline
	# would otherwise end it and fail), the record is kept, and the
	# failure is in the operators' log.
	printf '#!/bin/sh\nsleep 30\n' >"$BATS_TEST_TMPDIR/sink"
	sed -i 's/^  exec:.*/&\n  timeout: 300ms/' "$BATS_TEST_TMPDIR/config.yaml"
	stop_state 4 | "$HOOK" --socket="$BATS_TEST_TMPDIR/none.sock" --config "$BATS_TEST_TMPDIR/config.yaml" poststop
	ls "$store" | grep -q -- '-sink-4.intoto.jsonl'
	grep 'checkpoint sink' "$BATS_TEST_TMPDIR/log"
	grep -q 'checkpoint sink.*no answer within 300ms' "$BATS_TEST_TMPDIR/log"
	verify_store
	[ "$status" -eq 0 ]
}

@test "store: records waiting in the spool, and files set aside there, are named by verify --store and report: a whole chain says nothing of them" {
	append c1
	mkdir -m 700 "$store/spool"
	echo '{}' >"$store/spool/record-00000000000000000001-aaaa.json"
	echo '{' >"$store/spool/record-00000000000000000002-bbbb.json.bad"
	verify_store
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain: ok (1 attestations)"* ]]
	[[ "$output" == *"spool: 1 handed-off record(s) NOT YET IN THE CHAIN"*"record-00000000000000000001-aaaa.json"* ]]
	[[ "$output" == *"spool: 1 file(s) set aside"*"record-00000000000000000002-bbbb.json.bad"* ]]
	verify_store --format json
	[ "$(jq -r '.spool.waiting | length' <<<"$output")" = 1 ]
	[ "$(jq -r '.spool.setAside[0]' <<<"$output")" = record-00000000000000000002-bbbb.json.bad ]
	"$SECCOMP_ATTEST" report --store "$store" --key "$keys/signing.pub" --html "$BATS_TEST_TMPDIR/r.html"
	grep -q 'Store chain: unbroken' "$BATS_TEST_TMPDIR/r.html"
	grep -q 'Not yet in the chain:</b> 1 record' "$BATS_TEST_TMPDIR/r.html"
	grep -q 'record-00000000000000000002-bbbb.json.bad' "$BATS_TEST_TMPDIR/r.html"
}
