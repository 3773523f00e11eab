#!/usr/bin/env bash
# run-suites.sh NAME [label filter]: runs the Ginkgo suites with the
# environment the caller set (MESHCHECK_BACKEND and README's "Environment
# variables", which the suites read with config.FromEnv), writes
# reports/NAME.junit.xml and reports/NAME.json, and fails a run in which no
# spec ran (Ginkgo's --fail-on-empty) or every spec skipped. At the end it
# writes reports/report.json and reports/summary.md (meshcheck report build).
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
filter=${2:-${LABELS:-}}
mkdir -p reports
export MESHCHECK_E2E=1 MESHCHECK_REPORTS=$PWD/reports
# Progress (internal/progress): go test gives the test binary a pipe of its
# own, shown only when a test fails; the suites print their phases (cluster,
# Istio, fixtures, convergence, each suite) to this script's standard error
# instead: a live line on a terminal, GitHub groups in CI.
export MESHCHECK_PROGRESS=${MESHCHECK_PROGRESS:-/proc/$$/fd/2}
args=(-count=1 -timeout "${SUITE_TIMEOUT:-15m}" ./suites/... -args -ginkgo.v -ginkgo.fail-on-empty -ginkgo.junit-report="$PWD/reports/$name.junit.xml" -ginkgo.json-report="$PWD/reports/$name.json")
[[ -n $filter ]] && args+=(-ginkgo.label-filter="$filter")
rm -f "reports/$name.junit.xml"
# Evidence of this backend's previous run would read as this run's.
rm -rf "reports/evidence/${MESHCHECK_BACKEND:-embedded}"
start=$(date +%s)
status=0
go test "${args[@]}" || status=$?
# Counts for the summary line; Ginkgo itself fails a run with no spec.
junit=reports/$name.junit.xml
ran=$(grep -o '<testsuite [^>]*tests="[0-9]*"' "$junit" 2>/dev/null | grep -o 'tests="[0-9]*"' | grep -o '[0-9]*' | head -1 || true)
skipped=$(grep -o '<testsuite [^>]*skipped="[0-9]*"' "$junit" 2>/dev/null | grep -o 'skipped="[0-9]*"' | grep -o '[0-9]*' | head -1 || true)
if [[ $status == 0 && -n $ran && $ran != 0 && $ran == "${skipped:-0}" ]]; then
	echo "== $name: every spec skipped (JUnit: tests=$ran, skipped=$skipped): failing" >&2
	status=1
fi
echo "== $name: exit $status in $(($(date +%s) - start)) s, ${ran:-0} specs (${skipped:-0} skipped); reports in reports/" >&2
# The report people read: reports/report.json and summary.md (also the CI
# job's summary). It never changes the run's exit status.
go run ./cmd/meshcheck report build --dir reports --suite "$name" --backend "${MESHCHECK_BACKEND:-embedded}" \
	--istio-source "${ISTIO_SRC:-${ISTIO_VERSION:-pinned}}" >&2 ||
	echo "== $name: no reports/report.json (see above)" >&2
if [[ -n ${GITHUB_STEP_SUMMARY:-} && -f reports/summary.md ]]; then
	cat reports/summary.md >>"$GITHUB_STEP_SUMMARY"
fi
exit $status
