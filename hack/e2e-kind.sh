#!/usr/bin/env bash
# e2e-kind.sh release|airgap|gate [label filter]: the suites on a kind cluster.
#
#   release  make e2e ISTIO_VERSION=X.Y.Z: the Istio release (istioctl and
#            the release's samples downloaded, checked and cached; the kind
#            node image of its minor; upstream images, or all from one
#            mirror with IMAGE_REGISTRY=<mirror>).
#   airgap   make e2e-airgap: every image built here by make images (node
#            image, istiod and proxyv2 from source, the fixture apps),
#            loaded into the nodes; nothing is pulled.
#   gate     make gate-airgap BASELINE=... CANDIDATE=... [ACCEPTED=file] [SPECS=0]:
#            meshcheck gate --backend kind; the node, base and fixture
#            images as for airgap, each side's pilot and proxyv2 images and
#            istioctl built by the gate from its source (tag gate-<side>).
#
# The suites resolve both in Go (config.FromEnv, backends/open: README's
# "Environment variables"); this script only checks Docker (and for a
# release that it can be downloaded), builds the images for airgap, and
# names the run. NODES=2 adds a worker; KEEP_CLUSTER=1 keeps the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: e2e-kind.sh release|airgap|gate [label filter]}
filter=${2:-${LABELS:-}}
mkdir -p bin reports
go build -o bin/meshcheck ./cmd/meshcheck
mc=$PWD/bin/meshcheck
export MESHCHECK_BACKEND=kind

# airgap_prepare TARGET...: the images built here (make TARGET...), no
# release, and the runc wrapper where the host needs it.
airgap_prepare() {
	hack/deps.sh docker
	"$mc" kind preflight --docker-only
	make --no-print-directory "$@"
	# No release: the images just built.
	unset ISTIO_VERSION
	# Hosts whose privileged containers cannot get CAP_SYS_RESOURCE need the
	# runc wrapper; host-compat changes nothing elsewhere. It is undone at
	# the end unless the cluster is kept or it was on before.
	local was_on=0
	grep -q '^daemon.json: default-runtime meshcheck-runc' <<<"$("$mc" kind host-compat status 2>/dev/null)" && was_on=1
	make --no-print-directory host-compat
	if [[ ${KEEP_CLUSTER:-0} != 1 && $was_on == 0 ]]; then
		trap '"$mc" kind host-compat disable || true' EXIT
	fi
}

case $mode in
release)
	: "${ISTIO_VERSION:?make e2e needs ISTIO_VERSION=X.Y.Z (meshcheck kind versions lists the supported ones)}"
	"$mc" kind preflight --istio-version "$ISTIO_VERSION"
	name=e2e-kind-$ISTIO_VERSION
	;;
airgap)
	airgap_prepare images
	name=e2e-airgap
	;;
gate)
	: "${BASELINE:?make gate-airgap needs BASELINE=<pinned or a checkout path[@ref]>}" "${CANDIDATE:?make gate-airgap needs CANDIDATE=<pinned or a checkout path[@ref]>}"
	airgap_prepare images-base images-fixtures node-image
	status=0
	"$mc" gate --backend kind --baseline "$BASELINE" --candidate "$CANDIDATE" --specs="${SPECS:-1}" ${ACCEPTED:+--accepted "$ACCEPTED"} || status=$?
	exit $status
	;;
*)
	echo "e2e-kind.sh: unknown mode $mode (want release, airgap or gate)" >&2
	exit 64
	;;
esac
SUITE_TIMEOUT=${SUITE_TIMEOUT:-40m} hack/run-suites.sh "$name" "$filter"
