#!/usr/bin/env bash
# packaging/install.sh install|uninstall: put seccomp-attest's files in
# place (or take them away) following the agreed layout; `make install`,
# `make uninstall` and `make deb` call it with these variables:
#
#   DESTDIR     staging root (empty: this machine)
#   PREFIX      programs, man pages, completions (default /usr)
#   SYSTEMDDIR  where the seccomp-attestd unit goes (default $PREFIX/lib/systemd/system)
#   HOOKSDIR    hooks.d directory podman and CRI-O read
#               (default $PREFIX/share/containers/oci/hooks.d; with a
#               PREFIX other than /usr, set /etc/containers/oci/hooks.d)
#   BIN         built binaries (bin/), GENDIR generated man pages and
#               completions (build/gen)
#   PACKAGING   1 when staging a package: no store, no key (postinst makes
#               them on the target machine)
#
# The configuration (/etc/seccomp-attest) and the store
# (/var/lib/seccomp-attest) do not move with PREFIX: the programs look for
# them there. Installing never overwrites a configuration file; uninstalling
# removes a configuration file only if it is unchanged, and never touches
# the keys or the attestations.
set -euo pipefail

PREFIX=${PREFIX:-/usr}
DESTDIR=${DESTDIR:-}
BIN=${BIN:-bin}
GENDIR=${GENDIR:-build/gen}
BINDIR=$PREFIX/bin
LIBEXECDIR=$PREFIX/libexec/seccomp-attest
MANDIR=$PREFIX/share/man
DATADIR=$PREFIX/share
HOOKSDIR=${HOOKSDIR:-$PREFIX/share/containers/oci/hooks.d}
SYSTEMDDIR=${SYSTEMDDIR:-$PREFIX/lib/systemd/system}
CONFDIR=/etc/seccomp-attest
STOREDIR=/var/lib/seccomp-attest
# The path the repository's hooks.d files name; rewritten for other prefixes.
HOOK_IN_JSON=/usr/libexec/seccomp-attest/seccomp-attest-hook

log() { echo "install.sh: $*" >&2; }
die() { echo "install.sh: error: $*" >&2; exit 1; }

# Shipped configuration files: installed name and source in the repository.
config_files=(
	"config.yaml packaging/config.yaml"
	"policy.yaml pkg/policy/default.yaml"
)

completion_files() { # prints "generated-name installed-path"
	echo "seccomp-attest.bash $DATADIR/bash-completion/completions/seccomp-attest"
	echo "_seccomp-attest $DATADIR/zsh/vendor-completions/_seccomp-attest"
	echo "seccomp-attest.fish $DATADIR/fish/vendor_completions.d/seccomp-attest.fish"
}

