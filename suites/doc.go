// Package suites runs meshcheck's end-to-end tests (package suites/tests,
// one file per test, listed in tests.All) as Ginkgo specs against a
// backend: embedded (the default) or kind (MESHCHECK_BACKEND=kind). They
// run under make e2e-local:
//
//	MESHCHECK_E2E=1 go test ./suites/ -args -ginkgo.label-filter=whoami
//
// (The embedded control plane is a process of its own started with
// pilot's parity environment, istioinstall.Parity: nothing to export.)
//
// Each test's labels are its short name (whoami-header-canary), its
// fixtures' names (bookinfo, whoami, vm), its features (iptables,
// accesslog, multinode, vm) and its own (xds). A test
// whose features the backend lacks is skipped, the feature named. For every
// failed spec the evidence (config dumps, access logs, interception rules,
// sync state, the backend's own) is written to
// reports/evidence/<backend>/<spec>/ before the harness restores the mesh.
package suites
