#!/usr/bin/env bash
# fixtures.sh: the images the fixtures name, built from this repository
# (ko-style: one static Go binary, cmd/meshcheck-app, FROM scratch):
#
#   $FIXTURE_REGISTRY/examples-bookinfo-{productpage,details,ratings}-v1:$FIXTURE_TAG   port 9080
#   $FIXTURE_REGISTRY/examples-bookinfo-reviews-{v1,v2,v3}:$FIXTURE_TAG                 port 9080
#   $FIXTURE_REGISTRY/whoami:$FIXTURE_TAG                                                port 80
#   $FIXTURE_REGISTRY/curl:$FIXTURE_TAG   the in-mesh client: debian-slim with /bin/sleep, curl and meshcheck-app
#
# Defaults: FIXTURE_REGISTRY=$IMAGE_REGISTRY (meshcheck.local), FIXTURE_TAG=local.
# The binary is at /usr/local/bin/meshcheck-app in every image. Each app
# image's ENTRYPOINT is `meshcheck-app run --app APP --listen :PORT`, so
# Kubernetes args (or docker run arguments) are appended flags: `--name vm1`.
# The binary is rebuilt every time (seconds with a warm Go cache; -trimpath
# makes it reproducible) and its sha256 is the images' inputs hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"
GO=${GO:-go}

registry=$FIXTURE_REGISTRY
tag=$FIXTURE_TAG
base="$IMAGE_REGISTRY/debian-slim:12"

work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-fixture-images.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 $GO build -trimpath -ldflags '-s -w' -o "$work/meshcheck-app" ./cmd/meshcheck-app) ||
	die "go build ./cmd/meshcheck-app failed (output above)"
app_hash=$(sha256sum "$work/meshcheck-app" | cut -c1-64)

# app_image NAME APP PORT USER [FLAGS...]: NAME FROM scratch running APP.
app_image() {
	local name=$1 app=$2 port=$3 user=$4
	shift 4
	local image="$registry/$name:$tag" entry flag
	entry="\"/usr/local/bin/meshcheck-app\", \"run\", \"--app\", \"$app\", \"--listen\", \":$port\""
	for flag in "$@"; do entry+=", \"$flag\""; done
	local hash
	hash=$(inputs_hash "$here/fixtures.sh" "$app_hash" "$entry" "$user")
	if image_current "$image" "$hash"; then
		log "$image is current"
		return
	fi
	mkdir -p "$work/$name"
	ln "$work/meshcheck-app" "$work/$name/meshcheck-app"
	cat >"$work/$name/Dockerfile" <<EOF
FROM scratch
COPY meshcheck-app /usr/local/bin/meshcheck-app
ENV PATH=/usr/local/bin
EXPOSE $port
USER $user
ENTRYPOINT [$entry]
EOF
	build_image "$image" "$hash" "$work/$name"
}

# The upstream Bookinfo images run as UID 1000 (reviews: 1001), whoami as root.
app_image examples-bookinfo-productpage-v1 bookinfo-productpage 9080 1000
app_image examples-bookinfo-details-v1 bookinfo-details 9080 1000
app_image examples-bookinfo-ratings-v1 bookinfo-ratings 9080 1000
for v in v1 v2 v3; do
	app_image "examples-bookinfo-reviews-$v" bookinfo-reviews 9080 1001 --version "$v"
done
app_image whoami whoami 80 0

# curl: the fixtures run it as `/bin/sleep infinity` and exec requests in it:
# meshcheck-app fetch, or curl (what engines/traffic's ExecTransport runs),
# which the base image has.
image="$registry/curl:$tag"
base_id=$(base_image_id)
hash=$(inputs_hash "$here/fixtures.sh" "$app_hash" "$base_id")
if image_current "$image" "$hash"; then
	log "$image is current"
else
	mkdir -p "$work/curl"
	ln "$work/meshcheck-app" "$work/curl/meshcheck-app"
	cat >"$work/curl/Dockerfile" <<EOF
FROM $base
COPY meshcheck-app /usr/local/bin/meshcheck-app
CMD ["/bin/sleep", "infinity"]
EOF
	build_image "$image" "$hash" "$work/curl"
fi
printf 'FIXTURE_REGISTRY=%s\nFIXTURE_TAG=%s\n' "$registry" "$tag"
