#!/usr/bin/env bash
# check-istio.sh: runs the locally built Istio images the way a cluster
# would, with no network beyond each "pod" (a container whose network
# namespace holds only lo and a veth pair with both ends inside, for the pod
# IP), and checks:
#   - envoy --version, pilot-agent version, pilot-discovery version;
#   - istio-init: `pilot-agent istio-iptables` with the arguments the pinned
#     injection template gives it, as UID 0 with only NET_ADMIN and NET_RAW;
#     the rules it leaves (iptables-nft-save, iptables-legacy-save) pass
#     `meshcheck iptables check` for the Istio version, with and without
#     DNS capture;
#   - istio-proxy: `pilot-agent proxy sidecar` with the template's
#     environment, as 1337:1337 on a read-only root with the template's
#     emptyDir volumes as tmpfs: the bootstrap pilot-agent renders loads in
#     the image's Envoy, whose admin answers and holds the bootstrap's
#     listeners 15090 and 15021 while xDS (a bogus istiod address) fails;
#   - the gateway: `pilot-agent proxy router`, the same;
#   - PEER_METADATA_DISCOVERY=true makes the bootstrap name Istio's
#     istio.workload.BootstrapExtension, which this Envoy rejects (the knob
#     docs/airgap.md tells to leave off).
# Needs root (nsenter, ip). Exit 1 on the first failure, with the evidence.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"
hub=$ISTIO_HUB
tag=$ISTIO_TAG
proxy="$hub/proxyv2:$tag"
pilot="$hub/pilot:$tag"
istio_version=${CHECK_ISTIO_VERSION:-1.31.0}
((EUID == 0)) || die "needs root: it puts a veth pair into each pod's network namespace with nsenter"
command -v openssl >/dev/null || die "openssl not found (it makes the pod's root certificate)"

