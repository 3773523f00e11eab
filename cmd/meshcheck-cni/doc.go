// Command meshcheck-cni is the default CNI of meshcheck's air-gapped kind
// node image (build/images/node.sh); the logic lives in build/cni.
//
//	meshcheck-cni run [flags]        the per-node daemon (DaemonSet, hostNetwork, privileged)
//	meshcheck-cni manifest --image I the DaemonSet and RBAC, as kind's default-cni.yaml
//
// The daemon reads its node's spec.podCIDR(s) through client-go (in-cluster
// config; $CONTROL_PLANE_ENDPOINT, which kind patches in, replaces the
// service VIP so it works before kube-proxy does), writes the CNI
// configuration to /etc/cni/net.d, keeps a route to every other node's pod
// CIDR via that node's InternalIP (netlink, proto 77), and keeps the nat
// chain MESHCHECK-CNI-MASQ that masquerades pod traffic leaving the cluster
// (iptables of the node, through chroot --host-root). It re-syncs on every
// Node event and on a timer; it leaves everything in place when it stops.
package main
