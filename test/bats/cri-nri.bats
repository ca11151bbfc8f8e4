#!/usr/bin/env bats
# Kubernetes node, NRI path: a private containerd 2.x (CRI) with the NRI
# plugin seccomp-attest-nri connected, which adds the seccomp-attest hook at
# createRuntime, poststart and poststop to every container, with no runtime
# class. containerd's NRI default validator lists the plugin under
# required_plugins, so no container is created while it is away. The
# runtime is SECCOMP_ATTEST_CRI_RUNC (default: runc v1.5.3 of the test
# stack); the hooks are answered by a seccomp-attestd of their own.

load helpers
load cri-helpers

HOOK=${HOOK:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-hook}
DAEMON=${DAEMON:-$BATS_TEST_DIRNAME/../../bin/seccomp-attestd}
NRI_PLUGIN=${NRI_PLUGIN:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest-nri}

setup_file() {
	[ -x "$NRI_PLUGIN" ] || { echo "build first: make build" >&2; return 1; }
	cri_suite_setup seccomp-attest
	source "$BATS_FILE_TMPDIR/env"
	plugin_start
}

teardown_file() {
	plugin_stop
	cri_suite_teardown
}

setup() {
	source "$BATS_FILE_TMPDIR/env"
	# A test that failed half-way leaves the next one what it expects.
	[ -f "$ATT_DIR/nri.pid" ] || plugin_start
	[ -f "$ATT_DIR/daemon.pid" ] || att_daemon_start
}

# plugin_start / plugin_stop: the NRI plugin, connected once containerd
# lists it.
plugin_start() {
	"$NRI_PLUGIN" --nri-socket "$CRI_NRI_SOCK" --hook "$(readlink -f "$HOOK")" --hook-config "$ATT_CONFIG" \
		--hook-socket "$ATT_SOCK" </dev/null >>"$ATT_DIR/nri.log" 2>&1 3>&- &
	echo $! >"$ATT_DIR/nri.pid"
	wait_until grep -q "Started plugin 10-seccomp-attest" "$ATT_DIR/nri.log"
}
plugin_stop() { # [SIGNAL]
	local pid
	pid=$(cat "$ATT_DIR/nri.pid" 2>/dev/null) || return 0
	kill "-${1:-TERM}" "$pid" 2>/dev/null || true
	wait_until sh -c "! kill -0 $pid 2>/dev/null"
	rm -f "$ATT_DIR/nri.pid"
}

@test "cri nri: a RuntimeDefault container passes, attested (verify, cosign) with its pod and namespace; its end is recorded" {
	run_pod rd
	create_start app "$CRI_RUNTIME_DEFAULT"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_until test -e "$marker/ran"
	[ "$(crictl inspect "$cid" | jq -r .status.state)" = CONTAINER_RUNNING ]
	# The runtime ran the hooks the plugin added.
	crictl inspect "$cid" | jq -e --arg h "$(readlink -f "$HOOK")" \
		'.info.runtimeSpec.hooks | [.createRuntime, .poststart, .poststop] | all(any(.path == $h))' >/dev/null
	assert_attested_pass "$cid" rd
	# The sandbox is no NRI container: not hooked, not attested.
	[ -z "$(attestation "$pod")" ]
	crictl stop "$cid" >/dev/null
	crictl rm "$cid" >/dev/null
	wait_until grep -q "\"id\":\"$cid\".*container end" "$ATT_DIR/checks.log"
	run "$SECCOMP_ATTEST" verify --key "$ATT_DIR/keys/signing.pub" --store "$ATT_DIR/store"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "cri nri: a Localhost profile weaker than the policy is refused before its first instruction, reason in the CRI status" {
	echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["reboot"],"action":"SCMP_ACT_ERRNO"}]}' >"$BATS_TEST_TMPDIR/weak.json"
	run_pod lh
	create_start app "$CRI_LOCALHOST" "$BATS_TEST_TMPDIR/weak.json"
	assert_refused "effective ALLOW where every baseline denies"
}

@test "cri nri: an Unconfined container is refused by the default policy" {
	run_pod un
	create_start app "$CRI_UNCONFINED"
	assert_refused "allowUnconfined"
}

