# Helpers for the CRI tests (cri.bats, cri-nri.bats) and bench/cri.sh: a
# private containerd 2.x with the CRI plugin, beside Docker's containerd,
# with its own root, state, sockets, CNI configuration and NRI socket, from
# the stack scripts/setup-k8s-stack.sh installs. crictl drives it as
# kubelet would.

STACK=${SECCOMP_ATTEST_STACK:-/opt/seccomp-attest-test}
CRI_RUNC=${SECCOMP_ATTEST_CRI_RUNC:-$STACK/bin/runc}
PAUSE_IMAGE=localhost/seccomp-attest/pause:3.10
BUSYBOX_IMAGE=localhost/seccomp-attest/busybox:latest

# cri_stack_ready: the stack is installed (make setup installs it).
cri_stack_ready() {
	local b
	for b in containerd containerd-shim-runc-v2 ctr crictl runc; do
		[ -x "$STACK/bin/$b" ] || { echo "missing $STACK/bin/$b: run make setup" >&2; return 1; }
	done
	[ -s "$STACK/images/pause.tar" ] && [ -s "$STACK/images/busybox.tar" ]
}

# cri_start DIR [NRI_REQUIRED]: start a containerd whose root, state and
# configuration live in DIR, its sockets in a short directory of its own
# (unix socket paths are limited to 108 bytes); sets CRI_SOCK, CRI_NRI_SOCK
# and CRI_PID, imports the images. Runtime handlers: runc (CRI_RUNC) and
# every drop-in of DIR/conf.d. With NRI_REQUIRED, NRI's default validator
# refuses containers unless the NRI plugin of that name is connected.
cri_start() {
	local dir=$1 required=${2:-} validator=false
	[ -z "$required" ] || validator=true
	mkdir -p "$dir/conf.d" "$dir/cni" "$dir/logs"
	CRI_SOCKDIR=$(mktemp -d /run/sa-cri.XXXXXX)
	CRI_SOCK=$CRI_SOCKDIR/containerd.sock
	CRI_NRI_SOCK=$CRI_SOCKDIR/nri.sock
	# A bridge of its own with a private range, no masquerading (no
	# iptables rule): pods reach each other and the node only.
	local br="sa$(basename "$CRI_SOCKDIR" | tr -dc 'a-zA-Z0-9' | tail -c 8)"
	echo "$br" >"$dir/bridge"
	cat >"$dir/cni/10-sa-cri.conflist" <<-CNI
		{"cniVersion": "1.0.0", "name": "sa-cri-$br", "plugins": [
		  {"type": "bridge", "bridge": "$br", "isGateway": true, "ipMasq": false,
		   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.231.$((RANDOM % 250)).0/24"}]], "dataDir": "$dir/cni-ipam"}},
		  {"type": "loopback"}]}
	CNI
	cat >"$dir/config.toml" <<-TOML
		version = 3
		root = "$dir/root"
		state = "$dir/state"
		imports = ["$dir/conf.d/*.toml"]
		disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
		  "io.containerd.snapshotter.v1.erofs", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]
		[grpc]
		  address = "$CRI_SOCK"
		[ttrpc]
		  address = "$CRI_SOCK.ttrpc"
		[debug]
		  address = "$CRI_SOCKDIR/debug.sock"
		[plugins.'io.containerd.cri.v1.images']
		  snapshotter = "overlayfs"
		  [plugins.'io.containerd.cri.v1.images'.pinned_images]
		    sandbox = "$PAUSE_IMAGE"
		[plugins.'io.containerd.cri.v1.runtime']
		  # Sessions here may lack CAP_SYS_RESOURCE (the sandbox's -998
		  # would be refused): never below containerd's own score.
		  restrict_oom_score_adj = true
		  [plugins.'io.containerd.cri.v1.runtime'.containerd]
		    default_runtime_name = "runc"
		    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
		        BinaryName = "$CRI_RUNC"
		  [plugins.'io.containerd.cri.v1.runtime'.cni]
		    bin_dirs = ["/usr/lib/cni"]
		    conf_dir = "$dir/cni"
		[plugins.'io.containerd.grpc.v1.cri']
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "0"
		[plugins.'io.containerd.nri.v1.nri']
		  disable = false
		  socket_path = "$CRI_NRI_SOCK"
		  plugin_path = "$dir/nri/plugins"
		  plugin_config_path = "$dir/nri/conf.d"
		  [plugins.'io.containerd.nri.v1.nri'.default_validator]
		    enable = $validator
		    required_plugins = [${required:+\"$required\"}]
	TOML
	# The shim finds runc on PATH when a handler names none: the stack's
	# first, then Debian's.
	PATH=$STACK/bin:$PATH setsid "$STACK/bin/containerd" --config "$dir/config.toml" \
		</dev/null >"$dir/containerd.log" 2>&1 3>&- &
	CRI_PID=$!
	echo "$CRI_PID" >"$dir/containerd.pid"
	echo "$CRI_SOCKDIR" >"$dir/sockdir"
	local i
	for i in $(seq 300); do
		crictl version >/dev/null 2>&1 && break
		kill -0 "$CRI_PID" 2>/dev/null || { tail -n 30 "$dir/containerd.log" >&2; return 1; }
		sleep 0.1
	done
	crictl version >/dev/null || { tail -n 30 "$dir/containerd.log" >&2; return 1; }
	ctr -n k8s.io images import --no-unpack "$STACK/images/pause.tar" >/dev/null
	ctr -n k8s.io images import "$STACK/images/busybox.tar" >/dev/null
}

# cri_stop DIR: remove every pod, stop the containerd cri_start started
# and the shims it left (found by its socket on their command line), and
# remove its sockets.
cri_stop() {
	local dir=$1 pid sockdir p
	pid=$(cat "$dir/containerd.pid" 2>/dev/null) || return 0
	sockdir=$(cat "$dir/sockdir")
	CRI_SOCK=$sockdir/containerd.sock
	crictl rmp -fa >/dev/null 2>&1 || true
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $CRI_SOCK( |$)" || true); do
		kill -KILL "$p" 2>/dev/null || true
	done
	# Mounts of the pods' sandboxes and rootfs under the private root.
	grep -o " $dir/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$sockdir"
	# CNI's bridge plugin leaves its bridge behind.
	ip link delete "$(cat "$dir/bridge")" 2>/dev/null || true
	rm -f "$dir/containerd.pid"
}

crictl() { "$STACK/bin/crictl" --config /dev/null --runtime-endpoint "unix://$CRI_SOCK" --image-endpoint "unix://$CRI_SOCK" --timeout 30s "$@"; }
ctr() { "$STACK/bin/ctr" --address "$CRI_SOCK" "$@"; }

# SECCOMP: the CRI profile types (k8s.io/cri-api runtime.v1.SecurityProfile_ProfileType).
CRI_RUNTIME_DEFAULT=0 CRI_UNCONFINED=1 CRI_LOCALHOST=2

# pod_config FILE NAME [PROFILE_TYPE [LOCALHOST_REF]]: a pod sandbox config
# as kubelet writes one, in namespace sa-test, with the pod-level seccomp
# profile (kubelet passes the pod's securityContext.seccompProfile; the
# sandbox's own container gets it).
pod_config() {
	local file=$1 name=$2 type=${3:-$CRI_RUNTIME_DEFAULT} ref=${4:-}
	jq -n --arg n "$name" --arg uid "$(cat /proc/sys/kernel/random/uuid)" --arg logs "$(dirname "$file")" \
		--argjson t "$type" --arg ref "$ref" '{
		metadata: {name: $n, namespace: "sa-test", uid: $uid, attempt: 0},
		log_directory: $logs,
		labels: {"io.kubernetes.pod.name": $n, "io.kubernetes.pod.namespace": "sa-test", "io.kubernetes.pod.uid": $uid},
		linux: {security_context: {seccomp: ({profile_type: $t} + if $ref == "" then {} else {localhost_ref: $ref} end)}}
	}' >"$file"
}

# container_config FILE NAME PROFILE_TYPE [LOCALHOST_REF] -- ARGS...: a
# container of the busybox image running ARGS with a container-level
# seccomp profile and FILE's name with .marker for .json bind-mounted at
# /marker.
container_config() {
	local file=$1 name=$2 type=$3 ref=
	shift 3
	if [ "$1" != -- ]; then ref=$1; shift; fi
	shift
	mkdir -p "${file%.json}.marker"
	local args
	args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	jq -n --arg n "$name" --arg img "$BUSYBOX_IMAGE" --argjson t "$type" --arg ref "$ref" \
		--arg marker "${file%.json}.marker" --argjson args "$args" '{
		metadata: {name: $n, attempt: 0},
		image: {image: $img},
		command: $args,
		log_path: ($n + ".log"),
		mounts: [{container_path: "/marker", host_path: $marker}],
		linux: {security_context: {seccomp: ({profile_type: $t} + if $ref == "" then {} else {localhost_ref: $ref} end)}}
	}' >"$file"
}

