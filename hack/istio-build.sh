#!/usr/bin/env bash
# istio-build.sh: builds Istio's own binaries (istioctl, pilot-discovery,
# pilot-agent) from the istio.io/istio module this repository pins in go.mod,
# or from a checkout named by ISTIO_SRC. Static (CGO_ENABLED=0), -trimpath.
#
#   hack/istio-build.sh OUT_DIR BINARY...     BINARY: istioctl pilot-discovery pilot-agent
#
# The build reads a throwaway copy of go.mod (-modfile), so the repository's
# own requirements stay as they are; with ISTIO_SRC the copy gets
# `replace istio.io/istio => $ISTIO_SRC`, so the checkout's code is built with
# this repository's (raised) requirements.
#
# Version stamps go into istio.io/istio/pkg/version as Istio's own build puts
# them there (common/scripts/report_build_info.sh): ISTIO_TAG is the version
# (pilot-agent reports it to pilot; `version` prints it) and, with ISTIO_HUB,
# the hub and tag istioctl install uses by default; ISTIO_REVISION is the
# source revision. Unset, they stay "unknown" like a plain `go build`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
(($# >= 2)) || { echo "usage: $0 OUT_DIR BINARY..." >&2; exit 64; }
out=$1
shift
pkgs=()
for b in "$@"; do
	case $b in
	istioctl) pkgs+=(istio.io/istio/istioctl/cmd/istioctl) ;;
	pilot-discovery) pkgs+=(istio.io/istio/pilot/cmd/pilot-discovery) ;;
	pilot-agent) pkgs+=(istio.io/istio/pilot/cmd/pilot-agent) ;;
	*) echo "istio-build: unknown binary $b: want istioctl, pilot-discovery or pilot-agent" >&2; exit 64 ;;
	esac
done
GO=${GO:-go}
work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-istio-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$root/go.mod" "$work/istio.mod"
cp "$root/go.sum" "$work/istio.sum"
if [[ -n ${ISTIO_SRC:-} ]]; then
	src=$(cd "$ISTIO_SRC" && pwd) || { echo "istio-build: ISTIO_SRC=$ISTIO_SRC: no such directory" >&2; exit 1; }
	mod=$(sed -n 's/^module[[:space:]]*//p' "$src/go.mod" 2>/dev/null | head -1)
	[[ $mod == istio.io/istio ]] || { echo "istio-build: ISTIO_SRC=$src: $src/go.mod declares module '${mod:-<none>}', want istio.io/istio" >&2; exit 1; }
	(cd "$root" && $GO mod edit -modfile="$work/istio.mod" -replace "istio.io/istio=$src")
fi
v=istio.io/istio/pkg/version
# DockerInfo is {Hub: buildHub, Tag: buildVersion}: istioctl's default images.
ldflags="-s -w -X $v.buildVersion=${ISTIO_TAG:-unknown} -X $v.buildTag=${ISTIO_TAG:-unknown} -X $v.buildHub=${ISTIO_HUB:-unknown}"
ldflags+=" -X $v.buildGitRevision=${ISTIO_REVISION:-unknown} -X $v.buildOS=linux -X $v.buildArch=$($GO env GOARCH)"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"
CGO_ENABLED=0 GOFLAGS=-mod=mod $GO build -modfile="$work/istio.mod" -trimpath -ldflags "$ldflags" -o "$work/bin/" "${pkgs[@]}"
for b in "$@"; do
	mv -f "$work/bin/$b" "$out/$b"
done
