#!/usr/bin/env bats
# Attestations of live containers: seccomp-attest keygen/attest/verify, and
# cosign verifying the same files offline as an auditor would.

load helpers

PREDICATE_TYPE=https://seccomp-attest.dev/attestation/v1

# attested_container: a runc container under Docker's default profile and a
# key pair; sets b (bundle), pid, keys, store.
attested_container() {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	set_docker_caps "$b"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	has_filters "$pid"
	keys=$BATS_TEST_TMPDIR/keys
	store=$BATS_TEST_TMPDIR/store
	"$SECCOMP_ATTEST" keygen --type "${1:-ecdsa-p256}" --out "$keys"
}

need_cosign() {
	command -v cosign >/dev/null ||
		skip "cosign is not installed (CI installs it: scripts/install-cosign.sh)"
}

cosign_verify() { # SIGNATURE BLOB [KEY]
	cosign verify-blob-attestation --key "${3:-$keys/signing.pub}" --signature "$1" \
		--type "$PREDICATE_TYPE" --insecure-ignore-tlog "$2"
}

@test "attest: keygen writes a 0600 private key and refuses to overwrite" {
	k=$BATS_TEST_TMPDIR/k
	run "$SECCOMP_ATTEST" keygen --out "$k"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$k/signing.key")" = 600 ]
	grep -q 'BEGIN PRIVATE KEY' "$k/signing.key"
	grep -q 'BEGIN PUBLIC KEY' "$k/signing.pub"
	before=$(sha256sum <"$k/signing.key")
	run "$SECCOMP_ATTEST" keygen --out "$k"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to overwrite"* ]]
	[ "$(sha256sum <"$k/signing.key")" = "$before" ]
	# A key that others may read is refused, naming path and mode.
	chmod 640 "$k/signing.key"
	run "$SECCOMP_ATTEST" attest pid:$$ --key "$k/signing.key" --store "$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$k/signing.key has mode 0640"* ]]
}

@test "attest: runc container, verified by seccomp-attest and by cosign (ecdsa-p256)" {
	attested_container ecdsa-p256
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" \
		--bundle "$b" --id "$id" --runtime runc
	[ "$status" -eq 0 ]
	f=$store/00000001-$id.intoto.jsonl
	[ -f "$f" ]
	cmp "$f" "$b/seccomp-attestation.intoto.jsonl"

	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$f"
	[ "$status" -eq 0 ]
	[[ "$output" == "OK "*"container $id"* ]]

	# The filter subject is the filters the kernel reports, concatenated.
	"$SECCOMP_ATTEST" dump --out "$BATS_TEST_TMPDIR/bpf" "$pid" >/dev/null
	want=$(cat "$BATS_TEST_TMPDIR"/bpf/[0-9]*.bpf | sha256sum | cut -d' ' -f1)
	got=$(jq -r .payload "$f" | base64 -d | jq -r --arg n "seccomp-filters/$pid" '.subject[] | select(.name == $n) | .digest.sha256')
	[ "$got" = "$want" ]

	need_cosign
	run cosign_verify "$f" "$b/config.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Verified OK"* ]]
	# Another blob is not a subject.
	echo '{}' >"$BATS_TEST_TMPDIR/other.json"
	run cosign_verify "$f" "$BATS_TEST_TMPDIR/other.json"
	[ "$status" -ne 0 ]
}

@test "attest: ed25519 attestation verified by cosign" {
	attested_container ed25519
	"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --bundle "$b" --id "$id"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$b/seccomp-attestation.intoto.jsonl"
	[ "$status" -eq 0 ]
	need_cosign
	run cosign_verify "$b/seccomp-attestation.intoto.jsonl" "$b/config.json"
	[ "$status" -eq 0 ]
}

@test "attest: a changed payload or another key fails both verifiers" {
	attested_container
	"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --bundle "$b" --id "$id"
	f=$b/seccomp-attestation.intoto.jsonl
	bad=$BATS_TEST_TMPDIR/bad.intoto.jsonl
	# Claim the container runs no filter at all, keeping the signature.
	payload=$(jq -r .payload "$f" | base64 -d | jq -c '.predicate.effective.threads[0].filters = []' | base64 -w0)
	jq -c --arg p "$payload" '.payload = $p' "$f" >"$bad"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$bad"
	[ "$status" -eq 3 ]
	[[ "$output" == *"signature does not verify"* ]]
	# A file that is no evidence is never a whole chain.
	[[ "$output" == *"chain: not checked (no valid attestation)"* ]]
	[[ "$output" != *"chain: ok"* ]]

	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/other" >/dev/null
	run "$SECCOMP_ATTEST" verify --key "$BATS_TEST_TMPDIR/other/signing.pub" "$f"
	[ "$status" -eq 3 ]

	need_cosign
	run cosign_verify "$bad" "$b/config.json"
	[ "$status" -ne 0 ]
	run cosign_verify "$f" "$b/config.json" "$BATS_TEST_TMPDIR/other/signing.pub"
	[ "$status" -ne 0 ]
}

