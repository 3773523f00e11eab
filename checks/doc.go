// Package checks runs the checks a fixture carries (package
// fixtures/expect) against a live mesh, through the backend.Backend
// interface only: routes by tracing a proxy's config dump
// (engines/xds/expect, engines/xds/trace), splits by sampling requests and
// deciding the observed weights (engines/traffic, engines/split), paths by
// following one tagged request through the proxies' access logs
// (engines/accesslog), interception by checking a workload's rules against
// istio-iptables' behaviours (engines/iptables/istio).
//
// Every check gives a Result: passed, failed or undecided (what meshcheck
// cannot decide, named, never guessed), with its evidence: what was
// expected, what was seen, the closest candidates and the last error; and
// for the report, a splits check's decision, a paths check's flow hop by
// hop, an interception check's behaviours with their trails.
// Nothing here uses Ginkgo or Gomega; the suites and `meshcheck run` both
// call Runner.Run.
package checks
