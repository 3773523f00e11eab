# shellcheck shell=bash
# Shared helpers for the image builders in build/images. Source it.
#
# Every image carries the label meshcheck.inputs=<sha256 of its inputs>; a
# builder skips the build when the image already exists with that label, so
# a second `make images` with unchanged inputs only hashes.

set -euo pipefail

MESHCHECK_CACHE=${MESHCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshcheck}
IMAGE_REGISTRY=${IMAGE_REGISTRY:-meshcheck.local}
# Every builder's names and versions, defaulted here once (the Makefile
# passes its own values down).
ISTIO_HUB=${ISTIO_HUB:-$IMAGE_REGISTRY/istio}
ISTIO_TAG=${ISTIO_TAG:-local}
FIXTURE_REGISTRY=${FIXTURE_REGISTRY:-$IMAGE_REGISTRY}
FIXTURE_TAG=${FIXTURE_TAG:-local}
K8S_VERSION=${K8S_VERSION:-1.34.4}
K8S_VERSION=${K8S_VERSION#v}

log() { printf '[images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf 'images: %s\n' "$*" >&2; exit 1; }

# inputs_hash FILE_OR_STRING...: sha256 over the named files' contents (or
# the literal strings for arguments that are not files), in order.
inputs_hash() {
	local a
	for a in "$@"; do
		if [[ -f $a ]]; then
			printf 'file %s\n' "$(basename "$a")"
			cat "$a"
		else
			printf 'str %s\n' "$a"
		fi
	done | sha256sum | cut -c1-64
}

# image_current IMAGE HASH: true when IMAGE exists with label meshcheck.inputs=HASH.
image_current() {
	local got
	got=$(docker image inspect --format '{{ index .Config.Labels "meshcheck.inputs" }}' "$1" 2>/dev/null) || return 1
	[[ $got == "$2" ]]
}

# base_image_id: the ID of $IMAGE_REGISTRY/debian-slim:12 (an input of
# every image built on it); fails naming the script that builds it.
base_image_id() {
	docker image inspect --format '{{.Id}}' "$IMAGE_REGISTRY/debian-slim:12" 2>/dev/null ||
		die "$IMAGE_REGISTRY/debian-slim:12 not found: build it first (build/images/base.sh or make images)"
}

# tree_hash DIR: sha256 over every file under DIR (path and contents) and
# every symlink (path and target), .git and out/ left out, so an edit
# anywhere in a source tree changes it.
tree_hash() {
	(
		cd "$1"
		find . \( -path ./.git -o -path ./out \) -prune -o -type l -printf 'link %p -> %l\n' | LC_ALL=C sort
		find . \( -path ./.git -o -path ./out \) -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	) | sha256sum | cut -c1-64
}

# build_image IMAGE HASH CONTEXT_DIR: docker build (the legacy builder, which
# needs no registry for FROM scratch or a local image) of CONTEXT_DIR's
# Dockerfile, labelled meshcheck.inputs=HASH. The image it replaces is
# removed when nothing else names it.
build_image() {
	local image=$1 hash=$2 ctx=$3 old
	old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
	DOCKER_BUILDKIT=0 docker build -q --label "meshcheck.inputs=$hash" -t "$image" "$ctx" >"$ctx.build.log" 2>&1 ||
		{ cat "$ctx.build.log" >&2; die "docker build of $image failed (output above)"; }
	if [[ -n $old && $old != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
		docker image rm "$old" >/dev/null 2>&1 || true
	fi
	log "built $image ($(image_size "$image"))"
}

# image_size IMAGE: its size in MB, as docker images shows it.
image_size() {
	docker image inspect --format '{{.Size}}' "$1" | awk '{printf "%.1f MB", $1 / 1e6}'
}
