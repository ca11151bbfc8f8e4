#!/usr/bin/env bash
# capture-fixtures.sh starts real containers (Docker, podman, runc and crun
# bundles) and stores the seccomp filters the kernel enforces on them, read
# with `seccomp-attest dump --out`, in pkg/bytecode/testdata/fixtures: NAME.bpf
# (raw struct sock_filter array, host byte order) and NAME.json (where it
# came from), plus NAME.profile.json for the OCI profiles we wrote ourselves.
#
# Run as root after `make setup build helpers`. CI does not run it: the
# fixtures are committed. It registers crun as a Docker runtime in
# /etc/docker/daemon.json (merged into the existing file) and reloads dockerd.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH

OUT=${OUT:-pkg/bytecode/testdata/fixtures}
SA=$PWD/bin/seccomp-attest
HELPERS=$PWD/bin/test
ROOTFS=${SECCOMP_ATTEST_TEST_DIR:-/var/lib/seccomp-attest-test}/rootfs
DOCKER=docker
[ -x /usr/bin/docker ] && DOCKER=/usr/bin/docker
PODMAN=(podman --cgroup-manager cgroupfs)
PODMAN_RUN=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

die() { echo "capture-fixtures: error: $*" >&2; exit 1; }
log() { echo "capture-fixtures: $*" >&2; }

[ -x "$SA" ] && [ -x "$HELPERS/seccomp-stack" ] && [ -x "$HELPERS/docker-profile" ] ||
	die "build first: make build helpers"

WORK=$(mktemp -d /tmp/capture-fixtures.XXXXXX)
CLEANUP=()
cleanup() {
	local c
	for c in "${CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"

KERNEL=$(uname -r)
RUNC_VERSION=$(runc --version | awk 'NR==1 {print $3}')
CRUN_VERSION=$(crun --version | awk 'NR==1 {print $3}')
LIBSECCOMP_VERSION=$(runc --version | awk '/libseccomp/ {print $2}')
PODMAN_VERSION=$(podman --version | awk '{print $3}')
DOCKER_VERSION=$("$DOCKER" version --format '{{.Server.Version}}')

runtime_version() {
	case $1 in
	runc) echo "$RUNC_VERSION (libseccomp $LIBSECCOMP_VERSION)" ;;
	crun) echo "$CRUN_VERSION" ;;
	esac
}

wait_filters() { # PID N
	local i n
	for i in $(seq 200); do
		n=$(awk '$1 == "Seccomp_filters:" {print $2}' "/proc/$1/status" 2>/dev/null || true)
		[ -n "$n" ] && [ "$n" -ge "$2" ] && return 0
		sleep 0.1
	done
	die "pid $1: no $2 seccomp filter(s) after 20s"
}

# capture NAME PID RUNTIME ENGINE PROFILE_SOURCE [N]: dump PID's filters
# (one group of threads expected) into NAME.bpf, or NAME.I.bpf for a stack.
capture() {
	local name=$1 pid=$2 rt=$3 engine=$4 source=$5 want=${6:-1}
	local dir=$WORK/dump-$name json n i file
	wait_filters "$pid" "$want"
	json=$("$SA" dump --format json --out "$dir" "$pid")
	[ "$(jq '.groups | length' <<<"$json")" = 1 ] || die "$name: threads differ: $json"
	n=$(jq '.groups[0].filters | length' <<<"$json")
	[ "$n" = "$want" ] || die "$name: $n filters, want $want"
	for ((i = 0; i < n; i++)); do
		file=$name.bpf
		[ "$n" -gt 1 ] && file=$name.$i.bpf
		cp "$dir/$i.bpf" "$OUT/$file"
		jq -n --argjson f "$(jq ".groups[0].filters[$i]" <<<"$json")" \
			--arg file "$file" --arg runtime "$rt" --arg rtv "$(runtime_version "$rt")" \
			--arg engine "$engine" --arg source "$source" --arg kernel "$KERNEL" \
			--argjson count "$n" --arg date "$(date -u +%Y-%m-%d)" '{
				file: $file, runtime: $runtime, runtime_version: $rtv, engine: $engine,
				profile_source: $source, index: $f.index, stack_size: $count,
				instructions: $f.instructions, sha256: $f.sha256, log: $f.log,
				kernel: $kernel, arch: "x86_64", captured: $date
			}' >"$OUT/${file%.bpf}.json"
		log "$file: $(jq -r .instructions <<<"$(jq ".groups[0].filters[$i]" <<<"$json")") instructions"
	done
}

