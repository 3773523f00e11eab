#!/usr/bin/env bash
# make e2e-local: the embedded mesh (Istio's pilot in a process of its own,
# built for ISTIO_SRC; real Envoy sidecars in network namespaces, ENVOY's
# release when given) and every suite against it.
# Installs what it lacks (hack/deps.sh e2e-local), stops at once without root, and writes reports under reports/.
#   hack/e2e-local.sh [ginkgo label filter]   e.g. hack/e2e-local.sh 'whoami || xds'
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) != 0 ]]; then
	echo "make e2e-local: needs root (it creates network namespaces, a bridge, veths and iptables rules in them); run it with sudo" >&2
	exit 2
fi
hack/deps.sh e2e-local
mkdir -p bin reports
go build -o bin/meshcheck ./cmd/meshcheck
export MESHCHECK_BIN=$PWD/bin/meshcheck MESHCHECK_BACKEND=embedded
# ENVOY=1.37 (make e2e-local ENVOY=1.37) is the run configuration's Envoy.
[[ -n ${ENVOY:-} ]] && export MESHCHECK_ENVOY=$ENVOY
# SUITES_NAME names the reports (hack/matrix gives each cell its own).
exec hack/run-suites.sh "${SUITES_NAME:-e2e-local}" "${1:-${LABELS:-}}"
