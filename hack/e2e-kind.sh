#!/usr/bin/env bash
# e2e-kind.sh release|airgap [label filter]: the suites on a kind cluster.
#
#   release  make e2e ISTIO_VERSION=X.Y.Z: the Istio release's istioctl
#            (downloaded, checked, cached), its upstream images (Bookinfo's
#            registry and tag from the release's samples), the kind
#            node image of its minor. IMAGE_REGISTRY=<mirror> pulls every
#            image (Istio, Bookinfo, whoami, curl) from one mirror instead.
#   airgap   make e2e-airgap: every image built here by make images (node
#            image, istiod and proxyv2 from source, the fixture apps),
#            loaded into the nodes; nothing is pulled.
#
# Both stop at once when Docker is missing, and say what to do.
# KEEP_CLUSTER=1 keeps the cluster; NODES=2 adds a worker.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: e2e-kind.sh release|airgap [label filter]}
filter=${2:-${LABELS:-}}
mkdir -p bin reports/kind
go build -o bin/meshcheck ./cmd/meshcheck
mc=$PWD/bin/meshcheck

export MESHCHECK_BACKEND=kind MESHCHECK_WORKDIR=$PWD/reports/kind

case $mode in
release)
	: "${ISTIO_VERSION:?make e2e needs ISTIO_VERSION=X.Y.Z (meshcheck kind versions lists the supported ones)}"
	"$mc" kind preflight --istio-version "$ISTIO_VERSION"
	eval "$("$mc" kind release --istio-version "$ISTIO_VERSION")"
	reg=${IMAGE_REGISTRY:-}
	export MESHCHECK_ISTIO_VERSION=$ISTIO_VERSION MESHCHECK_ISTIOCTL=$ISTIOCTL
	export MESHCHECK_KIND_NODE_IMAGE=${MESHCHECK_KIND_NODE_IMAGE:-$NODE_IMAGE}
	if [[ -n $reg ]]; then
		export MESHCHECK_ISTIO_HUB=$reg/istio MESHCHECK_ISTIO_TAG=$ISTIO_VERSION
		export MESHCHECK_FIXTURE_VARS="bookinfoRegistry=$reg/istio bookinfoTag=$BOOKINFO_TAG whoamiRegistry=$reg/traefik curlRegistry=$reg/curlimages"
		vm_registry=$reg/traefik
	else
		export MESHCHECK_FIXTURE_VARS="bookinfoRegistry=$BOOKINFO_REGISTRY bookinfoTag=$BOOKINFO_TAG"
		vm_registry=docker.io/traefik
	fi
	export MESHCHECK_VM_IMAGE=${MESHCHECK_VM_IMAGE:-$vm_registry/whoami:v1.10}
	vm_command='--port 80 --name {name}' # traefik/whoami's flags; {name} is the VM's
	export MESHCHECK_VM_COMMAND=${MESHCHECK_VM_COMMAND:-$vm_command}
	name=e2e-kind-$ISTIO_VERSION
	;;
airgap)
	"$mc" kind preflight --docker-only
	make --no-print-directory images
	build/images/env.sh >reports/kind/images.env
	# shellcheck source=/dev/null
	source reports/kind/images.env
	export MESHCHECK_ISTIO_VERSION=$AIRGAP_ISTIO_VERSION MESHCHECK_ISTIOCTL=$AIRGAP_ISTIOCTL
	export MESHCHECK_KIND_NODE_IMAGE=$AIRGAP_NODE_IMAGE
	export MESHCHECK_ISTIO_HUB=$AIRGAP_ISTIO_HUB MESHCHECK_ISTIO_TAG=$AIRGAP_ISTIO_TAG
	# The proxyv2 image runs a stock Envoy: pilot must emit upstream types only.
	export MESHCHECK_EMBEDDED_PARITY=1
	export MESHCHECK_KIND_IMAGES=$AIRGAP_IMAGES MESHCHECK_FIXTURE_VARS=$AIRGAP_FIXTURE_VARS
	export MESHCHECK_VM_IMAGE=$AIRGAP_VM_IMAGE MESHCHECK_VM_COMMAND=$AIRGAP_VM_COMMAND
	name=e2e-airgap
	# Hosts whose privileged containers cannot get CAP_SYS_RESOURCE need the
	# runc wrapper; host-compat changes nothing elsewhere. It is undone at
	# the end unless the cluster is kept or it was on before.
	# A host that had it on before keeps it on after.
	was_on=0
	grep -q '^daemon.json: default-runtime meshcheck-runc' <<<"$("$mc" kind host-compat status 2>/dev/null)" && was_on=1
	make --no-print-directory host-compat
	if [[ ${KEEP_CLUSTER:-0} != 1 && $was_on == 0 ]]; then
		trap '"$mc" kind host-compat disable || true' EXIT
	fi
	;;
*)
	echo "e2e-kind.sh: unknown mode $mode (want release or airgap)" >&2
	exit 64
	;;
esac
SUITE_TIMEOUT=${SUITE_TIMEOUT:-40m} hack/run-suites.sh "$name" "$filter"
