#!/usr/bin/env bats
# seccomp-attest ps on live containers: which container a process belongs
# to, its seccomp state, the effective digest and the store's verdict.

load helpers

# ps_json [ARGS...]: ps --format json into $output; fails on exit != 0.
ps_json() {
	run "$SECCOMP_ATTEST" ps --format json "$@"
	[ "$status" -eq 0 ]
}

# row PID: the JSON row of PID in $output ("null" if not listed).
row() {
	jq -c --argjson p "$1" '[.processes[] | select(.pid == $p)][0]' <<<"$output"
}

@test "ps: runc container with a stacked filter: init, child, digest, attestation verdict" {
	b=$BATS_TEST_TMPDIR/bundle
	# The init (sh) runs under Docker's profile; its child adds one filter.
	make_bundle "$b" sh -c 'seccomp-stack -n 1 & exec sleep 1000'
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	wait_until grep -q ready "$b/out"
	child=$(pgrep -P "$pid" seccomp-stack)
	[ -n "$child" ]
	store=$BATS_TEST_TMPDIR/store

	ps_json --store "$store"
	r=$(row "$pid")
	[ "$(jq -r .container.id <<<"$r")" = "$id" ]
	[ "$(jq -r .container.runtime <<<"$r")" = runc ]
	[ "$(jq -r .container.bundle <<<"$r")" = "$b" ]
	[ "$(jq -r .container.init <<<"$r")" = true ]
	[ "$(jq -r .mode <<<"$r")" = filter ]
	[ "$(jq -r .filters <<<"$r")" = "$(status_field "$pid" Seccomp_filters)" ]
	[ "$(jq -r .attestation <<<"$r")" = null ]
	# The digest is that of the filters the kernel reports, concatenated.
	"$SECCOMP_ATTEST" dump --out "$BATS_TEST_TMPDIR/bpf" "$pid" >/dev/null
	want=$(cat "$BATS_TEST_TMPDIR"/bpf/[0-9]*.bpf | sha256sum | cut -d' ' -f1)
	[ "$(jq -r .digest <<<"$r")" = "$want" ]
	# Only container inits by default: the child is not listed.
	[ "$(row "$child")" = null ]

	ps_json --store "$store" --all
	c=$(row "$child")
	[ "$(jq -r .container.id <<<"$c")" = "$id" ]
	[ "$(jq -r .container.init <<<"$c")" = false ]
	[ "$(jq -r .filters <<<"$c")" = "$(($(status_field "$pid" Seccomp_filters) + 1))" ]
	[ "$(jq -r .digest <<<"$c")" != "$want" ]
	# Every process of the host is listed, ps itself included.
	[ "$(jq '.processes | length' <<<"$output")" -gt 20 ]
	[ "$(row 1)" != null ]

	# Attested: the verdict shows, and the attested filters are current.
	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/keys" >/dev/null
	"$SECCOMP_ATTEST" attest "pid:$pid" --key "$BATS_TEST_TMPDIR/keys/signing.key" --store "$store" --id "$id" >/dev/null
	f=$store/00000001-$id.intoto.jsonl
	verdict=$(jq -r .payload "$f" | base64 -d | jq -r '.predicate.verdict.result // "none"')
	ps_json --store "$store" --key "$BATS_TEST_TMPDIR/keys/signing.pub"
	r=$(row "$pid")
	[ "$(jq -r .attestation.verdict <<<"$r")" = "$verdict" ]
	[ "$(jq -r .attestation.score <<<"$r")" = "$(jq -r .payload "$f" | base64 -d | jq -r '.predicate.score')" ]
	[ "$(jq -r .attestation.verified <<<"$r")" = true ]
	[ "$(jq -r .attestation.current <<<"$r")" = true ]
	[ "$(jq -r .attestation.file <<<"$r")" = "$f" ]

	# Another key: the attestation does not verify.
	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/other" >/dev/null
	ps_json --store "$store" --key "$BATS_TEST_TMPDIR/other/signing.pub"
	[ "$(jq -r .attestation.verdict <<<"$(row "$pid")")" = invalid ]

	# A later attestation of the same id with other filters (the child's
	# stack) wins and is not current for the init.
	"$SECCOMP_ATTEST" attest "pid:$child" --key "$BATS_TEST_TMPDIR/keys/signing.key" --store "$store" --id "$id" >/dev/null || true
	verdict=$(jq -r .payload "$store/00000002-$id.intoto.jsonl" | base64 -d | jq -r '.predicate.verdict.result // "none"')
	run "$SECCOMP_ATTEST" ps --store "$store"
	[ "$status" -eq 0 ]
	line=$(awk -v p="$pid" '$1 == p' <<<"$output")
	[[ "$line" == *" ${id:0:12} "* ]]
	[[ "$line" == *" filter "* ]]
	[[ "$line" == *" ${want:0:12} "* ]]
	score=$(jq -r .payload "$store/00000002-$id.intoto.jsonl" | base64 -d | jq -r '.predicate.score')
	[[ "$line" == *" $verdict* "*" $(printf '%.1f' "$score")" ]]
}

