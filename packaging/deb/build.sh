#!/usr/bin/env bash
# packaging/deb/build.sh OUTDIR: build the Debian package from the staged
# tree that `make install DESTDIR=... PACKAGING=1` made in STAGE, with
# dpkg-deb: it is on every Debian machine, needs no network, and the
# package is simple enough (no compiled-in packaging logic) not to need
# debhelper or nfpm.
#
#   STAGE    the staged root (required)
#   VERSION  the package version (required)
set -euo pipefail

out=${1:?usage: build.sh OUTDIR}
: "${STAGE:?STAGE is required}" "${VERSION:?VERSION is required}"
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)

install -d -m 0755 "$STAGE/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	"$here/control.in" >"$STAGE/DEBIAN/control"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$STAGE/DEBIAN/"
# Every file under /etc is a conffile: dpkg keeps local changes on upgrade
# and removal, and deletes the files on purge.
(cd "$STAGE" && find etc -type f | sort | sed 's|^|/|') >"$STAGE/DEBIAN/conffiles"
[ -s "$STAGE/DEBIAN/conffiles" ] || rm "$STAGE/DEBIAN/conffiles"

mkdir -p "$out"
deb=$out/seccomp-attest_${VERSION}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$deb" >/dev/null
echo "$deb"