# cri_suite_setup [NRI_REQUIRED]: for a .bats file, a signing key, the
# configuration of the checks (enforce, the default policy), a
# seccomp-attestd on a socket of its own and the private containerd;
# the function CRI_BEFORE_START names, if any, runs just before
# containerd starts.
# Sets CRI_DIR, ATT_DIR, ATT_SOCK, ATT_CONFIG; the files of later tests
# find them in $BATS_FILE_TMPDIR/env.
cri_suite_setup() {
	cri_stack_ready
	CRI_DIR=$BATS_FILE_TMPDIR/cri
	ATT_DIR=$BATS_FILE_TMPDIR/att
	ATT_SOCKDIR=$(mktemp -d /run/sa-att.XXXXXX)
	ATT_SOCK=$ATT_SOCKDIR/hook.sock
	ATT_CONFIG=$ATT_DIR/config.yaml
	mkdir -p "$ATT_DIR"
	"$SECCOMP_ATTEST" keygen --out "$ATT_DIR/keys" >/dev/null
	cat >"$ATT_CONFIG" <<-YAML
		key: $ATT_DIR/keys/signing.key
		store: $ATT_DIR/store
		log: $ATT_DIR/checks.log
		mode: enforce
		deadline: 8s
	YAML
	att_daemon_start
	[ -z "${CRI_BEFORE_START:-}" ] || "$CRI_BEFORE_START"
	cri_start "$CRI_DIR" "${1:-}"
	local v
	for v in CRI_DIR ATT_DIR ATT_SOCKDIR ATT_SOCK ATT_CONFIG CRI_SOCK CRI_NRI_SOCK CRI_SOCKDIR; do
		printf '%s=%q\n' "$v" "${!v}"
	done >"$BATS_FILE_TMPDIR/env"
}

