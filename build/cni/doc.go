// Package cni is the logic of meshcheck-cni, the small CNI that meshcheck's
// air-gapped kind node image installs by default (kind's own kindnetd cannot
// be pulled without a registry).
//
// Each node runs the daemon (cmd/meshcheck-cni) as a hostNetwork DaemonSet.
// From the Node objects it derives a Plan:
//   - the node's own pod CIDRs (spec.podCIDRs, else spec.podCIDR), which
//     Conflist turns into a CNI configuration: ptp for a veth pair per pod,
//     host-local IPAM over those CIDRs, portmap for hostPorts;
//   - one Route per other node's pod CIDR via that node's InternalIP of the
//     same family, which Diff compares with the routes the daemon installed
//     before (they carry RouteProtocol) to get what to add and remove;
//   - the CIDRs that stay unmasqueraded: MasqRules writes an iptables-restore
//     chain that masquerades pod traffic leaving the cluster (so pods reach
//     the docker network and beyond) while pod-to-pod traffic across nodes
//     keeps its source address.
//
// Invalid Node objects never panic: a node without a pod CIDR or with a
// malformed CIDR or address gives an error naming the node and the field;
// other nodes' problems are listed in the Plan and those nodes skipped.
// Manifest renders the DaemonSet and its RBAC for kind's default-cni.yaml.
package cni
