#!/usr/bin/env bash
# install-cosign.sh installs cosign v2.6.5 into /usr/local/bin unless a cosign
# is already on PATH. The attestation tests verify our output with it. It is
# a separate step because the build takes several minutes.
set -euo pipefail

COSIGN_VERSION=${COSIGN_VERSION:-v2.6.5}
GOBIN_DIR=${COSIGN_GOBIN:-/usr/local/bin}

if command -v cosign >/dev/null 2>&1; then
	echo "install-cosign: $(command -v cosign) already installed" >&2
	exit 0
fi
command -v go >/dev/null 2>&1 || PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null 2>&1 || { echo "install-cosign: error: go not found" >&2; exit 1; }
echo "install-cosign: go install github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION (takes minutes)" >&2
GOBIN=$GOBIN_DIR go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
"$GOBIN_DIR/cosign" version >/dev/null
echo "install-cosign: installed $GOBIN_DIR/cosign" >&2
