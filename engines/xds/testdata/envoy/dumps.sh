#!/bin/sh
# Writes config_dump.json and config_dump.eds.json: the admin /config_dump of
# a real Envoy (ENVOY, default: envoy on PATH) fed the YAML beside this
# script through file-based xDS, without and with include_eds.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
envoy=${ENVOY:-envoy}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for f in bootstrap lds rds cds eds-web eds-api-v1 eds-api-v2; do
	sed "s#@DIR@#$work#g" "$here/$f.yaml" >"$work/$f.yaml"
done
"$envoy" -c "$work/bootstrap.yaml" --base-id 71 -l warning >"$work/envoy.log" 2>&1 &
pid=$!
admin=http://127.0.0.1:19000
for _ in $(seq 1 50); do
	if curl -fs "$admin/ready" >/dev/null 2>&1; then break; fi
	sleep 0.2
done
curl -fs "$admin/ready" >/dev/null || { cat "$work/envoy.log"; exit 1; }
curl -fs "$admin/config_dump" >"$here/config_dump.json"
curl -fs "$admin/config_dump?include_eds" >"$here/config_dump.eds.json"
"$envoy" --version | sed -n 's/.*version: \([^ ]*\).*/\1/p' >"$here/VERSION"