@test "attest: the host chain reveals a deleted or replaced attestation" {
	attested_container
	for i in 1 2 3; do
		"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --id "$id-$i" >/dev/null
	done
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	[ "$status" -eq 0 ]
	[[ "$output" == *"chain: ok (3 attestations)"* ]]

	# Replace the second by a fresh, validly signed attestation.
	mv "$store/00000002-$id-2.intoto.jsonl" "$BATS_TEST_TMPDIR/second"
	s2=$BATS_TEST_TMPDIR/store2
	for i in 1 2; do
		"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$s2" --id "$id-x" >/dev/null
	done
	cp "$s2/00000002-$id-x.intoto.jsonl" "$store/"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store" --format json
	[ "$status" -eq 3 ]
	[ "$(jq -r .valid <<<"$output")" = false ]
	[[ "$(jq -r '.chain.problems[]' <<<"$output")" == *"replaced or altered"* ]]

	# Delete it instead.
	rm "$store/00000002-$id-x.intoto.jsonl"
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --store "$store"
	[ "$status" -eq 3 ]
	[[ "$output" == *"sequence 2 is missing"* ]]
}

@test "attest: verify exit status 2 for usage and I/O errors" {
	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/k" >/dev/null
	run "$SECCOMP_ATTEST" verify --key "$BATS_TEST_TMPDIR/k/signing.pub" "$BATS_TEST_TMPDIR/missing.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.jsonl"* ]]
	run "$SECCOMP_ATTEST" verify "$BATS_TEST_TMPDIR/missing.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--key is required"* ]]
}

@test "attest: --bundle and --policy record intended, diff, policy digest, verdict and score" {
	attested_container
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" \
		--bundle "$b" --id "$id" --runtime runc
	echo "$output"
	[ "$status" -eq 0 ]
	p=$(jq -r .payload "$b/seccomp-attestation.intoto.jsonl" | base64 -d | jq .predicate)
	[ "$(jq -r .intended.source <<<"$p")" = "$b/config.json" ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]
	[ "$(jq -r .policy.mode <<<"$p")" = enforce ]
	want=$("$SECCOMP_ATTEST" score --format json "pid:$pid" | jq .score)
	[ "$(jq .score <<<"$p")" = "$want" ]

	# The strict preset denies ptrace: a failing verdict, exit 1, with the
	# reason, and verify says so too: intact evidence of a failed check is
	# exit 1, not the 3 of tampering.
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" \
		--bundle "$b" --id "$id" --runtime runc --policy preset:strict --out "$BATS_TEST_TMPDIR/strict.jsonl"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"verdict: fail: denySyscalls"*"ptrace"* ]]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" "$BATS_TEST_TMPDIR/strict.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"verdict fail"* ]]

	# verify --policy FILE: the verdict must come from that file.
	printf 'allowUnconfined: false\n' >"$BATS_TEST_TMPDIR/p.yaml"
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --id "$id" \
		--policy "$BATS_TEST_TMPDIR/p.yaml" --out "$BATS_TEST_TMPDIR/p.jsonl"
	[ "$status" -eq 0 ]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --policy "$BATS_TEST_TMPDIR/p.yaml" "$BATS_TEST_TMPDIR/p.jsonl"
	[ "$status" -eq 0 ]
	run "$SECCOMP_ATTEST" verify --key "$keys/signing.pub" --policy "$BATS_TEST_TMPDIR/p.yaml" "$BATS_TEST_TMPDIR/strict.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unmet: policy digest is"* ]]
}

@test "attest container:ID finds runc, Docker and podman (crun) containers, their bundle and runtime" {
	attested_container
	run "$SECCOMP_ATTEST" attest "container:$id" --key "$keys/signing.key" --store "$store"
	echo "$output"
	[ "$status" -eq 0 ]
	p=$(jq -r .payload "$b/seccomp-attestation.intoto.jsonl" | base64 -d | jq .predicate)
	[ "$(jq -r .container.id <<<"$p")" = "$id" ]
	[ "$(jq -r .container.pid <<<"$p")" = "$pid" ]
	[ "$(jq -r .container.runtime.name <<<"$p")" = runc ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]

	# Docker, by the short id docker ps prints.
	name=$(container_name docker)
	register_container docker "$name"
	cid=$("$DOCKER" run -d --network none --name "$name" bb:latest sleep 1000)
	run "$SECCOMP_ATTEST" attest "container:${cid:0:12}" --key "$keys/signing.key" --store "$store"
	echo "$output"
	[ "$status" -eq 0 ]
	f=$(ls "$store"/*-"$cid".intoto.jsonl)
	p=$(jq -r .payload "$f" | base64 -d | jq .predicate)
	[ "$(jq -r .container.pid <<<"$p")" = "$("$DOCKER" inspect -f '{{.State.Pid}}' "$cid")" ]
	[[ "$(jq -r .container.bundle <<<"$p")" == */moby/"$cid" ]]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]
	[ "$(jq -r .verdict.result <<<"$p")" = pass ]

	# podman on crun: crun's state, crun's compilation.
	name=$(container_name podman)
	register_container podman "$name"
	podman "${PODMAN_FLAGS[@]}" --runtime crun run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" localhost/bb:latest sleep 1000
	pcid=$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.Id}}' "$name")
	wait_until has_filters "$(podman "${PODMAN_FLAGS[@]}" inspect --format '{{.State.Pid}}' "$name")"
	run "$SECCOMP_ATTEST" attest "container:$pcid" --key "$keys/signing.key" --store "$store"
	echo "$output"
	[ "$status" -eq 0 ]
	p=$(jq -r .payload "$(ls "$store"/*-"$pcid".intoto.jsonl)" | base64 -d | jq .predicate)
	[ "$(jq -r .container.runtime.name <<<"$p")" = crun ]
	[ "$(jq -r '.diff.groups[0].equivalent' <<<"$p")" = true ]

	run "$SECCOMP_ATTEST" attest container:no-such-container --key "$keys/signing.key" --store "$store"
	[ "$status" -eq 2 ]
	[[ "$output" == *"not found in the state of"* ]]
}