run_id=meshcheck-istio-check-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-istio-check.XXXXXX")
containers=()
cleanup() {
	if ((${#containers[@]})); then docker rm -f "${containers[@]}" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

ok() { log "ok  $*"; }
# expect WHAT TEXT PATTERN: TEXT must contain PATTERN (fixed string).
expect() {
	[[ $2 == *"$3"* ]] || die "$1: want $(printf %q "$3") in:
$2"
	ok "$1"
}
# show CMD...: logs the command, then runs it.
show() {
	log "\$ $*"
	"$@"
}

# pod NAME IP [RESOLV_CONF]: a pause-like container (sleep) whose network
# namespace gets a veth pair with IP on one end, both ends inside it.
pod() {
	local name=$1 ip=$2 pid
	local args=(-d --name "$run_id-$name" --network none --entrypoint /bin/sleep)
	docker run "${args[@]}" "$proxy" infinity >/dev/null
	containers+=("$run_id-$name")
	pid=$(docker inspect --format '{{.State.Pid}}' "$run_id-$name")
	nsenter -t "$pid" -n sh -c "ip link add eth0 type veth peer name eth0-peer && ip addr add $ip/24 dev eth0 && ip link set eth0-peer up && ip link set eth0 up" ||
		die "cannot give pod $name the address $ip"
}

# The arguments istio-init gets from the pinned injection template with the
# default values (manifests/charts/istio-control/istio-discovery/files/injection-template.yaml).
# shellcheck disable=SC2054 # the commas are part of -d's value
init_args=(istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020 --log_output_level=default:info)
# istio_init POD [DOCKER_RUN_ARGS...]: runs istio-init in POD's network
# namespace as the template's securityContext says.
istio_init() {
	local pod=$1
	shift
	local envs=("$@")
	local cmd=(docker run --rm --network "container:$run_id-$pod" --user 0:0 --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW
		"${envs[@]}" "$proxy" "${init_args[@]}")
	log "\$ ${cmd[*]}"
	"${cmd[@]}" >"$work/$pod-init.log" 2>&1 ||
		die "istio-init in $pod failed: $(tail -20 "$work/$pod-init.log")"
	expect "istio-init in $pod prints the final rules" "$(cat "$work/$pod-init.log")" "Final iptables state (IPv4):"
}
# save POD TOOL: TOOL's rules in POD's network namespace.
save() {
	docker run --rm --network "container:$run_id-$1" --user 0:0 --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW \
		--entrypoint "$2" "$proxy" 2>&1
}

log "images: $proxy, $pilot"
expect "envoy --version" "$(docker run --rm --network none --entrypoint envoy "$proxy" --version)" "/1.40"
expect "pilot-agent version" "$(docker run --rm --network none "$proxy" version 2>/dev/null)" "Version:\"$tag\""
expect "pilot-discovery version as 1337" "$(docker run --rm --network none "$pilot" version 2>/dev/null)" "Version:\"$tag\""
expect "the pilot image runs as 1337:1337" "$(docker image inspect --format '{{.Config.User}}' "$pilot")" "1337:1337"

log "building bin/meshcheck for the rule checks"
(cd "$root" && go build -o bin/meshcheck ./cmd/meshcheck) || die "go build ./cmd/meshcheck failed"

# istio-init as injected, then the rules it left.
pod app 10.244.0.5
istio_init app
nft=$(save app iptables-nft-save)
printf '%s\n' "$nft" >"$work/app-rules.txt"
expect "iptables-nft-save holds Istio's nat rules" "$nft" "-A ISTIO_OUTPUT -j ISTIO_REDIRECT"
legacy=$(save app iptables-legacy-save)
[[ $legacy != *ISTIO* ]] || die "istio-iptables wrote legacy rules too:
$legacy"
ok "iptables-legacy-save holds no Istio rules (istio-iptables chose nft in a clean namespace)"
show "$root/bin/meshcheck" iptables check --rules "$work/app-rules.txt" --istio-version "$istio_version" --pod-ip 10.244.0.5 ||
	die "Istio's own rules fail meshcheck iptables check (above)"
ok "meshcheck iptables check passes Istio's own istio-iptables rules"

# DNS capture: istio-init reads the nameservers from the pod's resolv.conf.
pod dns 10.244.0.6
printf 'nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' >"$work/resolv.conf"
istio_init dns -v "$work/resolv.conf:/etc/resolv.conf:ro" -e ISTIO_META_DNS_CAPTURE=true
save dns iptables-nft-save >"$work/dns-rules.txt"
expect "DNS capture adds ISTIO_OUTPUT_DNS" "$(cat "$work/dns-rules.txt")" "ISTIO_OUTPUT_DNS"
show "$root/bin/meshcheck" iptables check --rules "$work/dns-rules.txt" --istio-version "$istio_version" --pod-ip 10.244.0.6 \
	--dns-capture --nameserver 10.96.0.10 || die "Istio's own DNS-capture rules fail meshcheck iptables check (above)"
ok "meshcheck iptables check passes Istio's DNS-capture rules"

# What the injected istio-proxy mounts: the root certificate (ConfigMap
# istio-ca-root-cert) and the projected token; the emptyDirs are tmpfs.
mkdir -p "$work/istio" "$work/tokens"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" \
	-out "$work/istio/root-cert.pem" -days 1 -subj /O=cluster.local 2>/dev/null
printf 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtZXNoY2hlY2sifQ.\n' >"$work/tokens/istio-token"
chmod -R a+rX "$work"
volumes=(--read-only
	--tmpfs /etc/istio/proxy --tmpfs /var/lib/istio/data
	--tmpfs /var/run/secrets/workload-spiffe-uds --tmpfs /var/run/secrets/credential-uds
	--tmpfs /var/run/secrets/workload-spiffe-credentials
	-v "$work/istio:/var/run/secrets/istio:ro" -v "$work/tokens:/var/run/secrets/tokens:ro")
# The injection template's environment for a Bookinfo productpage pod.
sidecar_env=(
	-e PILOT_CERT_PROVIDER=istiod -e CA_ADDR=istiod.istio-system.svc:15012
	-e POD_NAME=productpage-v1-6c8d9-abcde -e POD_NAMESPACE=default -e INSTANCE_IP=10.244.0.5
	-e SERVICE_ACCOUNT=bookinfo-productpage -e HOST_IP=172.18.0.2 -e ISTIO_CPU_LIMIT=0
	-e 'PROXY_CONFIG={"discoveryAddress":"istiod.istio-system.svc:15012","holdApplicationUntilProxyStarts":true}'
	-e 'ISTIO_META_POD_PORTS=[{"name":"http","containerPort":9080,"protocol":"TCP"}]'
	-e ISTIO_META_APP_CONTAINERS=productpage -e GOMEMLIMIT=1073741824 -e GOMAXPROCS=2
	-e ISTIO_META_CLUSTER_ID=Kubernetes -e ISTIO_META_NODE_NAME=meshcheck-control-plane
	-e ISTIO_META_INTERCEPTION_MODE=REDIRECT -e ISTIO_META_WORKLOAD_NAME=productpage-v1
	-e ISTIO_META_OWNER=kubernetes://apis/apps/v1/namespaces/default/deployments/productpage-v1
	-e ISTIO_META_MESH_ID=cluster.local -e TRUST_DOMAIN=cluster.local)
sidecar_args=(proxy sidecar --domain default.svc.cluster.local --proxyLogLevel=warning --proxyComponentLogLevel=misc:error --log_output_level=default:info)

# envoy_up NAME: waits up to 20 s for Envoy's admin in container NAME
# (pilot-agent request talks to localhost:15000) and prints server_info.
envoy_up() {
	local info _
	for _ in $(seq 40); do
		if info=$(docker exec "$run_id-$1" pilot-agent request GET server_info 2>/dev/null) && [[ $info == *'"state"'* ]]; then
			printf '%s' "$info"
			return 0
		fi
		sleep 0.5
	done
	die "$1: Envoy's admin never answered; the agent's log:
$(docker logs "$run_id-$1" 2>&1 | grep -v '^  ' | tail -30)"
}

# wait_log CONTAINER TEXT: waits up to 20 s for TEXT in the container's log,
# then prints the log.
wait_log() {
	local logs _
	for _ in $(seq 40); do
		logs=$(docker logs "$run_id-$1" 2>&1)
		if [[ $logs == *"$2"* ]]; then
			printf '%s' "$logs"
			return 0
		fi
		sleep 0.5
	done
	die "$1: no $(printf %q "$2") in its log after 20 s:
$(grep -v '^  ' <<<"$logs" | tail -30)"
}

log "istio-proxy, as injected into pod app"
show docker run -d --name "$run_id-sidecar" --network "container:$run_id-app" --user 1337:1337 --cap-drop ALL \
	"${volumes[@]}" "${sidecar_env[@]}" "$proxy" "${sidecar_args[@]}" >/dev/null
containers+=("$run_id-sidecar")
info=$(envoy_up sidecar)
expect "the sidecar's Envoy answers on 15000 (server_info)" "$info" '"version": "'
expect "the sidecar's Envoy waits for xDS" "$info" '"state": "PRE_INITIALIZING"'
expect "the sidecar's Envoy runs the rendered bootstrap" "$info" '"config_path": "etc/istio/proxy/envoy-rev.json"'
listeners=$(docker exec "$run_id-sidecar" pilot-agent request GET listeners 2>/dev/null)
expect "the bootstrap's Prometheus listener" "$listeners" "0.0.0.0_15090::0.0.0.0:15090"
expect "the bootstrap's readiness listener" "$listeners" "0.0.0.0_15021::0.0.0.0:15021"
ids=$(docker exec "$run_id-sidecar" ps -C envoy -o uid=,gid= | tr -s ' ' | sed 's/^ //')
[[ $ids == "1337 1337" ]] || die "envoy runs as uid/gid '$ids', want 1337 1337"
ok "envoy runs as 1337:1337"
logs=$(wait_log sidecar "lookup istiod.istio-system.svc")
ok "the agent fails only to reach istiod (no route out of the pod)"
[[ $logs != *critical* && $logs != *"Envoy exited"* ]] || die "the sidecar's Envoy logged a critical error or exited:
$(grep -E 'critical|Envoy exited' <<<"$logs")"
ok "no critical Envoy error in the sidecar's log"
log "$(grep -m1 'Envoy command' <<<"$logs")"

log "the ingress gateway: proxy router"
pod gw 10.244.0.7
show docker run -d --name "$run_id-router" --network "container:$run_id-gw" --user 1337:1337 --cap-drop ALL \
	"${volumes[@]}" -e POD_NAME=istio-ingressgateway-7d4f5-xyz -e POD_NAMESPACE=istio-system -e INSTANCE_IP=10.244.0.7 \
	-e SERVICE_ACCOUNT=istio-ingressgateway-service-account -e ISTIO_META_CLUSTER_ID=Kubernetes \
	-e ISTIO_META_WORKLOAD_NAME=istio-ingressgateway -e 'PROXY_CONFIG={"discoveryAddress":"istiod.istio-system.svc:15012"}' \
	-e PILOT_CERT_PROVIDER=istiod -e CA_ADDR=istiod.istio-system.svc:15012 \
	"$proxy" proxy router --domain istio-system.svc.cluster.local --proxyLogLevel=warning --log_output_level=default:info >/dev/null
containers+=("$run_id-router")
expect "the gateway's Envoy answers on 15000" "$(envoy_up router)" '"state": "PRE_INITIALIZING"'

log "PEER_METADATA_DISCOVERY=true (the bootstrap names an Istio-only extension)"
pod peer 10.244.0.8
show docker run -d --name "$run_id-peer-proxy" --network "container:$run_id-peer" --user 1337:1337 --cap-drop ALL \
	"${volumes[@]}" "${sidecar_env[@]}" -e INSTANCE_IP=10.244.0.8 -e PEER_METADATA_DISCOVERY=true \
	"$proxy" "${sidecar_args[@]}" >/dev/null
containers+=("$run_id-peer-proxy")
logs=$(wait_log peer-proxy "Envoy exited")
expect "stock Envoy rejects the bootstrap with PEER_METADATA_DISCOVERY=true" "$logs" "Didn't find a registered implementation for 'metadata_discovery' with type URL: 'istio.workload.BootstrapExtension'"
log "every Istio image check passed"
