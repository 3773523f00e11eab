#!/usr/bin/env bash
# e2e-cluster-proof.sh: the kube backend proven on a cluster meshcheck did
# not make (make e2e-cluster-proof; root, Docker, the images make images
# builds):
#
#  1. a kind cluster created by hand with kind's own CLI from the local
#     node image (not meshcheck's kind backend), the local images loaded;
#  2. Istio installed into it as an operator would, with istioctl (the
#     demo profile, access logs to stdout in JSON; the local images run a
#     stock Envoy, so pilot's upstream-only switches are set);
#  3. deploy/rbac/meshcheck.yaml applied and a kubeconfig made for its
#     ServiceAccount; a listing of every object in the cluster;
#  4. the restricted role without one rule: the run must stop with
#     "forbidden: needs <verb> <resource>";
#  5. the suites with --istio existing as that ServiceAccount, twice at
#     the same time, each in namespaces of its own;
#  6. the refusals: with access logging turned off and the gateway
#     Service's label taken away (then put back), meshcheck run must
#     refuse naming both, before creating anything;
#  7. the listing again: it must equal the first.
#
# KEEP_CLUSTER=1 keeps the cluster; reports/cluster-proof/ holds the
# listings, the runs' reports and logs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/reports/cluster-proof
rm -rf "$out"
mkdir -p "$out" bin
name=${CLUSTER_NAME:-mc-proof-$$}
log() { echo "== e2e-cluster-proof: $*" >&2; }

go build -o bin/meshcheck ./cmd/meshcheck
go build -o bin/kind sigs.k8s.io/kind
mc=$root/bin/meshcheck kind=$root/bin/kind
"$mc" kind preflight --docker-only
registry=${IMAGE_REGISTRY:-meshcheck.local}
hub=${ISTIO_HUB:-$registry/istio} tag=${ISTIO_TAG:-local}
images=("$hub/pilot:$tag" "$hub/proxyv2:$tag")
for app in examples-bookinfo-productpage-v1 examples-bookinfo-details-v1 examples-bookinfo-ratings-v1 \
	examples-bookinfo-reviews-v1 examples-bookinfo-reviews-v2 examples-bookinfo-reviews-v3 whoami curl; do
	images+=("${FIXTURE_REGISTRY:-$registry}/$app:${FIXTURE_TAG:-local}")
done
# The images and istioctl make images builds (make e2e-airgap runs it).
[[ -x bin/istioctl ]] || { log "no bin/istioctl: run make images"; exit 1; }
docker image inspect "${images[@]}" "$registry/kind-node:v${K8S_VERSION:-1.34.4}" >/dev/null ||
	{ log "an image is missing (above): run make images"; exit 1; }

was_on=0
grep -q '^daemon.json: default-runtime meshcheck-runc' <<<"$("$mc" kind host-compat status 2>/dev/null)" && was_on=1
make --no-print-directory host-compat
admin=$out/admin.kubeconfig
cleanup() {
	if [[ ${KEEP_CLUSTER:-0} == 1 ]]; then
		log "keeping cluster $name: KUBECONFIG=$admin kubectl get pods -A; delete it with: $kind delete cluster --name $name"
		return
	fi
	"$kind" delete cluster --name "$name" >&2 || true
	[[ $was_on == 1 ]] || "$mc" kind host-compat disable >&2 || true
}
trap cleanup EXIT

