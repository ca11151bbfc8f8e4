#!/usr/bin/env bats
# seccomp-attest report: HTML pages of real attestations, opened in
# headless Chromium (screenshot and DOM), single files and a store.

load helpers

need_chromium() {
	command -v chromium >/dev/null ||
		skip "chromium is not installed (scripts/setup-host.sh installs it)"
}

# chromium_run ARGS... URL: headless Chromium as root, offline, with a
# fresh profile, bounded in time.
chromium_run() {
	local profile
	profile=$(mktemp -d "$BATS_TEST_TMPDIR/chromium.XXXXXX")
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>"$BATS_TEST_TMPDIR/chromium.log"
}

# png_size FILE: "WIDTH HEIGHT" from the PNG header (IHDR, big-endian).
png_size() {
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
	od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }'
}

# attest_runc NAME: a runc container under Docker's default profile,
# attested into $store with the key in $keys; sets pid and id.
attest_runc() {
	local b=$BATS_TEST_TMPDIR/bundle-$1
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name "$1")
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	has_filters "$pid"
	"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" \
		--bundle "$b" --id "$id" --runtime runc >/dev/null
}

setup() {
	keys=$BATS_TEST_TMPDIR/keys
	store=$BATS_TEST_TMPDIR/store
	"$SECCOMP_ATTEST" keygen --out "$keys" >/dev/null
}

# predicate FILE FILTER: jq FILTER on the predicate of attestation FILE.
predicate() {
	jq -r .payload "$1" | base64 -d | jq -r ".predicate | $2"
}

@test "report: a real attestation renders in Chromium with its verdict and syscall rows" {
	need_chromium
	attest_runc web
	f=$store/00000001-$id.intoto.jsonl
	out=$BATS_TEST_TMPDIR/report.html
	run "$SECCOMP_ATTEST" report "$f" --key "$keys/signing.pub" --html "$out"
	[ "$status" -eq 0 ]
	[ -s "$out" ]

	# The page is self-contained: no script, nothing fetched.
	! grep -qi '<script' "$out"
	! grep -Eqi '(src|href)="(https?:)?//' "$out"

	chromium_run --dump-dom "file://$out" >"$BATS_TEST_TMPDIR/dom.html"
	dom=$BATS_TEST_TMPDIR/dom.html
	grep -q "Container <code>$id</code>" "$dom"
	verdict=$(predicate "$f" '.verdict.result')
	[ -n "$verdict" ] && [ "$verdict" != null ]
	grep -q "class=\"verdict v-$verdict\">$verdict<" "$dom"
	grep -q "Signatures verified with" "$dom"
	# The score the pipeline recorded, with one decimal.
	score=$(predicate "$f" '.score')
	[ "$score" != null ]
	grep -q "<tr><th>Score</th><td>$(printf '%.1f' "$score")</td></tr>" "$dom"
	# The bundle's config.json is the intended profile: the side by side
	# has both columns, and they agree.
	grep -q "<code>$BATS_TEST_TMPDIR/bundle-web/config.json</code>" "$dom"
	grep -q '<th>Intended</th><th>Effective</th>' "$dom"
	! grep -q 'class="syscall weaker"' "$dom"
	# Rows of the host architecture: read allowed, clone conditional,
	# reboot denied and listed compactly; ptrace (allowed by Docker's
	# profile on kernels >= 4.8) explained by the knowledge base.
	grep -A4 'data-syscall="read"' "$dom" | grep -q '<td class="allow">'
	grep -A4 'data-syscall="clone"' "$dom" | grep -q '<td class="cond">'
	! grep -q 'data-syscall="reboot"' "$dom"
	grep -Eq 'denied.*reboot' "$dom"
	grep -A6 'data-syscall="ptrace"' "$dom" | grep -q 'class="kb">tier 1:'
	# The digest on the page is the effective digest of the attestation.
	digest=$(jq -r .payload "$f" | base64 -d | jq -r --arg n "seccomp-filters/$pid" '.subject[] | select(.name == $n) | .digest.sha256')
	grep -q "$digest" "$dom"

	# A screenshot of the expected size that is not blank: much larger
	# than the PNG of an empty page of the same size.
	chromium_run --screenshot="$BATS_TEST_TMPDIR/page.png" --window-size=1280,2000 "file://$out"
	[ "$(png_size "$BATS_TEST_TMPDIR/page.png")" = "1280 2000" ]
	echo '<html><body></body></html>' >"$BATS_TEST_TMPDIR/blank.html"
	chromium_run --screenshot="$BATS_TEST_TMPDIR/blank.png" --window-size=1280,2000 "file://$BATS_TEST_TMPDIR/blank.html"
	page_bytes=$(stat -c %s "$BATS_TEST_TMPDIR/page.png")
	blank_bytes=$(stat -c %s "$BATS_TEST_TMPDIR/blank.png")
	echo "screenshot $page_bytes bytes, blank page $blank_bytes bytes"
	[ "$page_bytes" -gt $((blank_bytes * 10)) ]
}