@test "cri nri: with the plugin killed containers are refused, and a container that slipped through is reported when it is back" {
	run_pod killed
	plugin_stop KILL
	wait_until grep -q 'connection to plugin \\"10-seccomp-attest\\" closed' "$CRI_DIR/containerd.log"
	# containerd 2.4.2 (NRI v0.12.3) drops a dead plugin only after the
	# next request, which it lets through: the plugin was counted as
	# present before its request failed. That container has no hook.
	container_config "$pdir/first.json" first "$CRI_UNCONFINED" -- sleep 1
	run crictl create "$pod" "$pdir/first.json" "$podjson"
	echo "first create after the kill: $status $output"
	slipped=
	if [ "$status" -eq 0 ]; then
		slipped=$output
	fi
	# From then on: refused, as required_plugins says.
	container_config "$pdir/x.json" x "$CRI_UNCONFINED" -- sleep 1
	run crictl create "$pod" "$pdir/x.json" "$podjson"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *'required plugin \"seccomp-attest\" not present'* ]]
	plugin_start
	if [ -n "$slipped" ]; then
		wait_until grep -q "\"id\":\"$slipped\".*without the seccomp-attest hook" "$ATT_DIR/nri.log"
	fi
	create_start app "$CRI_UNCONFINED"
	assert_refused "allowUnconfined"
	create_start good "$CRI_RUNTIME_DEFAULT"
	[ "$status" -eq 0 ]
	assert_attested_pass "$cid" killed
}

@test "cri nri: with seccomp-attestd stopped the hook checks in its own process" {
	checks_without_daemon
}

@test "cri nri: the shipped containerd drop-ins (packaging/kubernetes, packaging/containerd) load in containerd 2.4" {
	d=$BATS_TEST_TMPDIR/cfg
	mkdir -p "$d/conf.d"
	cp "$BATS_TEST_DIRNAME/../../packaging/kubernetes/containerd-nri.toml" "$d/conf.d/"
	bash "$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh" --path "$(readlink -f "$HOOK")" \
		--dropin-dir "$d/conf.d" --containerd-config "$d/config.toml" 2>/dev/null
	grep -qF "imports = [\"$d/conf.d/*.toml\"]" "$d/config.toml"
	run "$STACK/bin/containerd" --config "$d/config.toml" config dump
	[ "$status" -eq 0 ]
	grep -qF "required_plugins = ['seccomp-attest']" <<<"$output"
	grep -qF "tolerate_missing_plugins_annotation = 'tolerate-missing-plugins.seccomp-attest.dev'" <<<"$output"
	grep -A1 -F "runtimes.seccomp-attest.options]" <<<"$output" | grep -qF "BinaryName = '$(readlink -f "$HOOK")'"
	# A second registration changes nothing; --remove takes the handler away.
	before=$(cat "$d/config.toml" "$d/conf.d/"*)
	bash "$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh" --path "$(readlink -f "$HOOK")" \
		--dropin-dir "$d/conf.d" --containerd-config "$d/config.toml" 2>/dev/null
	[ "$(cat "$d/config.toml" "$d/conf.d/"*)" = "$before" ]
	bash "$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh" --remove --dropin-dir "$d/conf.d" 2>/dev/null
	[ ! -e "$d/conf.d/seccomp-attest.toml" ]
	# An existing configuration gets its imports line before its first table.
	printf 'version = 3\n[grpc]\n  address = "/x.sock"\n' >"$d/other.toml"
	bash "$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh" --path "$(readlink -f "$HOOK")" \
		--dropin-dir "$d/conf.d" --containerd-config "$d/other.toml" 2>/dev/null
	[ "$(sed -n 2p "$d/other.toml")" = "imports = [\"$d/conf.d/*.toml\"]" ]
	[ "$(sed -n 3p "$d/other.toml")" = "[grpc]" ]
	# One that imports elsewhere is left alone, with the reason.
	printf 'version = 3\nimports = ["/etc/x/*.toml"]\n' >"$d/third.toml"
	run bash "$BATS_TEST_DIRNAME/../../packaging/containerd/register.sh" --path "$(readlink -f "$HOOK")" \
		--dropin-dir "$d/conf.d" --containerd-config "$d/third.toml"
	[ "$status" -eq 1 ]
	[[ $output == *"has an imports list without"* ]]
}
