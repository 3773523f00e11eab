#!/usr/bin/env bash
# base.sh: the Debian 12 image every locally built image with a libc starts
# from (proxyv2, pilot, kube-proxy): debootstrap minbase plus iptables,
# nftables, iproute2, curl (the in-mesh client's) and CA certificates, imported with `docker import`.
# Output: $IMAGE_REGISTRY/debian-slim:12. Needs root and a Debian mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"

image="$IMAGE_REGISTRY/debian-slim:12"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=iptables,nftables,iproute2,ca-certificates,procps,curl
hash=$(inputs_hash "$here/base.sh" "$mirror" "$packages")
if image_current "$image" "$hash"; then
	log "$image is current"
	exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "debootstrap bookworm ($packages) into $work"
debootstrap --variant=minbase --include="$packages" bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/*
tar -C "$work/rootfs" -c . | docker import \
	--change "LABEL meshcheck.inputs=$hash" \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'CMD ["/bin/bash"]' - "$image" >/dev/null
log "built $image ($(docker image inspect --format '{{.Size}}' "$image") bytes)"
