// Package istio states how Istio's sidecar interception must treat traffic,
// as behaviours (a probe and the expected verdict), and generates the rules
// istio-iptables writes for a version and configuration.
//
// The same behaviour list checks a real pod's rules (through the simulator
// of package iptables) and the kernel (the differential test loads the
// generated rules into a network namespace and sends each probe).
//
// Layouts (from the facts in the project brief):
//
//   - 1.25 and later: OUTPUT jumps to ISTIO_OUTPUT for every protocol; DNS
//     capture lives in the ISTIO_OUTPUT_DNS chains of nat and raw.
//   - 1.24 and earlier: OUTPUT jumps to ISTIO_OUTPUT for TCP only; UDP DNS
//     rules sit in nat OUTPUT, TCP DNS in ISTIO_OUTPUT, CT zones in raw OUTPUT
//     and PREROUTING.
//   - TPROXY mode: inbound is captured in mangle (ISTIO_INBOUND, ISTIO_TPROXY,
//     ISTIO_DIVERT) instead of nat.
//   - Native nftables (1.27 and later, opt-in): table inet istio-proxy-nat
//     (and istio-proxy-raw for DNS, istio-proxy-mangle for TPROXY).
package istio
