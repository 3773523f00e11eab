#!/usr/bin/env bash
# bench-gate.sh (make bench-gate): how long from an edit in a candidate
# Istio checkout to the gate's verdict, and that a source against itself
# gives no change five times in a row. Root (the embedded mesh).
#
# The candidate is a copy of the pinned istio.io/istio module under
# BENCH_ISTIO (default /tmp/meshcheck-bench-istio), made once; each run
# edits one pilot source (a comment with the time), so the control plane is
# rebuilt incrementally, then runs the gate against the pinned baseline.
set -euo pipefail
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
cd "$(dirname "$0")/.."
dir=${BENCH_ISTIO:-/tmp/meshcheck-bench-istio}
pinned=$(go list -m -f '{{.Dir}}' istio.io/istio)
if [[ ! -f $dir/go.mod ]]; then
	cp -r "$pinned" "$dir"
	chmod -R u+w "$dir"
fi
go build -o bin/meshcheck ./cmd/meshcheck
route=$dir/pilot/pkg/networking/core/route/route.go
echo "// meshcheck bench-gate edit $(date +%s%N)" >>"$route"
start=$(date +%s.%N)
status=0
bin/meshcheck gate --baseline pinned --candidate "$dir" --specs=false --reports reports/bench-gate >reports/bench-gate.md || status=$?
edit_to_verdict=$(since "$start")
echo "edit to verdict (no suites): ${edit_to_verdict} s, exit $status (0: a comment changes nothing)"
[[ $status == 0 ]] || exit 1
start=$(date +%s.%N)
bin/meshcheck gate --baseline pinned --candidate "$dir" --reports reports/bench-gate >reports/bench-gate.md
echo "verdict with the suites on both sides (cached build): $(since "$start") s"
for i in 1 2 3 4 5; do
	start=$(date +%s.%N)
	bin/meshcheck gate --baseline pinned --candidate pinned --specs=false --reports reports/bench-gate -o json >reports/bench-gate.json
	echo "self against self $i: exit 0, $(grep -c '"proxy"' reports/bench-gate.json || true) changes, $(since "$start") s"
done
