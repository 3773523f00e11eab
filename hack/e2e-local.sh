#!/usr/bin/env bash
# make e2e-local: the embedded mesh (Istio's pilot in-process, real Envoy
# sidecars in network namespaces) and every suite against it.
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
# Pilot's parity environment (istioinstall.Parity) is set by the suites'
# TestMain, which re-executes the test binary with it.
exec hack/run-suites.sh e2e-local "${1:-${LABELS:-}}"