@test "report: a container weaker than its config shows the weaker row first with its counterexample" {
	need_chromium
	b=$BATS_TEST_TMPDIR/bundle
	make_bundle "$b" sleep 1000
	docker_profile "$BATS_TEST_TMPDIR/profile.json"
	set_seccomp "$b" "$BATS_TEST_TMPDIR/profile.json"
	id=$(container_name runc)
	run_bundle runc "$b" "$id"
	pid=$(runtime_pid runc "$id")
	has_filters "$pid"
	# The config people review no longer allows uname; the kernel still
	# enforces the filter loaded at start, which does.
	jq '.linux.seccomp.syscalls |= map(.names -= ["uname"])' "$b/config.json" >"$b/config.json.new"
	mv "$b/config.json.new" "$b/config.json"
	run "$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --bundle "$b" --id "$id"
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
	f=$store/00000001-$id.intoto.jsonl
	[ "$(predicate "$f" .verdict.result)" = fail ]

	out=$BATS_TEST_TMPDIR/report.html
	"$SECCOMP_ATTEST" report "$f" --key "$keys/signing.pub" --html "$out"
	chromium_run --dump-dom "file://$out" >"$BATS_TEST_TMPDIR/dom.html"
	dom=$BATS_TEST_TMPDIR/dom.html
	grep -q 'class="verdict v-fail">fail<' "$dom"
	# The first syscall row of x86_64 is uname, weaker, intended denied,
	# effective allowed, with the input both filters were run on.
	first=$(grep -A12 'data-arch="x86_64"' "$dom" | grep -m1 -o '<tr class="syscall [a-z]*" data-syscall="[a-z0-9_]*"')
	[ "$first" = '<tr class="syscall weaker" data-syscall="uname"' ]
	row=$(grep -A8 'data-syscall="uname"' "$dom" | head -9)
	[[ "$row" == *'<td class="deny">'*ERRNO* ]]
	[[ "$row" == *'<td class="allow"><span class="rule">ALLOW</span>'* ]]
	[[ "$row" == *'<code>uname(0x'* ]]
	[ "$(grep -c 'class="syscall weaker"' "$dom")" -ge 1 ]
	chromium_run --screenshot="$BATS_TEST_TMPDIR/page.png" --window-size=1280,2000 "file://$out"
	[ "$(png_size "$BATS_TEST_TMPDIR/page.png")" = "1280 2000" ]
}

@test "report: fleet page over a store, with the chain checked" {
	need_chromium
	attest_runc web
	web=$id
	attest_runc db
	db=$id
	# The same container attested again (without its bundle: no intended
	# profile this time): the fleet shows the latest.
	"$SECCOMP_ATTEST" attest "pid:$pid" --key "$keys/signing.key" --store "$store" --id "$db" >/dev/null
	out=$BATS_TEST_TMPDIR/fleet.html
	run "$SECCOMP_ATTEST" report --store "$store" --key "$keys/signing.pub" --html "$out"
	[ "$status" -eq 0 ]
	chromium_run --dump-dom "file://$out" >"$BATS_TEST_TMPDIR/dom.html"
	dom=$BATS_TEST_TMPDIR/dom.html
	grep -q '2 containers (3 attestations read' "$dom"
	grep -q "Container <code>$web</code>" "$dom"
	grep -q "Container <code>$db</code>" "$dom"
	grep -q "00000003-$db.intoto.jsonl</code> (sequence 3)" "$dom"
	! grep -q "00000002-$db.intoto.jsonl" "$dom"
	grep -q 'Store chain: unbroken' "$dom"
	[ "$(grep -c '<tr class="container-row">' "$dom")" -eq 2 ]
	grep -q 'effective decisions only' "$dom"
	v=$(predicate "$store/00000001-$web.intoto.jsonl" .verdict.result)
	grep -A2 "<a href=\"#c1\"><code>$web</code>" "$dom" | grep -q "v-$v\">$v<"

	# A deleted attestation breaks the chain, and the page says so.
	rm "$store/00000002-$db.intoto.jsonl"
	run "$SECCOMP_ATTEST" report --store "$store" --key "$keys/signing.pub" --html "$out"
	[ "$status" -eq 0 ]
	grep -q 'Store chain broken' "$out"
	grep -q 'sequence 2 is missing' "$out"

	# A corrupt file in the store is shown as invalid, not hiding the rest.
	echo junk >"$store/00000004-junk.intoto.jsonl"
	run "$SECCOMP_ATTEST" report --store "$store" --key "$keys/signing.pub" --html "$out"
	[ "$status" -eq 0 ]
	grep -q "(unreadable) $store/00000004-junk.intoto.jsonl" "$out"
	grep -q "Container <code>$web</code>" "$out"
	rm "$store/00000004-junk.intoto.jsonl"

	# Another key: every attestation is shown as invalid.
	"$SECCOMP_ATTEST" keygen --out "$BATS_TEST_TMPDIR/other" >/dev/null
	run "$SECCOMP_ATTEST" report --store "$store" --key "$BATS_TEST_TMPDIR/other/signing.pub" --html -
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 pass, 0 fail, 0 error, 0 without verdict, 2 invalid"* ]]
	[[ "$output" == *"This attestation does not verify"* ]]
}

@test "report: errors exit 2 and leave no page behind" {
	out=$BATS_TEST_TMPDIR/x.html
	echo junk >"$BATS_TEST_TMPDIR/junk.jsonl"
	run "$SECCOMP_ATTEST" report "$BATS_TEST_TMPDIR/junk.jsonl" --html "$out"
	[ "$status" -eq 2 ]
	[[ "$output" == *"junk.jsonl: not a DSSE envelope"* ]]
	[ ! -e "$out" ]
	run "$SECCOMP_ATTEST" report "$BATS_TEST_TMPDIR/junk.jsonl"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--html OUT is required"* ]]
	run "$SECCOMP_ATTEST" report --store "$BATS_TEST_TMPDIR/nostore" --html "$out"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nostore"* ]]
	mkdir "$BATS_TEST_TMPDIR/empty"
	run "$SECCOMP_ATTEST" report --store "$BATS_TEST_TMPDIR/empty" --html "$out"
	[ "$status" -eq 2 ]
	[[ "$output" == *"holds no attestations"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/empty")" ]
}
