# Helpers for the bats tests: real runtimes, containers from the busybox
# rootfs that scripts/setup-host.sh builds, and cleanup of everything a test
# started. Run as root after `make setup build helpers` (make bats does it).

SECCOMP_ATTEST=${SECCOMP_ATTEST:-$BATS_TEST_DIRNAME/../../bin/seccomp-attest}
HELPERS=${HELPERS:-$BATS_TEST_DIRNAME/../../bin/test}
TEST_DIR=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}
ROOTFS=$TEST_DIR/rootfs
DOCKER=docker
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker
PODMAN_FLAGS=(--cgroup-manager cgroupfs)
PODMAN_RUN_FLAGS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# SECCOMP_ATTEST_RUNC=PATH runs the tests with that runc first on PATH
# instead of Debian's (make bats runs hook, wrapper and dump again with the
# test stack's runc v1.5.3: the runtime matrix).
if [ -n "${SECCOMP_ATTEST_RUNC:-}" ]; then
	[ -x "$SECCOMP_ATTEST_RUNC" ] || { echo "SECCOMP_ATTEST_RUNC=$SECCOMP_ATTEST_RUNC is not an executable" >&2; exit 1; }
	mkdir -p "$BATS_RUN_TMPDIR/runc-bin"
	ln -sfn "$SECCOMP_ATTEST_RUNC" "$BATS_RUN_TMPDIR/runc-bin/runc"
	PATH=$BATS_RUN_TMPDIR/runc-bin:$PATH
fi

# Containers started by this test, "kind id" per line, removed in teardown.
_containers() { echo "$BATS_TEST_TMPDIR/containers"; }

# A unique container name per test (bats runs tests one after another, but a
# name left from a crashed run must not collide).
container_name() {
	echo "sa-test-$$-${BATS_TEST_NUMBER}-$1"
}

register_container() { # KIND ID
	echo "$1 $2" >>"$(_containers)"
}

cleanup_containers() {
	local kind id
	[ -f "$(_containers)" ] || return 0
	while read -r kind id; do
		case $kind in
		runc | crun) "$kind" delete -f "$id" >/dev/null 2>&1 || true ;;
		podman) podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$id" >/dev/null 2>&1 || true ;;
		docker) "$DOCKER" rm -f "$id" >/dev/null 2>&1 || true ;;
		esac
	done <"$(_containers)"
	rm -f "$(_containers)"
}

teardown() {
	cleanup_containers
}

# make_bundle DIR ARGS...: an OCI bundle in DIR running ARGS with the busybox
# rootfs plus the static test helpers, without seccomp (runc spec's default),
# and Docker's default capabilities: the container Docker would run, so that
# with Docker's profile (docker_profile) the bundle is consistent (policies
# resolve their baselines for the bundle's bounding set). Its ociVersion is
# runc 1.1's, which every runtime of the matrix accepts (crun 1.8.1 refuses
# runc 1.5's 1.3.0).
make_bundle() {
	local dir=$1
	shift
	mkdir -p "$dir/rootfs"
	cp -a "$ROOTFS/." "$dir/rootfs/"
	cp "$HELPERS/seccomp-stack" "$dir/rootfs/bin/"
	(cd "$dir" && runc spec)
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq --argjson args "$args" '.ociVersion = "1.0.2-dev" | .process.args = $args | .process.terminal = false' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	set_docker_caps "$dir"
}

# set_seccomp DIR PROFILE.json: put an OCI linux.seccomp object into DIR's
# config.json.
set_seccomp() {
	jq --slurpfile s "$2" '.linux.seccomp = $s[0]' "$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
}

# docker_profile FILE: Docker's default profile (moby/profiles v0.2.3) in OCI
# form.
docker_profile() {
	"$HELPERS/docker-profile" >"$1"
}

# set_docker_caps DIR: give DIR's process Docker's default capabilities, so
# that a container under Docker's profile is the container Docker would run
# (policies resolve their baselines for the bundle's bounding set).
set_docker_caps() {
	jq --argjson c "$("$HELPERS/docker-profile" --caps)" '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' \
		"$1/config.json" >"$1/config.json.new"
	mv "$1/config.json.new" "$1/config.json"
}

# run_bundle RUNTIME DIR ID: start the bundle detached; the container's
# stdout and stderr go to DIR/out.
run_bundle() {
	local rt=$1 dir=$2 id=$3
	register_container "$rt" "$id"
	(cd "$dir" && "$rt" run -d "$id" </dev/null >"$dir/out" 2>&1 3>&-)
}

# runtime_pid RUNTIME ID
runtime_pid() {
	"$1" state "$2" | jq -r .pid
}

# wait_until CMD...: retry CMD until it succeeds, up to 20s. Containers
# become ready asynchronously (crun loads the filter just before exec); this
# waits for the event, it does not measure time.
wait_until() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	echo "wait_until: gave up on: $*" >&2
	return 1
}

# status_field PID FIELD: a field of /proc/PID/status.
status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

has_filters() { # PID [N]
	local n
	n=$(status_field "$1" Seccomp_filters)
	[ -n "$n" ] && [ "$n" -ge "${2:-1}" ]
}

# check_dump PID: dump works and agrees with the kernel's count.
check_dump() {
	local pid=$1 count
	count=$(status_field "$pid" Seccomp_filters)
	run "$SECCOMP_ATTEST" dump --format json "$pid"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.pid' <<<"$output")" = "$pid" ]
	[ "$(jq -r '.groups[0].mode' <<<"$output")" = filter ]
	[ "$(jq -r '.groups[0].seccomp_filters' <<<"$output")" = "$count" ]
	[ "$(jq -r '.groups[0].filters | length' <<<"$output")" = "$count" ]
	[ "$count" -ge 1 ]
}

# hooks_dir_for HOOK CONFIG SOCKET: a copy of the shipped hooks.d (in this
# test's directory) that runs HOOK with CONFIG, asking seccomp-attestd on
# SOCKET; prints the directory.
hooks_dir_for() {
	local d=$BATS_TEST_TMPDIR/hooks.d f
	mkdir -p "$d"
	for f in "$BATS_TEST_DIRNAME"/../../hooks.d/*.json; do
		jq --arg h "$1" --arg c "$2" --arg s "--socket=$3" \
			'.hook.path = $h | .hook.args = (.hook.args[:1] + [$s, "--config", $c] + .hook.args[1:])' \
			"$f" >"$d/$(basename "$f")"
	done
	echo "$d"
}
