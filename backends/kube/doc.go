// Package kube is the Kubernetes backend: it implements backend.Backend on
// any cluster a kubeconfig (and context) reaches, with Istio installed by
// istioctl (Install, the arguments backends/istioinstall builds) or the
// one the cluster already runs (Existing: Detect reads istiod's namespace,
// revision and version, the mesh config's access log, DNS capture and
// interception mode, native sidecars, CNI, the injector's namespace label
// and the ingress gateway Service, and refuses with a *NeedError naming
// each missing setting and how to turn it on, before anything is created).
// The kind backend (backends/kindmesh) is a kind cluster and then this
// backend.
//
// Fixtures are decoded and server-side applied, and every wait polled,
// with sigs.k8s.io/e2e-framework's klient (decoder, resources, wait and
// conditions); exec, port-forward and logs use client-go. Every object a
// run applies carries RunLabel=<run ID>; with NamespaceSuffix (a cluster
// meshcheck does not own) fixtures go only into namespaces named
// <namespace>-<run ID>, anything else is refused, and Down (or Cleanup,
// `meshcheck cleanup`) deletes exactly the namespaces carrying the run's
// label. The mesh's state is read the way an operator would read it:
//
//   - readiness: Deployment rollouts, then istiod's /debug/syncz through a
//     port-forward to istiod's localhost-only debug port;
//   - config dumps: `pilot-agent request GET config_dump?include_eds` in the
//     istio-proxy container;
//   - interception rules: Options.NodeRules where the backend can read the
//     node (kind), else the istio-init (or, with CNI, istio-validation)
//     container's log;
//   - access logs: istio-proxy's pod log, with timestamps, since a mark;
//   - in-mesh requests: `meshcheck-app fetch` exec'd in a client pod;
//   - the ingress: Options.IngressAddress, or the gateway Service's
//     LoadBalancer address, or a node's address and its NodePort.
//
// On a failed spec or setup, CollectEvidence writes pods and events of the
// run's and the control plane's namespaces, istiod's logs and syncz, and
// every proxy's config dump, log and interception rules.
package kube