# bundle NAME PROFILE|- ARGS...: an OCI bundle in $WORK/NAME.
bundle() {
	local name=$1 profile=$2 dir=$WORK/$1
	shift 2
	mkdir -p "$dir/rootfs"
	cp -a "$ROOTFS/." "$dir/rootfs/"
	cp "$HELPERS/seccomp-stack" "$dir/rootfs/bin/"
	(cd "$dir" && runc spec)
	jq --argjson args "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		'.process.args = $args | .process.terminal = false' "$dir/config.json" >"$dir/c.json"
	if [ "$profile" != - ]; then
		jq --slurpfile s "$profile" '.linux.seccomp = $s[0]' "$dir/c.json" >"$dir/config.json"
	else
		mv "$dir/c.json" "$dir/config.json"
	fi
}

# run_bundle RUNTIME NAME: start $WORK/NAME detached and set RUN_PID. Not
# in a subshell: the container must reach CLEANUP.
run_bundle() {
	local rt=$1 name=$2 id=capture-$2-$$
	CLEANUP+=("$rt delete -f $id")
	if ! (cd "$WORK/$name" && "$rt" run -d "$id" </dev/null >"$WORK/$name/out" 2>&1 3>&-); then
		log "$rt run $name failed: $(cat "$WORK/$name/out")"
		return 1
	fi
	RUN_PID=$("$rt" state "$id" | jq -r .pid)
}

# bundle_fixture NAME RUNTIME PROFILE SOURCE [ARGS...]
bundle_fixture() {
	local name=$1 rt=$2 profile=$3 source=$4 pid
	shift 4
	[ $# -gt 0 ] || set -- sleep 1000
	bundle "$name-$rt" "$profile" "$@"
	run_bundle "$rt" "$name-$rt" || die "$name: $rt did not start the container"
	capture "$name.$rt" "$RUN_PID" "$rt" "$rt bundle" "$source"
}

# --- Docker ---------------------------------------------------------------
# Register crun as a Docker runtime (merged into daemon.json) and reload.
if ! "$DOCKER" info --format '{{json .Runtimes}}' | jq -e 'has("crun")' >/dev/null; then
	log "registering crun in /etc/docker/daemon.json"
	mkdir -p /etc/docker
	[ -s /etc/docker/daemon.json ] || echo '{}' >/etc/docker/daemon.json
	jq --arg p "$(command -v crun)" '.runtimes.crun = {path: $p}' /etc/docker/daemon.json >"$WORK/daemon.json"
	cp "$WORK/daemon.json" /etc/docker/daemon.json
	kill -HUP "$(pidof dockerd)"
	for _ in $(seq 100); do
		"$DOCKER" info --format '{{json .Runtimes}}' | jq -e 'has("crun")' >/dev/null && break
		sleep 0.1
	done
fi
for rt in runc crun; do
	name=capture-docker-$rt-$$
	CLEANUP+=("$DOCKER rm -f $name")
	"$DOCKER" run -d --runtime "$rt" --name "$name" --network none bb:latest sleep 1000 >/dev/null
	capture "docker-default.$rt" "$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")" "$rt" \
		"docker $DOCKER_VERSION" "Docker $DOCKER_VERSION built-in default profile, default capabilities"
done

# --- podman ---------------------------------------------------------------
for rt in runc crun; do
	name=capture-podman-$rt-$$
	CLEANUP+=("${PODMAN[*]} rm -f -t 0 $name")
	"${PODMAN[@]}" --runtime "$rt" run -d --name "$name" "${PODMAN_RUN[@]}" localhost/bb:latest sleep 1000 >/dev/null
	capture "podman-default.$rt" "$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$name")" "$rt" \
		"podman $PODMAN_VERSION" "podman $PODMAN_VERSION default profile (/usr/share/containers/seccomp.json), default capabilities"
done

# --- OCI bundles with profiles written here ---------------------------------
P=$WORK/profiles
mkdir -p "$P"
"$HELPERS/docker-profile" >"$P/moby.json"
for rt in runc crun; do
	bundle_fixture moby-default-v0.2.3 "$rt" "$P/moby.json" \
		"github.com/moby/profiles/seccomp v0.2.3 GetDefaultProfile, Docker default capabilities (test/helpers/docker-profile)"
done