cri_suite_teardown() {
	[ -f "$BATS_FILE_TMPDIR/env" ] && source "$BATS_FILE_TMPDIR/env"
	[ -z "${CRI_DIR:-}" ] || cri_stop "$CRI_DIR"
	att_daemon_stop
	[ -z "${ATT_SOCKDIR:-}" ] || rm -rf "$ATT_SOCKDIR"
}

# att_daemon_start / att_daemon_stop: seccomp-attestd on ATT_SOCK.
att_daemon_start() {
	"$DAEMON" serve --socket "$ATT_SOCK" </dev/null >/dev/null 2>>"$ATT_DIR/daemon.log" 3>&- &
	echo $! >"$ATT_DIR/daemon.pid"
	wait_until test -S "$ATT_SOCK"
}
att_daemon_stop() {
	local pid
	pid=$(cat "$ATT_DIR/daemon.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_until sh -c "! kill -0 $pid 2>/dev/null"
	rm -f "$ATT_DIR/daemon.pid"
}

# run_pod NAME [PROFILE_TYPE [RUNTIME_HANDLER]]: crictl runp; sets $pod
# and $podjson, the pod's config (in its own directory, $pdir).
run_pod() {
	pdir=$BATS_TEST_TMPDIR/$1
	mkdir -p "$pdir"
	podjson=$pdir/pod.json
	pod_config "$podjson" "$1" "${2:-$CRI_RUNTIME_DEFAULT}"
	pod=$(crictl runp ${3:+--runtime "$3"} "$podjson")
}

# create_start NAME PROFILE_TYPE [LOCALHOST_REF]: a container in $pod that
# writes $marker/ran and sleeps; crictl create and start, the start's
# status and output in $status and $output, the container in $cid.
create_start() {
	local name=$1 type=$2 ref=${3:-}
	# A command line of its own, to find its process.
	sleep_arg=$((100000 + RANDOM))$BATS_TEST_NUMBER
	marker=$pdir/$name.marker
	container_config "$pdir/$name.json" "$name" "$type" $ref -- /bin/sh -c "echo ran > /marker/ran; exec sleep $sleep_arg"
	cid=$(crictl create "$pod" "$pdir/$name.json" "$podjson")
	run crictl start "$cid"
}

# attestation ID: the store's attestation of container ID.
attestation() {
	ls "$ATT_DIR/store/"*"-$1.intoto.jsonl" 2>/dev/null | head -n 1
}
payload() { jq -r .payload "$1" | base64 -d; }

# assert_attested_pass ID [PODNAME]: the container's attestation passes,
# verifies with seccomp-attest and cosign against the bundle's config.json,
# and names the pod PODNAME of namespace sa-test.
assert_attested_pass() {
	local id=$1 podname=${2:-} f p
	f=$(attestation "$id")
	[ -n "$f" ]
	p=$(payload "$f")
	[ "$(jq -r .predicate.verdict.result <<<"$p")" = pass ]
	[ "$(jq -r .predicate.container.runtime.version <<<"$p")" = "$("$CRI_RUNC" --version | sed -n 's/^runc version //p')" ]
	run "$SECCOMP_ATTEST" verify --key "$ATT_DIR/keys/signing.pub" "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "OK "*"container $id"* ]]
	if [ -n "$podname" ]; then
		# The workload: the predicate, verify's line.
		[ "$(jq -c '.predicate.container.kubernetes | {namespace, pod}' <<<"$p")" = "{\"namespace\":\"sa-test\",\"pod\":\"$podname\"}" ]
		[[ $output == *"container $id  pod sa-test/$podname/"* ]]
	fi
	if command -v cosign >/dev/null; then
		run cosign verify-blob-attestation --key "$ATT_DIR/keys/signing.pub" --signature "$f" \
			--type "$(jq -r .predicateType <<<"$p")" --insecure-ignore-tlog \
			"$CRI_DIR/state/io.containerd.runtime.v2.task/k8s.io/$id/config.json"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ $output == *"Verified OK"* ]]
	else
		echo "# cosign not installed: verified by seccomp-attest only" >&3
	fi
}

