#!/usr/bin/env bash
# e2e-cluster.sh [label filter]: the suites on any Kubernetes cluster a
# kubeconfig reaches (make e2e-cluster KUBECONFIG=F [CONTEXT=C]
# [ISTIO=install|existing]). The suites read the run from the environment
# (README's "Environment variables": MESHCHECK_BACKEND=kube, KUBECONFIG,
# MESHCHECK_ISTIO); every fixture goes into namespaces of the run's own,
# deleted at the end (docs/cluster.md).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-${LABELS:-}}
: "${KUBECONFIG:?make e2e-cluster needs KUBECONFIG=<kubeconfig file>}"
[[ -r $KUBECONFIG ]] || { echo "e2e-cluster.sh: cannot read KUBECONFIG=$KUBECONFIG" >&2; exit 66; }
KUBECONFIG=$(realpath "$KUBECONFIG")
export MESHCHECK_BACKEND=kube KUBECONFIG MESHCHECK_ISTIO=${ISTIO:-${MESHCHECK_ISTIO:-install}}
# The suites' Go test takes no flags of its own: the context, when given,
# becomes the kubeconfig's current one in a copy.
if [[ -n ${CONTEXT:-} ]]; then
	copy=$(mktemp "${TMPDIR:-/tmp}/meshcheck-kubeconfig.XXXXXX")
	trap 'rm -f "$copy"' EXIT
	cp "$KUBECONFIG" "$copy"
	kubectl --kubeconfig "$copy" config use-context "$CONTEXT" >/dev/null
	KUBECONFIG=$copy
fi
SUITE_TIMEOUT=${SUITE_TIMEOUT:-40m} hack/run-suites.sh "${SUITE_NAME:-e2e-cluster}" "$filter"
