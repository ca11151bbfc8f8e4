#!/usr/bin/env bats
# Installing seccomp-attest: `make install`/`make uninstall` into a staging
# root, and the Debian package installed on this machine with dpkg, with
# podman picking up the hook from the default hooks.d (no --hooks-dir).
#
# The .deb test changes the machine while it runs: its hooks.d files apply
# to every podman container. teardown always purges the package, and takes
# away the key and the store when this test created them.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
STORE=/var/lib/seccomp-attest
KEYS=/etc/seccomp-attest/keys

teardown() {
	cleanup_containers
	if [ -n "${installed_by_test:-}" ]; then
		dpkg --purge seccomp-attest >/dev/null 2>&1 || true
		[ "$had_keys" = 1 ] || rm -rf "$KEYS"
		[ "$had_store" = 1 ] || rm -rf "$STORE"
		rmdir /etc/seccomp-attest 2>/dev/null || true
	fi
}

@test "package: make install and make uninstall into DESTDIR with another PREFIX" {
	d=$BATS_TEST_TMPDIR/root
	make -C "$REPO" -s install DESTDIR="$d" PREFIX=/usr/local HOOKSDIR=/etc/containers/oci/hooks.d >/dev/null
	[ -x "$d/usr/local/bin/seccomp-attest" ]
	# The Makefile stamps the version (not the go command's "(devel)").
	"$d/usr/local/bin/seccomp-attest" --version | grep -Eq '^seccomp-attest version [0-9]'
	[ -f "$d/usr/local/share/man/man1/seccomp-attest-ps.1.gz" ]
	zcat "$d/usr/local/share/man/man1/seccomp-attest-report.1.gz" | grep -q '^\.SH NAME'
	[ -f "$d/usr/local/share/bash-completion/completions/seccomp-attest" ]
	[ -f "$d/usr/local/share/zsh/vendor-completions/_seccomp-attest" ]
	[ -f "$d/usr/local/share/fish/vendor_completions.d/seccomp-attest.fish" ]
	cmp "$REPO/pkg/policy/default.yaml" "$d/etc/seccomp-attest/policy.yaml"
	cmp "$REPO/packaging/config.yaml" "$d/etc/seccomp-attest/config.yaml"
	[ "$(stat -c %a "$d/var/lib/seccomp-attest")" = 700 ]
	# A staged install creates no key: that belongs to the target machine.
	[ ! -e "$d/etc/seccomp-attest/keys" ]
	if [ -x "$REPO/bin/seccomp-attest-hook" ]; then
		[ -x "$d/usr/local/libexec/seccomp-attest/seccomp-attest-hook" ]
		[ -x "$d/usr/local/libexec/seccomp-attest/seccomp-attestd" ]
		grep -qx 'ExecStart=/usr/local/libexec/seccomp-attest/seccomp-attestd serve' "$d/usr/local/lib/systemd/system/seccomp-attestd.service"
		for f in "$REPO"/hooks.d/*.json; do
			j=$d/etc/containers/oci/hooks.d/$(basename "$f")
			[ "$(jq -r .hook.path "$j")" = /usr/local/libexec/seccomp-attest/seccomp-attest-hook ]
			[ "$(jq -c .stages "$j")" = "$(jq -c .stages "$f")" ]
		done
		# The recording precreate hook: its own directory, not the hooks.d
		# CRI-O and buildah read.
		j=$d/usr/local/share/seccomp-attest/record/hooks.d/seccomp-attest-record-precreate.json
		[ "$(jq -r .hook.path "$j")" = /usr/local/bin/seccomp-attest ]
		[ "$(jq -c .stages "$j")" = '["precreate"]' ]
		[ -z "$(grep -rl precreate "$d/etc/containers/oci/hooks.d")" ]
	fi

	# A second install keeps a changed configuration.
	echo "# local change" >>"$d/etc/seccomp-attest/policy.yaml"
	make -C "$REPO" -s install DESTDIR="$d" PREFIX=/usr/local HOOKSDIR=/etc/containers/oci/hooks.d >/dev/null 2>&1
	tail -n1 "$d/etc/seccomp-attest/policy.yaml" | grep -q '# local change'

	# Uninstall takes every file it installed, but the changed policy, the
	# keys and the attestations.
	mkdir -p "$d/etc/seccomp-attest/keys"
	echo key >"$d/etc/seccomp-attest/keys/signing.key"
	echo attestation >"$d/var/lib/seccomp-attest/00000001-x.intoto.jsonl"
	run make -C "$REPO" -s uninstall DESTDIR="$d" PREFIX=/usr/local HOOKSDIR=/etc/containers/oci/hooks.d
	[ "$status" -eq 0 ]
	[[ "$output" == *"keeping $d/etc/seccomp-attest/policy.yaml: it was changed"* ]]
	left=$(cd "$d" && find . -type f | sort)
	echo "left: $left"
	[ "$left" = "$(printf '%s\n' ./etc/seccomp-attest/keys/signing.key ./etc/seccomp-attest/policy.yaml \
		./var/lib/seccomp-attest/00000001-x.intoto.jsonl)" ]
}

@test "package: the .deb installs, podman runs the hook without --hooks-dir, removal is clean" {
	if dpkg-query -W -f='${Status}' seccomp-attest 2>/dev/null | grep -q 'ok installed'; then
		skip "seccomp-attest is already installed on this machine: not touching a package this test did not install"
	fi
	had_keys=0 had_store=0
	[ -e "$KEYS/signing.key" ] && had_keys=1
	[ -d "$STORE" ] && had_store=1
	# --no-print-directory: under make (make ci) the sub-make would add
	# "Entering directory" lines around the package path.
	run make -C "$REPO" -s --no-print-directory deb
	[ "$status" -eq 0 ]
	deb=$(tail -n1 <<<"$output")
	[[ "$deb" == build/seccomp-attest_*_amd64.deb ]]
	deb=$REPO/$deb
	version=$(dpkg-deb -f "$deb" Version)
	installed_by_test=1
	run dpkg -i "$deb"
	echo "$output"
	[ "$status" -eq 0 ]

	# Files, owners and modes.
	[ "$(stat -c '%U %a' /usr/bin/seccomp-attest)" = "root 755" ]
	[ "$(/usr/bin/seccomp-attest --version)" = "seccomp-attest version $version" ]
	[ -f /usr/share/man/man1/seccomp-attest-ps.1.gz ]
	if command -v man >/dev/null; then
		[ "$(man -w seccomp-attest-ps)" = /usr/share/man/man1/seccomp-attest-ps.1.gz ]
	fi
	[ -f /usr/share/bash-completion/completions/seccomp-attest ]
	cmp "$REPO/pkg/policy/default.yaml" /etc/seccomp-attest/policy.yaml
	dpkg-query -W -f='${Conffiles}\n' seccomp-attest | grep -q '/etc/seccomp-attest/policy.yaml'
	[ "$(stat -c %a "$STORE")" = 700 ]
	[ "$(stat -c '%U %a' "$KEYS/signing.key")" = "root 600" ]
	key_before=$(sha256sum <"$KEYS/signing.key")
	run /usr/bin/seccomp-attest ps
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "PID "*"VERDICT"*"SCORE" ]]

	# The Docker wrapper, when built, and its daemon.json registration
	# script (the package never edits daemon.json itself).
	if [ -x "$REPO/bin/wrapper-runc" ]; then
		[ "$(stat -c '%U %a' /usr/bin/wrapper-runc)" = "root 755" ]
		if [ -f "$REPO/packaging/docker/register.sh" ]; then
			[ -x /usr/share/seccomp-attest/docker/register.sh ]
		fi
	fi

	hook=0
	if [ -x "$REPO/bin/seccomp-attest-hook" ] && compgen -G "$REPO/hooks.d/*.json" >/dev/null; then
		hook=1
		[ "$(stat -c '%U %a' /usr/libexec/seccomp-attest/seccomp-attest-hook)" = "root 755" ]
		[ "$(stat -c '%U %a' /usr/libexec/seccomp-attest/seccomp-attestd)" = "root 755" ]
		grep -qx 'ExecStart=/usr/libexec/seccomp-attest/seccomp-attestd serve' /usr/lib/systemd/system/seccomp-attestd.service
		for f in "$REPO"/hooks.d/*.json; do
			cmp "$f" "/usr/share/containers/oci/hooks.d/$(basename "$f")"
		done
		# podman reads the package's hooks.d by default: the container is
		# attested into the host store, signed by the host key.
		name=$(container_name podman)
		register_container podman "$name"
		podman "${PODMAN_FLAGS[@]}" --runtime runc run -d --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			localhost/bb:latest sleep 1000 >/dev/null
		cid=$(podman "${PODMAN_FLAGS[@]}" inspect -f '{{.Id}}' "$name")
		wait_until compgen -G "$STORE/*-$cid.intoto.jsonl"
		att=$(ls "$STORE"/*-"$cid".intoto.jsonl | tail -n1)
		run /usr/bin/seccomp-attest verify --key "$KEYS/signing.pub" "$att"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"container $cid"*"verdict pass"* ]]
		run /usr/bin/seccomp-attest ps --format json --key "$KEYS/signing.pub"
		[ "$status" -eq 0 ]
		[ "$(jq -r --arg c "$cid" '.processes[] | select(.container.id == $c) | .attestation.verdict' <<<"$output")" = pass ]
		# The auditor's tools on the package's output: the HTML report...
		run /usr/bin/seccomp-attest report "$att" --key "$KEYS/signing.pub" --html -
		[ "$status" -eq 0 ]
		[[ "$output" == *"Container <code>$cid</code> <span class=\"verdict v-pass\">pass</span>"* ]]
		[[ "$output" == *'<th>Intended</th><th>Effective</th>'* ]]
		# ... and cosign, on the config.json podman keeps for the container.
		if command -v cosign >/dev/null; then
			cosign verify-blob-attestation --key "$KEYS/signing.pub" --signature "$att" \
				--type https://seccomp-attest.dev/attestation/v1 --insecure-ignore-tlog \
				"/var/lib/containers/storage/overlay-containers/$cid/userdata/config.json"
		fi
		podman "${PODMAN_FLAGS[@]}" rm -f -t 0 "$name" >/dev/null
	fi

	# Removal: programs, hook, hooks.d, man pages and completions go;
	# configuration (conffiles), key and attestations stay.
	run dpkg -r seccomp-attest
	[ "$status" -eq 0 ]
	[ ! -e /usr/bin/seccomp-attest ]
	[ ! -e /usr/bin/wrapper-runc ]
	[ ! -e /usr/share/seccomp-attest ]
	[ ! -e /usr/libexec/seccomp-attest ]
	[ ! -e /usr/lib/systemd/system/seccomp-attestd.service ]
	! compgen -G "/usr/share/containers/oci/hooks.d/seccomp-attest-*.json"
	! compgen -G "/usr/share/man/man1/seccomp-attest*"
	[ ! -e /usr/share/bash-completion/completions/seccomp-attest ]
	[ -f /etc/seccomp-attest/config.yaml ]
	[ "$(sha256sum <"$KEYS/signing.key")" = "$key_before" ]
	[ "$hook" = 0 ] || [ -f "$att" ]
	[ "$(dpkg-query -W -f='${Status}' seccomp-attest)" = "deinstall ok config-files" ]

	# Purge: the configuration goes too; the key and the attestations stay.
	run dpkg --purge seccomp-attest
	[ "$status" -eq 0 ]
	[[ "$output" == *"kept the attestations"* ]]
	[ ! -e /etc/seccomp-attest/config.yaml ]
	[ ! -e /etc/seccomp-attest/policy.yaml ]
	[ "$(sha256sum <"$KEYS/signing.key")" = "$key_before" ]
	if [ "$hook" = 1 ]; then
		[ -f "$att" ]
		# podman no longer runs the hook: no new attestation.
		before=$(ls "$STORE" | wc -l)
		name=$(container_name podman-after)
		register_container podman "$name"
		podman "${PODMAN_FLAGS[@]}" --runtime runc run --rm --name "$name" "${PODMAN_RUN_FLAGS[@]}" \
			localhost/bb:latest true
		[ "$(ls "$STORE" | wc -l)" = "$before" ]
	else
		skip "the hook is not built (bin/seccomp-attest-hook, hooks.d/): podman part not run"
	fi
}