# assert_refused WORDS: the last create_start was refused before the
# program's first instruction: start failed, the CRI status carries the
# reason, the program never wrote its marker, no process of it runs or
# is held stopped under ptrace.
assert_refused() {
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"refused by policy"*"$1"* ]]
	local st
	st=$(crictl inspect "$cid" | jq .status)
	[ "$(jq -r .state <<<"$st")" = CONTAINER_EXITED ]
	[ "$(jq -r .reason <<<"$st")" = StartError ]
	[[ $(jq -r .message <<<"$st") == *"refused by policy"*"$1"* ]]
	[ ! -e "$marker/ran" ]
	! pgrep -f "sleep $sleep_arg" >/dev/null
	no_process_of "$cid"
}

# no_process_of ID: no process is in a cgroup of container ID (the
# runtime names the container's cgroup after its id), so none runs and
# none is held stopped under ptrace; and no process is in a ptrace stop
# with the container's command line.
no_process_of() {
	local left
	left=$(grep -l -- "$1" /proc/[0-9]*/cgroup 2>/dev/null || true)
	[ -z "$left" ] || { echo "processes of container $1 left: $left" >&2; return 1; }
	left=$(ps -eo stat=,pid=,args= | awk -v a="sleep $sleep_arg" '$1 ~ /^t/ && index($0, a)' || true)
	[ -z "$left" ] || { echo "in a trace stop: $left" >&2; return 1; }
}

# checks_without_daemon [HANDLER]: with seccomp-attestd stopped, a pod (of
# HANDLER) still gets its containers checked, in the hook's or the
# wrapper's own process: a RuntimeDefault one passes and is attested, an
# Unconfined one is refused.
checks_without_daemon() {
	att_daemon_stop
	run_pod nodaemon "$CRI_RUNTIME_DEFAULT" "${1:-}"
	create_start app "$CRI_RUNTIME_DEFAULT"
	[ "$status" -eq 0 ]
	assert_attested_pass "$cid" nodaemon
	create_start bad "$CRI_UNCONFINED"
	assert_refused "allowUnconfined"
	att_daemon_start
}
