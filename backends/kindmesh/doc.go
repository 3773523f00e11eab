// Package kindmesh is the kind backend: a kind cluster it creates, then
// the Kubernetes backend (backends/kube, which holds every call to
// Kubernetes and Istio) with an Istio release, or locally built Istio
// images, installed by istioctl.
//
// The cluster is created through kind's Go API (backends/kindmesh/kindcluster).
// What only kind has is here: local images loaded into the nodes,
// interception rules read from the node (the pod sandbox's pid from
// `crictl inspectp`, then `nsenter -t PID -n` with iptables-legacy-save,
// iptables-nft-save and `nft list ruleset`; the kube backend falls back to
// the istio-init log), the VM (a container on the kind Docker network,
// registered by the fixture's WorkloadEntry with its IP), kind's node logs
// as evidence, and deleting the cluster at Down. Resolve turns a run's
// configuration into Options (a release downloaded and checked, or the
// images make images built).
package kindmesh
