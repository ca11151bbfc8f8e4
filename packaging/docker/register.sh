#!/usr/bin/env bash
# register.sh: add (or update) a runtime entry of /etc/docker/daemon.json
# for wrapper-runc and make the running dockerd load it, without
# restarting it (SIGHUP reloads "runtimes"). Other keys and runtimes of
# daemon.json are kept. Idempotent.
#
#   register.sh [--name NAME] [--path WRAPPER] [--config FILE] [--runtime REAL]
#               [--socket SOCKET] [--daemon-json FILE] [--remove]
#
# Defaults: NAME wrapper-runc, WRAPPER /usr/bin/wrapper-runc, FILE
# /etc/seccomp-attest/config.yaml, REAL runc on PATH, SOCKET (seccomp-attestd's)
# the wrapper's default, /run/seccomp-attest/hook.sock.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH

name=wrapper-runc
path=/usr/bin/wrapper-runc
config=/etc/seccomp-attest/config.yaml
real=
socket=
daemon_json=/etc/docker/daemon.json
remove=0
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift 2 ;;
	--path) path=$2; shift 2 ;;
	--config) config=$2; shift 2 ;;
	--runtime) real=$2; shift 2 ;;
	--socket) socket=$2; shift 2 ;;
	--daemon-json) daemon_json=$2; shift 2 ;;
	--remove) remove=1; shift ;;
	*) echo "register.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
die() { echo "register.sh: $*" >&2; exit 1; }
command -v jq >/dev/null || die "needs jq"
[ -n "$real" ] || real=$(command -v runc) || die "runc not found; pass --runtime PATH"

mkdir -p "$(dirname "$daemon_json")"
[ -s "$daemon_json" ] || echo '{}' >"$daemon_json"
jq -e 'type == "object"' "$daemon_json" >/dev/null || die "$daemon_json is not a JSON object"

tmp=$(mktemp "$daemon_json.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if [ "$remove" = 1 ]; then
	jq --arg n "$name" 'if .runtimes then .runtimes |= del(.[$n]) else . end' "$daemon_json" >"$tmp"
else
	[ -x "$path" ] || die "$path is not an executable"
	jq --arg n "$name" --arg p "$path" --arg c "$config" --arg r "$real" --arg s "$socket" \
		'.runtimes[$n] = {path: $p, runtimeArgs: (["--seccomp-attest-config=" + $c, "--seccomp-attest-runtime=" + $r]
			+ if $s == "" then [] else ["--seccomp-attest-socket=" + $s] end)}' \
		"$daemon_json" >"$tmp"
fi
if cmp -s "$tmp" "$daemon_json"; then
	rm -f "$tmp"
else
	chmod 0644 "$tmp"
	mv "$tmp" "$daemon_json" # atomic: dockerd never reads half a file
fi
trap - EXIT

pid=$(pidof dockerd || true)
[ -n "$pid" ] || { echo "register.sh: dockerd not running; $daemon_json is read at its start" >&2; exit 0; }
kill -HUP $pid
# The reload is asynchronous: wait until the daemon reports the change.
for _ in $(seq 100); do
	if docker info --format '{{json .Runtimes}}' 2>/dev/null | jq -e --arg n "$name" --argjson rm "$remove" \
		--argjson want "$(jq -c --arg n "$name" '.runtimes[$n]' "$daemon_json")" \
		'if $rm == 1 then has($n) | not else .[$n] == $want end' >/dev/null; then
		exit 0
	fi
	sleep 0.1
done
die "dockerd did not pick up runtime $name (see its log)"
