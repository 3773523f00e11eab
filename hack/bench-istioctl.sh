#!/usr/bin/env bash
# Times a full `meshcheck xds trace` against `istioctl proxy-config route -f`
# on the same synthetic sidecar dumps, in the same run. istioctl is built from
# the istio.io/istio module this repository pins (go.mod) by
# hack/istio-build.sh, unless bin/istioctl exists (make images links it).
#   hack/bench-istioctl.sh [SERVICES...]   (default: 1000 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000 5000}")
read -r -a sizes <<<"${sizes[*]}"
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bin
if [[ ! -x bin/istioctl ]]; then
	echo "building istioctl from the pinned istio.io/istio (first time: several minutes)" >&2
	hack/istio-build.sh bin istioctl
fi
go build -o bin/meshcheck ./cmd/meshcheck

# median of RUNS wall-clock times, in milliseconds
time_ms() {
	local ts=()
	for _ in $(seq "$runs"); do
		local s e
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "command failed: $*" >&2; exit 1; }
		e=$(date +%s%N)
		ts+=($(((e - s) / 1000000)))
	done
	printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

printf '| services | dump MB | istioctl proxy-config route -f (ms) | meshcheck xds trace (ms) | ratio |\n|---|---|---|---|---|\n'
for n in "${sizes[@]}"; do
	dump="$work/dump-$n.json"
	go run ./engines/xds/internal/synth/benchdump -services "$n" -out "$dump" >/dev/null
	last=$((n - 1))
	port=$(go run ./engines/xds/internal/synth/benchdump -services "$n" -port-of "$last")
	ic=$(time_ms bin/istioctl proxy-config route -f "$dump")
	mc=$(time_ms bin/meshcheck xds trace --dump "$dump" --role sidecar-outbound --address 10.96.0.1 \
		--port "$port" --host "svc-$last.ns-$((last % 50)).svc.cluster.local" --path /api)
	mb=$(du -m "$dump" | cut -f1)
	printf '| %d | %d | %d | %d | %s |\n' "$n" "$mb" "$ic" "$mc" "$(awk -v a="$mc" -v b="$ic" 'BEGIN{printf "%.2f", a/b}')"
done
