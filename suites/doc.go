// Package suites holds meshcheck's Ginkgo suites: the same specs for every
// backend (embedded today; kind later). They run under make e2e-local:
//
//	MESHCHECK_E2E=1 go test ./suites/ -args -ginkgo.label-filter=whoami
//
// (TestMain re-executes the test binary with pilot's parity environment,
// istioinstall.Parity, which pilot reads when the process starts.)
//
// Labels: bookinfo, whoami, vm, iptables, accesslog, xds. For every failed
// spec the evidence (config dumps, access logs, interception rules, sync
// state) is written to reports/evidence/<spec>/.
package suites
