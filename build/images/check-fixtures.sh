#!/usr/bin/env bash
# check-fixtures.sh: runs every fixture image as Kubernetes would (its own
# entrypoint, the pod's name as hostname) with no network but its loopback,
# and checks what it answers from inside the container (docker exec
# meshcheck-app fetch http://127.0.0.1:PORT/...), that productpage calls
# its upstreams by their default names, that whoami takes the VM's args,
# that the curl image has /bin/sleep, curl and meshcheck-app, and that each
# app stops with exit 0 on SIGTERM. Exit 1 on the first failure, with the evidence.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"
registry=$FIXTURE_REGISTRY
tag=$FIXTURE_TAG
run_id=meshcheck-check-$$
containers=()
cleanup() {
	if ((${#containers[@]})); then docker rm -f "${containers[@]}" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# start NAME IMAGE [ARGS...]: a container with hostname NAME and no network.
start() {
	local name=$1 image=$2
	shift 2
	docker run -d --name "$run_id-$name" --hostname "$name" --network none "$image" "$@" >/dev/null ||
		die "docker run $image failed"
	containers+=("$run_id-$name")
}

# fetch NAME PORT PATH: meshcheck-app fetch inside the container; retried
# for up to 5 s while the app starts.
fetch() {
	local out _
	for _ in $(seq 50); do
		if out=$(docker exec "$run_id-$1" /usr/local/bin/meshcheck-app fetch "http://127.0.0.1:$2$3" 2>&1); then
			printf '%s' "$out"
			return 0
		fi
		sleep 0.1
	done
	die "$1: fetch http://127.0.0.1:$2$3 failed 50 times; last: $out; logs: $(docker logs "$run_id-$1" 2>&1 | tail -5)"
}

# expect NAME WHAT TEXT PATTERN: TEXT must contain PATTERN (fixed string).
expect() {
	[[ $3 == *"$4"* ]] || die "$1: $2: want $(printf %q "$4") in:
$3"
	log "ok  $1: $2"
}

for app in productpage details ratings; do
	start "$app-v1-check" "$registry/examples-bookinfo-$app-v1:$tag"
done
for v in v1 v2 v3; do
	start "reviews-$v-check" "$registry/examples-bookinfo-reviews-$v:$tag"
done
start whoami-v1-check "$registry/whoami:$tag"
start vm-v1 "$registry/whoami:$tag" --name vm-v1 --listen :8080
start curl-check "$registry/curl:$tag" /bin/sleep infinity

expect details "GET /details/0" "$(fetch details-v1-check 9080 /details/0)" '"author":"William Shakespeare"'
expect ratings "GET /ratings/0" "$(fetch ratings-v1-check 9080 /ratings/0)" '"ratings":{"Reviewer1":5,"Reviewer2":4}'
expect reviews-v1 "podname is the hostname" "$(fetch reviews-v1-check 9080 /reviews/0)" '"podname":"reviews-v1-check"'
expect reviews-v3 "podname is the hostname" "$(fetch reviews-v3-check 9080 /reviews/0)" '"podname":"reviews-v3-check"'
page=$(fetch productpage-v1-check 9080 /productpage)
expect productpage "GET /productpage without upstreams" "$page" "Error fetching product details"
logs=$(docker logs "$run_id-productpage-v1-check" 2>&1)
expect productpage "calls details by its default URL" "$logs" "http://details:9080/details/0"
expect productpage "calls reviews by its default URL" "$logs" "http://reviews:9080/reviews/0"
fetch reviews-v2-check 9080 /reviews/0 >/dev/null
logs=$(docker logs "$run_id-reviews-v2-check" 2>&1)
expect reviews-v2 "calls ratings by its default URL" "$logs" "http://ratings:9080/ratings/0"
expect whoami "Hostname is the pod's name" "$(fetch whoami-v1-check 80 /)" $'\nHostname: whoami-v1-check\n'
expect whoami "runs as the VM with args --name vm-v1 --listen :8080" "$(fetch vm-v1 8080 /)" $'\nHostname: vm-v1\n'
expect curl "has /bin/sleep running" "$(docker exec "$run_id-curl-check" cat /proc/1/cmdline | tr '\0' ' ')" "/bin/sleep infinity"
expect curl "has curl" "$(docker exec "$run_id-curl-check" curl --version 2>&1 || true)" "curl 7."
expect curl "has meshcheck-app on PATH" "$(docker exec "$run_id-curl-check" meshcheck-app -h 2>&1 || true)" "meshcheck-app fetch URL"
for c in productpage-v1-check whoami-v1-check reviews-v2-check; do
	docker stop -t 10 "$run_id-$c" >/dev/null
	code=$(docker inspect --format '{{.State.ExitCode}}' "$run_id-$c")
	[[ $code == 0 ]] || die "$c: exit $code after SIGTERM, want 0; logs: $(docker logs "$run_id-$c" 2>&1 | tail -3)"
	expect "$c" "stops with exit 0 on SIGTERM" "$(docker logs "$run_id-$c" 2>&1 | tail -1)" " stopped"
done
log "every fixture image checked"
