// Package embedded is the embedded backend: Istio's real pilot in a process
// of its own built against the Istio source under test,
// pods as network namespaces running the repository's sample apps behind
// real Envoy sidecars, the ingress gateway an Envoy in router mode behind
// its Service istio-ingressgateway (port 80 to 8080, reached as kube-proxy
// would), behind the backend.Backend interface. Changes (meshcheck
// mutate's) alter what the backend declares or installs itself: a pod's
// istio-iptables configuration, the gateway Service's targetPort.
//
// Its public surface is small: NewBackend and its options, the Backend, and
// Leftovers (what a run left behind). The machinery is internal:
//
//   - internal/apiserver: what an API server and its controllers would hold
//     for the fixtures' objects (defaulted Services with ClusterIPs, Pods
//     from Deployments, EndpointSlices), and the diff of two such sets.
//   - internal/mesh: the mesh itself (pilot, the pod network, the CA) and
//     its pods: start a pod's app, load Istio's interception rules, start
//     its proxy; wait until apps listen and proxies are synced.
//   - internal/pilot: the control plane: Istio's pilot (istio.io/istio's
//     FakeDiscoveryServer) serving ADS on a Unix socket, run as the process
//     meshcheck-pilot (internal/pilothost, built by internal/pilotbuild for
//     an Istio source: the pinned module, another served module version, a
//     checkout), fed Kubernetes objects and Istio configs over a control
//     socket (internal/pilotapi); its view of every proxy's sync state.
//   - internal/proxy: one Envoy as istio-agent would run it (bootstrap, SDS
//     server, admin reads).
//   - internal/podnet: the host bridge and one network namespace (NetNS)
//     per pod or VM; commands and connections inside one.
//   - internal/ca: the run's certificate authority (SPIFFE identities).
package embedded
