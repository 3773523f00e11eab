# shellcheck shell=bash
# Shared helpers for the image builders in hack/images. Source it.
#
# Every image carries the label meshcheck.inputs=<sha256 of its inputs>; a
# builder skips the build when the image already exists with that label, so
# a second `make images` with unchanged inputs only hashes.

set -euo pipefail

MESHCHECK_CACHE=${MESHCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshcheck}
IMAGE_REGISTRY=${IMAGE_REGISTRY:-meshcheck.local}

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
