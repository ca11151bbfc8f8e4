#!/usr/bin/env bash
# register.sh: add (or update) a containerd 2.x CRI runtime handler whose
# runc shim (io.containerd.runc.v2) runs wrapper-runc in runc's place
# (BinaryName), as a drop-in of containerd's configuration. Kubernetes picks
# it with a RuntimeClass whose handler is NAME (packaging/kubernetes).
# Idempotent; containerd reads its configuration at start only, so restart
# it afterwards (--restart does, through systemd).
#
#   register.sh [--name NAME] [--path WRAPPER] [--config FILE] [--runtime REAL]
#               [--socket SOCKET] [--dropin-dir DIR] [--containerd-config FILE]
#               [--launcher-dir DIR] [--restart] [--remove]
#
# Defaults: NAME seccomp-attest, WRAPPER /usr/bin/wrapper-runc, DIR
# /etc/containerd/conf.d, FILE /etc/containerd/config.toml. The shim calls
# BinaryName with runc's arguments only, so when --config, --runtime or
# --socket is given the handler runs a two-line launcher,
# LAUNCHER_DIR/NAME (default /usr/local/libexec/seccomp-attest), that adds
# the wrapper's own flags; without them the wrapper's defaults apply
# (/etc/seccomp-attest/config.yaml, runc on the shim's PATH, seccomp-attestd
# at /run/seccomp-attest/hook.sock).
set -euo pipefail
export PATH=/usr/local/sbin:/usr/sbin:/sbin:$PATH

name=seccomp-attest
path=/usr/bin/wrapper-runc
config= real= socket=
dropin_dir=/etc/containerd/conf.d
containerd_config=/etc/containerd/config.toml
launcher_dir=/usr/local/libexec/seccomp-attest
restart=0 remove=0
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift 2 ;;
	--path) path=$2; shift 2 ;;
	--config) config=$2; shift 2 ;;
	--runtime) real=$2; shift 2 ;;
	--socket) socket=$2; shift 2 ;;
	--dropin-dir) dropin_dir=$2; shift 2 ;;
	--containerd-config) containerd_config=$2; shift 2 ;;
	--launcher-dir) launcher_dir=$2; shift 2 ;;
	--restart) restart=1; shift ;;
	--remove) remove=1; shift ;;
	*) echo "register.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
die() { echo "register.sh: $*" >&2; exit 1; }
# The name becomes a TOML key, a file name and a RuntimeClass handler
# (a DNS label there).
[[ $name =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "name $name is not a DNS label (RuntimeClass handlers must be)"
for p in "$path" "$dropin_dir" "$containerd_config" "$launcher_dir" ${config:+"$config"} ${real:+"$real"} ${socket:+"$socket"}; do
	[[ $p == /* ]] || die "$p is not an absolute path"
	[[ $p != *[\'\"\\$\`[:space:]]* ]] || die "$p has quotes, \$, \` or spaces"
done

dropin=$dropin_dir/$name.toml
launcher=$launcher_dir/$name

# replace FILE: move FILE.new over FILE unless equal (atomic, mode 0644).
replace() {
	if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else chmod "${2:-0644}" "$1.new" && mv "$1.new" "$1"; fi
}

restart_containerd() {
	if [ "$restart" = 1 ]; then
		systemctl restart containerd || die "systemctl restart containerd failed"
	else
		echo "register.sh: restart containerd to load $dropin (containerd reads its configuration at start)" >&2
	fi
}

if [ "$remove" = 1 ]; then
	rm -f "$dropin" "$launcher"
	restart_containerd
	exit 0
fi

[ -x "$path" ] || die "$path is not an executable"
[ -z "$real" ] || [ -x "$real" ] || die "$real is not an executable"

# containerd reads drop-ins through `imports` of its main configuration.
mkdir -p "$dropin_dir" "$(dirname "$containerd_config")"
glob="$dropin_dir/*.toml"
if [ ! -s "$containerd_config" ]; then
	printf 'version = 3\nimports = ["%s"]\n' "$glob" >"$containerd_config.new"
	replace "$containerd_config"
elif ! grep -qF "\"$glob\"" "$containerd_config"; then
	grep -qE '^[[:space:]]*imports[[:space:]]*=' "$containerd_config" &&
		die "$containerd_config has an imports list without \"$glob\": add it there"
	grep -qE '^[[:space:]]*version[[:space:]]*=[[:space:]]*[23][[:space:]]*$' "$containerd_config" ||
		die "$containerd_config is not a containerd 2.x configuration (version = 2 or 3)"
	# A top-level key: it goes before the first table.
	awk -v line="imports = [\"$glob\"]" '!done && /^[[:space:]]*\[/ { print line; done = 1 } { print } END { if (!done) print line }' \
		"$containerd_config" >"$containerd_config.new"
	replace "$containerd_config"
fi

binary=$path
if [ -n "$config$real$socket" ]; then
	mkdir -p "$launcher_dir"
	{
		echo '#!/bin/sh'
		echo "# containerd runtime handler $name: wrapper-runc with its flags (packaging/containerd/register.sh)"
		echo "exec $path${config:+ --seccomp-attest-config=$config}${real:+ --seccomp-attest-runtime=$real}${socket:+ --seccomp-attest-socket=$socket} \"\$@\""
	} >"$launcher.new"
	replace "$launcher" 0755
	binary=$launcher
else
	rm -f "$launcher"
fi

sed -e "s|@NAME@|$name|g" -e "s|@BINARY@|$binary|g" "$(dirname "$0")/seccomp-attest.toml.in" >"$dropin.new"
replace "$dropin"
restart_containerd
