#!/usr/bin/env bash
# Runs the unit and package tests: with the race detector for every package
# that does not link Istio's control plane, without it for those that do (a race
# build of pilot doubles the build cache and adds minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# A fresh machine: install what the kernel and real-Envoy tests need.
hack/deps.sh test
plain=() istio=()
while read -r pkg deps; do
	if [[ " $deps " == *" istio.io/istio/pilot/pkg/model "* ]]; then istio+=("$pkg"); else plain+=("$pkg"); fi
done < <($GO list -test=false -f '{{.ImportPath}} {{join .Deps " "}}' ./...)
status=0
if ((${#plain[@]})); then $GO test -race -count 1 "${plain[@]}" || status=1; fi
# The end-to-end command tests (cmd/meshcheck: meshcheck run, gate and
# mutate on real meshes) take minutes: past go test's default 10.
if ((${#istio[@]})); then $GO test -count 1 -timeout 25m "${istio[@]}" || status=1; fi
exit $status
