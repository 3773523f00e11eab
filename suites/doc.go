// Package suites holds meshcheck's Ginkgo suites: the same specs for every
// backend (embedded today; kind later). They run under make e2e-local:
//
//	MESHCHECK_E2E=1 PILOT_ENABLE_ALPN_FILTER=false PILOT_ENABLE_METADATA_EXCHANGE=false \
//	  go test ./suites/ -args -ginkgo.label-filter=whoami
//
// Labels: bookinfo, whoami, vm, iptables, accesslog, xds. For every failed
// spec the evidence (config dumps, access logs, interception rules, sync
// state) is written to reports/evidence/<spec>/.
package suites