@test "ps: podman (runc, crun) and Docker containers by cgroup id, conmon left out; unconfined container" {
	for rt in runc crun; do
		name=$(container_name "podman-$rt")
		register_container podman "$name"
		podman "${PODMAN_FLAGS[@]}" --runtime "$rt" run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			localhost/bb:latest sleep 1000 >/dev/null
		pid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.State.Pid}}' "$name")
		cid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.Id}}' "$name")
		wait_until has_filters "$pid"
		ps_json --store "$BATS_TEST_TMPDIR/none"
		r=$(row "$pid")
		[ "$(jq -r .container.id <<<"$r")" = "$cid" ]
		[ "$(jq -r .container.engine <<<"$r")" = podman ]
		[ "$(jq -r .container.runtime <<<"$r")" = "$rt" ]
		[ "$(jq -r .container.init <<<"$r")" = true ]
		[ "$(jq -r .mode <<<"$r")" = filter ]
		[[ "$(jq -r .digest <<<"$r")" =~ ^[0-9a-f]{64}$ ]]
		# conmon, the container's parent, is in a cgroup of its own.
		conmon=$(status_field "$pid" PPid)
		[ "$(jq -r .comm <<<"$(row "$conmon")")" = null ]
	done

	# Docker: the id from the /docker/ID cgroup, the init from Docker's runc root.
	name=$(container_name docker)
	register_container docker "$name"
	"$DOCKER" run -d --name "$name" --network none bb:latest sleep 1000 >/dev/null
	pid=$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")
	cid=$("$DOCKER" inspect -f '{{.Id}}' "$name")
	wait_until has_filters "$pid"
	ps_json --store "$BATS_TEST_TMPDIR/none"
	r=$(row "$pid")
	[ "$(jq -r .container.id <<<"$r")" = "$cid" ]
	[ "$(jq -r .container.engine <<<"$r")" = docker ]
	[ "$(jq -r .container.runtime <<<"$r")" = runc ]
	[ "$(jq -r .container.init <<<"$r")" = true ]

	name=$(container_name podman-unconfined)
	register_container podman "$name"
	podman "${PODMAN_FLAGS[@]}" --runtime runc run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
		--security-opt seccomp=unconfined localhost/bb:latest sleep 1000 >/dev/null
	pid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.State.Pid}}' "$name")
	ps_json
	r=$(row "$pid")
	[ "$(jq -r .mode <<<"$r")" = disabled ]
	[ "$(jq -r .filters <<<"$r")" = 0 ]
	[ "$(jq -r .digest <<<"$r")" = null ]
}

@test "ps: --no-digest reads no filter; bad flags exit 2" {
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	# A tracer holds the init: reading its filters must fail, --no-digest
	# must not try.
	"$HELPERS/seccomp-stack" -T "$pid" >"$BATS_TEST_TMPDIR/tracer" &
	tracer=$!
	wait_until grep -q ready "$BATS_TEST_TMPDIR/tracer"
	ps_json --no-digest
	r=$(row "$pid")
	[ "$(jq -r .mode <<<"$r")" = filter ]
	[ "$(jq -r '.digest, .digestError' <<<"$r")" = "$(printf 'null\nnull')" ]
	ps_json
	[[ "$(jq -r .digestError <<<"$(row "$pid")")" == *"already traced"* ]]
	kill "$tracer"
	wait "$tracer" || true
	# The reads are bounded as a whole: past --timeout no filter is read.
	ps_json --timeout 1ns
	[[ "$(jq -r .digestError <<<"$(row "$pid")")" == *"deadline exceeded"* ]]

	# A user without privileges still gets the processes: no digest (ptrace
	# refused), no verdicts (the store is root's), exit 0.
	mkdir -m 0700 "$BATS_TEST_TMPDIR/rootstore"
	chmod 0755 "$BATS_TEST_TMPDIR"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$SECCOMP_ATTEST" ps --all --format json --store "$BATS_TEST_TMPDIR/rootstore"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"no verdicts"*"permission denied"* ]]
	output=${output#*$'\n'}
	[ "$(jq -r .mode <<<"$(row "$pid")")" = filter ]
	[[ "$(jq -r .digestError <<<"$(row "$pid")")" == *"privilege"* || "$(jq -r .digestError <<<"$(row "$pid")")" == *"permitted"* ]]

	run "$SECCOMP_ATTEST" ps --format yaml
	[ "$status" -eq 2 ]
	[[ "$output" == *"want table or json"* ]]
	run "$SECCOMP_ATTEST" ps --key "$BATS_TEST_TMPDIR/missing.pub"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.pub"* ]]
}