# Every argument comparison operator, and 64-bit values above 2^32. The
# syscalls are ones sleep never makes; errnoRet tells the rules apart.
cat >"$P/args.json" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 11,
     "args": [{"index": 1, "value": 1073741824, "op": "SCMP_CMP_EQ"}]},
    {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 12,
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]},
    {"names": ["kcmp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 2, "value": 3, "op": "SCMP_CMP_LT"}]},
    {"names": ["mlock"], "action": "SCMP_ACT_ERRNO", "errnoRet": 14,
     "args": [{"index": 1, "value": 4096, "op": "SCMP_CMP_LE"}]},
    {"names": ["fchmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 15,
     "args": [{"index": 1, "value": 4095, "op": "SCMP_CMP_GT"}]},
    {"names": ["ioprio_set"], "action": "SCMP_ACT_ERRNO", "errnoRet": 16,
     "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_GE"}]},
    {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 17,
     "args": [{"index": 0, "value": 65535, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
     "args": [{"index": 0, "value": 4294967336, "op": "SCMP_CMP_EQ"}]},
    {"names": ["lseek"], "action": "SCMP_ACT_ERRNO", "errnoRet": 19,
     "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_GT"}]},
    {"names": ["madvise"], "action": "SCMP_ACT_ERRNO", "errnoRet": 20,
     "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_GE"},
              {"index": 2, "value": 8589934592, "op": "SCMP_CMP_LT"}]}
  ]
}
JSON
bundle_fixture args runc "$P/args.json" "args.profile.json: one rule per SCMP_CMP_* operator, 64-bit values (socket EQ 2^32+40, lseek GT 2^32, madvise LT 2^33)"

# Allow by default, deny a list.
cat >"$P/denylist.json" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["mount", "umount2", "reboot", "kexec_load", "kexec_file_load",
               "init_module", "finit_module", "delete_module", "ptrace", "bpf",
               "perf_event_open", "open_by_handle_at", "userfaultfd"],
     "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
  ]
}
JSON
bundle_fixture denylist runc "$P/denylist.json" "denylist.profile.json: allow by default, EPERM for a list of dangerous syscalls"

# Audit: Docker's allow list with LOG instead of an error for the rest.
# runc 1.1 refuses linux.seccomp.flags ("not yet supported"), so the LOG
# filter flag comes from crun, when it accepts it.
jq '.defaultAction = "SCMP_ACT_LOG" | del(.defaultErrnoRet)' "$P/moby.json" >"$P/log.json"
bundle_fixture log runc "$P/log.json" "log.profile.json: moby v0.2.3 default with defaultAction SCMP_ACT_LOG"
jq '.flags = ["SECCOMP_FILTER_FLAG_LOG"]' "$P/log.json" >"$P/log-flag.json"
bundle log-flag-crun "$P/log-flag.json" sleep 1000
if run_bundle crun log-flag-crun; then
	capture log-flag.crun "$RUN_PID" crun "crun bundle" "log-flag.profile.json: log.profile.json plus flags [SECCOMP_FILTER_FLAG_LOG]"
else
	log "skipped log-flag.crun: crun refused the flag"
fi

# Kill the whole process for anything outside Docker's allow list.
jq '.defaultAction = "SCMP_ACT_KILL_PROCESS" | del(.defaultErrnoRet)' "$P/moby.json" >"$P/kill-process.json"
bundle_fixture kill-process runc "$P/kill-process.json" "kill-process.profile.json: moby v0.2.3 default with defaultAction SCMP_ACT_KILL_PROCESS"

# i386 only: the profile names SCMP_ARCH_X86 alone. Allow by default so that
# the container runs whatever the runtime makes of the missing native arch.
jq '.architectures = ["SCMP_ARCH_X86"]' "$P/denylist.json" >"$P/i386.json"
bundle_fixture i386 runc "$P/i386.json" "i386.profile.json: denylist.profile.json with architectures [SCMP_ARCH_X86] only"

# A program in the container stacks its own filter on the runtime's.
bundle stacked-runc "$P/moby.json" /bin/seccomp-stack -n 1
run_bundle runc stacked-runc || die "stacked: runc did not start the container"
capture stacked "$RUN_PID" runc "runc bundle" \
	"index 0: moby v0.2.3 default (runtime); index 1: test/helpers/seccomp-stack.c -n 1 (denies nr 0x3ff0 with errno 1)" 2

for p in denylist log log-flag kill-process i386; do
	jq . "$P/$p.json" >"$OUT/$p.profile.json"
done
jq . "$P/args.json" >"$OUT/args.profile.json"
jq . "$P/moby.json" >"$OUT/moby-default-v0.2.3.profile.json"
log "done: $(ls "$OUT"/*.bpf | wc -l) filters in $OUT"
