#!/usr/bin/env bats
# Kubernetes node, RuntimeClass path: a private containerd 2.x (CRI) whose
# runtime handler "seccomp-attest" runs wrapper-runc in runc's place
# (packaging/containerd/register.sh), driven by crictl as kubelet drives it.
# The real runtime is SECCOMP_ATTEST_CRI_RUNC (default: runc v1.5.3 of the
# test stack); the checks are seccomp-attestd's, on a socket of their own.

load helpers
load cri-helpers

WRAPPER=${WRAPPER:-$BATS_TEST_DIRNAME/../../bin/wrapper-runc}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
REGISTER=$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh
HANDLER=seccomp-attest

setup_file() {
	[ -x "$WRAPPER" ] || { echo "build first: make build" >&2; return 1; }
	CRI_BEFORE_START=register_handler cri_suite_setup
}

# register_handler: the drop-in, where cri_start's configuration imports
# from, and the launcher adding the wrapper's flags (the test
# configuration, the real runtime, the daemon's socket).
register_handler() {
	bash "$REGISTER" --name "$HANDLER" --path "$(readlink -f "$WRAPPER")" \
		--config "$ATT_CONFIG" --runtime "$CRI_RUNC" --socket "$ATT_SOCK" \
		--dropin-dir "$CRI_DIR/conf.d" --containerd-config "$CRI_DIR/config.toml" \
		--launcher-dir "$CRI_DIR/launchers" 2>/dev/null
}

teardown_file() {
	cri_suite_teardown
}

setup() {
	source "$BATS_FILE_TMPDIR/env"
}

@test "cri runtimeclass: a RuntimeDefault pod passes, attested (verify, cosign) with its pod and namespace" {
	run_pod rd "$CRI_RUNTIME_DEFAULT" "$HANDLER"
	create_start app "$CRI_RUNTIME_DEFAULT"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until test -e "$marker/ran"
	[ "$(crictl inspect "$cid" | jq -r .status.state)" = CONTAINER_RUNNING ]
	# The sandbox (pause) and the container went through the wrapper.
	assert_attested_pass "$pod" rd
	assert_attested_pass "$cid" rd
	grep -q "\"id\":\"$cid\".*effective check: pass" "$ATT_DIR/checks.log"
	# The sandbox's attestation says it is the pod's sandbox.
	[ "$(payload "$(attestation "$pod")" | jq -r .predicate.container.kubernetes.sandbox)" = true ]
	# ps, verify's JSON and the HTML report name the workload.
	run "$SECCOMP_ATTEST" ps --store "$ATT_DIR/store" --key "$ATT_DIR/keys/signing.pub"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $(grep " ${cid:0:12} " <<<"$output") == *" sa-test/rd/app "*" pass "* ]]
	run "$SECCOMP_ATTEST" verify --format json --key "$ATT_DIR/keys/signing.pub" "$(attestation "$cid")"
	[ "$(jq -c '.files[0].kubernetes | [.namespace, .pod, .container, .image]' <<<"$output")" = \
		"[\"sa-test\",\"rd\",\"app\",\"$BUSYBOX_IMAGE\"]" ]
	"$SECCOMP_ATTEST" report --store "$ATT_DIR/store" --key "$ATT_DIR/keys/signing.pub" --html "$BATS_TEST_TMPDIR/report.html"
	grep -q "<td><code>sa-test/rd/app</code></td>" "$BATS_TEST_TMPDIR/report.html"
	# What the container runs under is what was attested.
	pid=$(crictl inspect "$cid" | jq -r .info.pid)
	"$SECCOMP_ATTEST" dump --out "$BATS_TEST_TMPDIR/bpf" "$pid" >/dev/null
	[ "$(payload "$(attestation "$cid")" | jq -r '.predicate.effective.threads[0].filters[-1].sha256')" = \
		"$(sha256sum <"$(ls "$BATS_TEST_TMPDIR"/bpf/[0-9]*.bpf | tail -n 1)" | cut -d' ' -f1)" ]
}

@test "cri runtimeclass: a Localhost profile weaker than the policy is refused before its first instruction, reason in the CRI status" {
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}' >"$BATS_TEST_TMPDIR/weak.json"
	run_pod lh "$CRI_RUNTIME_DEFAULT" "$HANDLER"
	create_start app "$CRI_LOCALHOST" "$BATS_TEST_TMPDIR/weak.json"
	assert_refused "effective ALLOW where every baseline denies"
}

@test "cri runtimeclass: an Unconfined container is refused by the default policy" {
	run_pod un "$CRI_RUNTIME_DEFAULT" "$HANDLER"
	create_start app "$CRI_UNCONFINED"
	assert_refused "allowUnconfined"
}

@test "cri runtimeclass: an Unconfined pod's sandbox is refused: the pod does not start" {
	pdir=$BATS_TEST_TMPDIR/unpod
	mkdir -p "$pdir"
	pod_config "$pdir/pod.json" unpod "$CRI_UNCONFINED"
	run crictl runp --runtime "$HANDLER" "$pdir/pod.json"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"refused by policy"*"allowUnconfined"* ]]
	[ -z "$(crictl pods --name unpod --state ready -q)" ]
}

@test "cri runtimeclass: plain runc pods beside it are not checked" {
	run_pod plain "$CRI_RUNTIME_DEFAULT"
	create_start app "$CRI_UNCONFINED"
	[ "$status" -eq 0 ]
	wait_until test -e "$marker/ran"
	[ -z "$(attestation "$cid")" ]
}

@test "cri runtimeclass: with seccomp-attestd stopped the wrapper checks in its own process" {
	checks_without_daemon "$HANDLER"
}
