// Package podnet is the embedded mesh's pod network on the host: a bridge
// with one network namespace (a NetNS) per pod or VM, each joined by a veth
// pair and given an address on the bridge's subnet, /etc/hosts per
// namespace, commands run inside a namespace, and connections dialled from
// inside one (so the pod's interception rules apply to them). Every name it
// creates carries the run's id; Leftovers lists what a run left behind.
package podnet
