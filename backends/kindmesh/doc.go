// Package kindmesh is the kind backend: it implements backend.Backend on a
// kind cluster with an Istio release (or locally built Istio images)
// installed by istioctl.
//
// The cluster is created through kind's Go API (backends/kindmesh/kindcluster), Istio
// by the istioctl binary with the arguments backends/istioinstall builds.
// Fixtures are decoded and server-side applied, and every wait polled,
// with sigs.k8s.io/e2e-framework's klient (decoder, resources, wait and
// conditions); exec, port-forward and logs use client-go. The mesh's
// state is read the way an operator would read it:
//
//   - readiness: Deployment rollouts, then istiod's /debug/syncz through a
//     port-forward to istiod's localhost-only debug port;
//   - config dumps: `pilot-agent request GET config_dump?include_eds` in the
//     istio-proxy container;
//   - interception rules: from the node container, the pod sandbox's pid
//     from `crictl inspectp`, then `nsenter -t PID -n` with
//     iptables-legacy-save, iptables-nft-save and `nft list ruleset`, with
//     the istio-init log as a fallback;
//   - access logs: istio-proxy's pod log, with timestamps, since a mark;
//   - in-mesh requests: `meshcheck-app fetch` exec'd in a client pod, so they
//     leave through that pod's sidecar;
//   - the VM: a container on the kind Docker network, registered by the
//     fixture's WorkloadEntry with its IP.
//
// On a failed spec or setup, CollectEvidence writes pods, events, istiod
// logs, every proxy's config dump and log, syncz and kind's node logs.
package kindmesh
