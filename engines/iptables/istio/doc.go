// Package istio states how Istio's sidecar interception treats traffic, as
// behaviours (a probe and the expected verdict), and produces the rules
// Istio writes for a configuration by running Istio's own generator.
//
// The generator is not meshcheck's: IPTablesSave, IP6TablesSave and
// NftRuleset map Options onto istio-iptables' configuration (as the
// injector's istio-init arguments set it) and run
// istio.io/istio/tools/istio-iptables/pkg/capture, with a recorder in place
// of the iptables binaries, or tools/istio-nftables/pkg/capture with
// knftables' fake, in-process, from the istio.io/istio module in go.mod.
// PodOptions reads the Options the injector gives a pod from its
// annotations; IPTablesSaveChanged changes fields of istio-iptables' own
// configuration after the mapping (Change: the interception regressions of
// meshcheck mutate).
//
// Behaviours are stated from the order of those rules and checked against
// them for every configuration of Matrix and against Istio's own goldens
// (tests); the same behaviour list checks a real pod's rules through the
// simulator of package iptables, and the kernel differential test loads the
// rules into a network namespace and sends each probe.
package istio
