#!/usr/bin/env bash
# oci-archive.sh ROOTFS NAME ENTRYPOINT: write to stdout an OCI image archive
# (oci-layout, index.json, one uncompressed layer) of the directory ROOTFS,
# named NAME (a containerd image name in index.json's annotations) and
# running ENTRYPOINT. `ctr images import` reads it: no registry needed.
# The layer's files belong to root and carry a fixed time, so the same
# ROOTFS gives the same image digest.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: oci-archive.sh ROOTFS NAME ENTRYPOINT" >&2; exit 2; }
rootfs=$1 name=$2 entrypoint=$3
[ -d "$rootfs" ] || { echo "oci-archive.sh: $rootfs is not a directory" >&2; exit 1; }

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# blob FILE: move FILE into the blob store, print "digest size".
blob() {
	local digest size
	digest=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$work/blobs/sha256/$digest"
	echo "$digest $size"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$work/layer" .
read -r layer layer_size < <(blob "$work/layer")

jq -n --arg arch "$arch" --arg diff "sha256:$layer" --arg ep "$entrypoint" '{
	architecture: $arch, os: "linux",
	config: {Entrypoint: [$ep], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
	rootfs: {type: "layers", diff_ids: [$diff]}
}' >"$work/config"
read -r config config_size < <(blob "$work/config")

jq -n --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" --argjson ls "$layer_size" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]
}' >"$work/manifest"
read -r manifest manifest_size < <(blob "$work/manifest")

jq -n --arg arch "$arch" --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg n "$name" '{
	schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		platform: {architecture: $arch, os: "linux"},
		annotations: {"io.containerd.image.name": $n, "org.opencontainers.image.ref.name": ($n | sub(".*:"; ""))}}]
}' >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf - oci-layout index.json blobs