do_install() {
	[ -x "$BIN/seccomp-attest" ] || die "$BIN/seccomp-attest is missing: run make build"
	[ -d "$GENDIR/man" ] || die "$GENDIR/man is missing: run make docs"
	local d=$DESTDIR
	install -D -m 0755 "$BIN/seccomp-attest" "$d$BINDIR/seccomp-attest"
	# seccomp-attestd does the hook's and the wrapper's checks, as a
	# service or in their own processes.
	[ -x "$BIN/seccomp-attestd" ] || die "$BIN/seccomp-attestd is missing: run make build"
	install -D -m 0755 "$BIN/seccomp-attestd" "$d$LIBEXECDIR/seccomp-attestd"
	sed "s|/usr/libexec/seccomp-attest/|$LIBEXECDIR/|" packaging/systemd/seccomp-attestd.service |
		install -D -m 0644 /dev/stdin "$d$SYSTEMDDIR/seccomp-attestd.service"
	if [ -x "$BIN/wrapper-runc" ]; then
		install -D -m 0755 "$BIN/wrapper-runc" "$d$BINDIR/wrapper-runc"
	fi
	# The hook and its hooks.d files go together: a hooks.d file naming a
	# missing program would make podman fail every container.
	if [ -x "$BIN/seccomp-attest-hook" ] && compgen -G 'hooks.d/*.json' >/dev/null; then
		install -D -m 0755 "$BIN/seccomp-attest-hook" "$d$LIBEXECDIR/seccomp-attest-hook"
		install -d -m 0755 "$d$HOOKSDIR"
		local f
		for f in hooks.d/*.json; do
			sed "s|$HOOK_IN_JSON|$LIBEXECDIR/seccomp-attest-hook|" "$f" >"$d$HOOKSDIR/${f##*/}"
			chmod 0644 "$d$HOOKSDIR/${f##*/}"
		done
		# The recording precreate hook (podman only) goes to a directory of
		# its own, never to HOOKSDIR: CRI-O, buildah and NRI's hook
		# injector read HOOKSDIR too and refuse the whole directory when a
		# file names the precreate stage (docs/record.md).
		for f in hooks.d/record/*.json; do
			[ -e "$f" ] || continue
			install -d -m 0755 "$d$DATADIR/seccomp-attest/record/hooks.d"
			sed "s|\"/usr/bin/seccomp-attest\"|\"$BINDIR/seccomp-attest\"|" "$f" >"$d$DATADIR/seccomp-attest/record/hooks.d/${f##*/}"
			chmod 0644 "$d$DATADIR/seccomp-attest/record/hooks.d/${f##*/}"
		done
	else
		log "no hook built ($BIN/seccomp-attest-hook) or no hooks.d/*.json: hook not installed"
	fi
	install -d -m 0755 "$d$MANDIR/man1"
	local page
	for page in "$GENDIR"/man/*.1; do
		gzip -9n -c "$page" >"$d$MANDIR/man1/${page##*/}.gz"
		chmod 0644 "$d$MANDIR/man1/${page##*/}.gz"
	done
	local gen dest
	while read -r gen dest; do
		install -D -m 0644 "$GENDIR/completion/$gen" "$d$dest"
	done < <(completion_files)
	# Docker has no hooks.d: the operator registers the wrapper in
	# daemon.json (register.sh does it and reloads dockerd); installing
	# never edits another program's configuration.
	if [ -x "$BIN/wrapper-runc" ] && [ -f packaging/docker/register.sh ]; then
		install -D -m 0755 packaging/docker/register.sh "$d$DATADIR/seccomp-attest/docker/register.sh"
		[ ! -f packaging/docker/daemon.json ] ||
			install -D -m 0644 packaging/docker/daemon.json "$d$DATADIR/seccomp-attest/docker/daemon.json"
	fi
	# Kubernetes nodes: the NRI plugin, and the containerd runtime handler
	# drop-in that register.sh writes (never at install time).
	if [ -x "$BIN/seccomp-attest-nri" ]; then
		install -D -m 0755 "$BIN/seccomp-attest-nri" "$d$LIBEXECDIR/seccomp-attest-nri"
	fi
	if [ -x "$BIN/wrapper-runc" ] && [ -f packaging/containerd/register.sh ]; then
		install -D -m 0755 packaging/containerd/register.sh "$d$DATADIR/seccomp-attest/containerd/register.sh"
		install -D -m 0644 packaging/containerd/seccomp-attest.toml.in "$d$DATADIR/seccomp-attest/containerd/seccomp-attest.toml.in"
	fi
	install -D -m 0644 LICENSE "$d$DATADIR/doc/seccomp-attest/copyright"
	install -D -m 0644 README.md "$d$DATADIR/doc/seccomp-attest/README.md"

	install -d -m 0755 "$d$CONFDIR"
	local name src
	for entry in "${config_files[@]}"; do
		read -r name src <<<"$entry"
		if [ ! -e "$src" ]; then
			log "$src does not exist: $CONFDIR/$name not installed"
		elif [ -e "$d$CONFDIR/$name" ]; then
			log "keeping the existing $d$CONFDIR/$name"
		else
			install -m 0644 "$src" "$d$CONFDIR/$name"
		fi
	done
	if [ "${PACKAGING:-0}" = 1 ]; then
		return
	fi
	install -d -m 0700 "$d$STOREDIR"
	if [ -z "$d" ] && [ ! -e "$CONFDIR/keys/signing.key" ]; then
		"$BINDIR/seccomp-attest" keygen --out "$CONFDIR/keys" >/dev/null
		log "created the host signing key; give $CONFDIR/keys/signing.pub to auditors"
	fi
}

do_uninstall() {
	local d=$DESTDIR
	rm -f "$d$BINDIR/seccomp-attest" "$d$BINDIR/wrapper-runc" "$d$LIBEXECDIR/seccomp-attest-hook" \
		"$d$LIBEXECDIR/seccomp-attestd" "$d$LIBEXECDIR/seccomp-attest-nri" "$d$SYSTEMDDIR/seccomp-attestd.service"
	rmdir "$d$LIBEXECDIR" 2>/dev/null || true
	local f
	for f in hooks.d/*.json; do
		if [ -e "$f" ]; then
			rm -f "$d$HOOKSDIR/${f##*/}"
		fi
	done
	rm -f "$d$MANDIR"/man1/seccomp-attest.1.gz "$d$MANDIR"/man1/seccomp-attest-*.1.gz
	local gen dest
	while read -r gen dest; do
		rm -f "$d$dest"
	done < <(completion_files)
	rm -rf "$d$DATADIR/doc/seccomp-attest" "$d$DATADIR/seccomp-attest"
	local name src
	for entry in "${config_files[@]}"; do
		read -r name src <<<"$entry"
		if [ -e "$d$CONFDIR/$name" ]; then
			if [ -e "$src" ] && cmp -s "$src" "$d$CONFDIR/$name"; then
				rm -f "$d$CONFDIR/$name"
			else
				log "keeping $d$CONFDIR/$name: it was changed"
			fi
		fi
	done
	rmdir "$d$CONFDIR" 2>/dev/null || true
	log "kept the attestations ($d$STOREDIR) and the host key ($d$CONFDIR/keys)"
}

case "${1:-}" in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: $0 install|uninstall" ;;
esac
