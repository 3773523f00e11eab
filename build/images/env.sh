#!/usr/bin/env bash
# env.sh: prints, as shell assignments, what make e2e-airgap hands the kind
# backend about the images make images built (same defaults and overrides
# as node.sh, istio.sh and fixtures.sh). hack/e2e-kind.sh sources it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"
hub=$ISTIO_HUB
itag=$ISTIO_TAG
freg=$FIXTURE_REGISTRY
ftag=$FIXTURE_TAG
images="$hub/pilot:$itag $hub/proxyv2:$itag"
for n in examples-bookinfo-productpage-v1 examples-bookinfo-details-v1 examples-bookinfo-ratings-v1 \
	examples-bookinfo-reviews-v1 examples-bookinfo-reviews-v2 examples-bookinfo-reviews-v3 whoami curl; do
	images+=" $freg/$n:$ftag"
done
for i in $images; do
	docker image inspect "$i" >/dev/null 2>&1 || die "image $i is missing: run make images"
done
[[ -x $root/bin/istioctl ]] || die "bin/istioctl is missing: run make images"
cat <<EOV
# Written by build/images/env.sh for make e2e-airgap.
# The pinned istio.io/istio is the 1.31 line (istio.io/api v1.31.1): the
# install options of that minor apply.
AIRGAP_ISTIO_VERSION=1.31.1
AIRGAP_ISTIOCTL='$root/bin/istioctl'
AIRGAP_NODE_IMAGE='$IMAGE_REGISTRY/kind-node:v$K8S_VERSION'
AIRGAP_ISTIO_HUB='$hub'
AIRGAP_ISTIO_TAG='$itag'
AIRGAP_IMAGES='$images'
AIRGAP_FIXTURE_VARS='bookinfoRegistry=$freg bookinfoTag=$ftag whoamiRegistry=$freg whoamiTag=$ftag curlRegistry=$freg curlTag=$ftag'
AIRGAP_VM_IMAGE='$freg/whoami:$ftag'
AIRGAP_VM_COMMAND='--name {name}'
EOV
