#!/usr/bin/env bash
# make soak [N=50]: the clean suites on the embedded mesh (make e2e-local)
# N times in a row, to find false alarms (issue 16: 0 failures is the bar; a
# flaky spec is a bug to fix at its cause, not a retry to add). Writes
# reports/soak.json after every run ({"planned", "runs", "failures",
# "seconds", "labels", "failedRuns", "secondsPerRun"}) and, for each failed run K, its JUnit, Ginkgo JSON,
# log and evidence under reports/soak/run-K/ (the last run's are
# reports/soak-run.*). Exit 1 when a run failed.
#   N=2 hack/soak.sh          LABELS='whoami' N=5 hack/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-50}
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
	echo "make soak: N=$n: want a positive number of runs" >&2
	exit 64
fi
if [[ $(id -u) != 0 ]]; then
	echo "make soak: needs root (it runs make e2e-local); run it with sudo" >&2
	exit 2
fi
hack/deps.sh e2e-local
mkdir -p bin reports
go build -o bin/meshcheck ./cmd/meshcheck
export MESHCHECK_BIN=$PWD/bin/meshcheck MESHCHECK_BACKEND=embedded
[[ -n ${ENVOY:-} ]] && export MESHCHECK_ENVOY=$ENVOY
rm -rf reports/soak
failures=0 failed="" per="" start=$(date +%s)
for ((i = 1; i <= n; i++)); do
	t0=$(date +%s)
	status=0
	hack/run-suites.sh soak-run "${LABELS:-}" >reports/soak-run.log 2>&1 || status=$?
	took=$(($(date +%s) - t0))
	per+="${per:+, }$took"
	if [[ $status != 0 ]]; then
		failures=$((failures + 1))
		failed+="${failed:+, }$i"
		mkdir -p "reports/soak/run-$i"
		cp reports/soak-run.log reports/soak-run.junit.xml reports/soak-run.json "reports/soak/run-$i/" 2>/dev/null || true
		[[ -d reports/evidence/embedded ]] && cp -r reports/evidence/embedded "reports/soak/run-$i/evidence"
	fi
	echo "== soak run $i/$n: exit $status in $took s ($failures failed so far)" >&2
	# Written after every run, so a soak stopped early still says how far
	# it went (runs is the number completed, planned the number asked).
	printf '{\n  "planned": %d,\n  "runs": %d,\n  "failures": %d,\n  "seconds": %d,\n  "labels": "%s",\n  "failedRuns": [%s],\n  "secondsPerRun": [%s]\n}\n' \
		"$n" "$i" "$failures" "$(($(date +%s) - start))" "${LABELS:-}" "$failed" "$per" >reports/soak.json
done
total=$(($(date +%s) - start))
echo "== soak: $n runs, $failures failed, $total s; reports/soak.json" >&2
[[ $failures == 0 ]]