k() { kubectl --kubeconfig "$admin" "$@"; }
sa=$out/meshcheck-sa.kubeconfig
# sa_kubeconfig writes $sa: the cluster's address and CA, and a token of
# the ServiceAccount deploy/rbac/meshcheck.yaml binds.
sa_kubeconfig() {
	local server token
	server=$(k config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
	k config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$out/ca.crt"
	token=$(k -n meshcheck-system create token meshcheck --duration 2h)
	kubectl --kubeconfig "$sa" config set-cluster proof --server "$server" --certificate-authority "$out/ca.crt" --embed-certs=true >/dev/null
	kubectl --kubeconfig "$sa" config set-credentials meshcheck --token "$token" >/dev/null
	kubectl --kubeconfig "$sa" config set-context proof --cluster proof --user meshcheck >/dev/null
	kubectl --kubeconfig "$sa" config use-context proof >/dev/null
}
if [[ -n ${REUSE:-} ]] && "$kind" get clusters | grep -qx "$name"; then
	log "1-3. reusing cluster $name (REUSE=1)"
	"$kind" get kubeconfig --name "$name" >"$admin"
	REUSED=1
else
	REUSED=0
fi
if [[ $REUSED == 0 ]]; then
log "1. kind create cluster $name from $registry/kind-node:v${K8S_VERSION:-1.34.4}"
"$kind" create cluster --name "$name" --image "$registry/kind-node:v${K8S_VERSION:-1.34.4}" --kubeconfig "$admin" --wait 3m
"$kind" load docker-image --name "$name" "${images[@]}"

log "2. istioctl install (demo profile, as an operator would)"
bin/istioctl install -y --kubeconfig "$admin" --set profile=demo --set hub="$hub" --set tag="$tag" \
	--set values.global.imagePullPolicy=Never --set meshConfig.accessLogFile=/dev/stdout \
	--set meshConfig.accessLogEncoding=JSON --set meshConfig.defaultConfig.holdApplicationUntilProxyStarts=true \
	--set values.pilot.env.PILOT_ENABLE_ALPN_FILTER=false --set values.pilot.env.PILOT_ENABLE_METADATA_EXCHANGE=false \
	--set values.telemetry.enabled=false
k -n istio-system rollout status deploy --timeout 5m

log "3. the restricted ServiceAccount (deploy/rbac/meshcheck.yaml) and its kubeconfig"
k create namespace meshcheck-system
k apply -f deploy/rbac/meshcheck.yaml
sa_kubeconfig
fi
[[ $REUSED == 0 ]] || sa_kubeconfig

# listing: every object of every listable kind, namespaced and
# cluster-scoped, as KIND NAMESPACE/NAME; events and leases (written by
# the control plane all the time) left out.
listing() {
	local kinds
	kinds=$(k api-resources --verbs=list -o name | grep -v -E '^(events|events\.events\.k8s\.io|leases\.coordination\.k8s\.io)$' | paste -sd, -)
	k get "$kinds" -A --ignore-not-found -o custom-columns='KIND:.kind,NS:.metadata.namespace,NAME:.metadata.name' --no-headers | sort
}
listing >"$out/before.txt"
log "   $(wc -l <"$out/before.txt") objects before"

log "4. one rule taken out of the role: the run must stop with forbidden: needs"
k patch clusterrole meshcheck-run --type json -p '[{"op":"remove","path":"/rules/2"}]'
set +e
SUITE_NAME=cluster-proof-forbidden KUBECONFIG=$sa ISTIO=existing ISTIO_VERSION=1.31.1 LABELS=whoami-90-10 \
	hack/e2e-cluster.sh >"$out/forbidden.log" 2>&1
status=$?
set -e
k apply -f deploy/rbac/meshcheck.yaml
grep -o 'forbidden: needs [^(]*' "$out/forbidden.log" | sort -u | tee "$out/forbidden.txt" >&2
[[ $status != 0 && -s $out/forbidden.txt ]] || { log "the run without the deployments rule did not stop with forbidden: needs (exit $status)"; exit 1; }

log "5. the suites as the ServiceAccount, --istio existing, twice at the same time"
run_suites() { # run_suites N: one run of every suite, reports in $out/run-N
	local dir=$out/run-$1
	mkdir -p "$dir"
	MESHCHECK_E2E=1 MESHCHECK_BACKEND=kube KUBECONFIG=$sa MESHCHECK_ISTIO=existing ISTIO_VERSION=1.31.1 MESHCHECK_REPORTS=$dir \
		go test -count=1 -timeout 30m ./suites/... -args -ginkgo.v -ginkgo.fail-on-empty \
		-ginkgo.junit-report="$dir/junit.xml" -ginkgo.json-report="$dir/report.json" >"$dir/go-test.log" 2>&1
}
go test -c -o /dev/null ./suites # compiled once, before the two runs race to
run_suites 1 &
p1=$!
sleep 20
run_suites 2 &
p2=$!
s1=0 s2=0
wait $p1 || s1=$?
wait $p2 || s2=$?
for n in 1 2; do
	log "   run $n: $(grep -o '^kube run: .*' "$out/run-$n/go-test.log" | head -1); $(grep -E '^(Ran|FAIL!|SUCCESS!)' "$out/run-$n/go-test.log" | tr '\n' ' ')"
done

log "6. the refusals: access logging off and no ingress gateway (changed as admin, then put back)"
mesh=$(k -n istio-system get configmap istio -o jsonpath='{.data.mesh}')
k -n istio-system get configmap istio -o json |
	python3 -c 'import json,sys; c=json.load(sys.stdin); c["data"]["mesh"]="\n".join(l for l in c["data"]["mesh"].splitlines() if not l.startswith("accessLogFile:")); print(json.dumps(c))' |
	k replace -f - >/dev/null
k -n istio-system label service istio-ingressgateway istio- >/dev/null
set +e
"$mc" run --backend kube --kubeconfig "$sa" --istio existing --istio-version 1.31.1 --report-dir "$out/refusal" --fixtures fixtures/whoami >"$out/refusal.txt" 2>&1
status=$?
set -e
k -n istio-system get configmap istio -o json |
	MESH=$mesh python3 -c 'import json,os,sys; c=json.load(sys.stdin); c["data"]["mesh"]=os.environ["MESH"]; print(json.dumps(c))' |
	k replace -f - >/dev/null
k -n istio-system label service istio-ingressgateway istio=ingressgateway >/dev/null
cat "$out/refusal.txt" >&2
grep -q 'access logging is off' "$out/refusal.txt" && grep -q 'no ingress gateway' "$out/refusal.txt" && [[ $status != 0 ]] ||
	{ log "the run did not refuse with both needs named (exit $status)"; exit 1; }

log "7. the listing again"
for _ in $(seq 60); do
	listing >"$out/after.txt"
	cmp -s "$out/before.txt" "$out/after.txt" && break
	sleep 2
done
if ! diff "$out/before.txt" "$out/after.txt" >"$out/before-after.diff"; then
	log "the cluster holds what it did not before:"
	cat "$out/before-after.diff" >&2
	exit 1
fi
log "   $(wc -l <"$out/after.txt") objects after: the same as before"
# What a crashed run would leave, found by label: nothing now.
(cd "$out" && cp meshcheck-sa.kubeconfig kubeconfig &&
	"$mc" cleanup --kubeconfig kubeconfig --run 4f2a9c1e --dry-run && "$mc" cleanup --kubeconfig kubeconfig --all-runs) | tee "$out/cleanup.txt" >&2
[[ $s1 == 0 && $s2 == 0 ]] || { log "a run failed: run 1 exit $s1, run 2 exit $s2 (logs in $out/run-N/go-test.log)"; exit 1; }
log "passed: both runs, the refusal, and the same objects before and after"
