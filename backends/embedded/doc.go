// Package embedded is the embedded backend: Istio's real pilot in-process,
// pods as network namespaces running the repository's sample apps behind
// real Envoy sidecars, the ingress gateway an Envoy in router mode, behind
// the backend.Backend interface.
//
// Its public surface is small: NewBackend and its options, the Backend, and
// for the suites CheckPilotEnv and Leftovers. The machinery is internal:
//
//   - internal/apiserver: what an API server and its controllers would hold
//     for the fixtures' objects (defaulted Services with ClusterIPs, Pods
//     from Deployments, EndpointSlices), and the diff of two such sets.
//   - internal/mesh: the mesh itself (pilot, the pod network, the CA) and
//     its pods: start a pod's app, load Istio's interception rules, start
//     its proxy; wait until apps listen and proxies are synced.
//   - internal/pilot: Istio's pilot (istio.io/istio's FakeDiscoveryServer)
//     serving ADS on a Unix socket, fed Kubernetes objects and Istio
//     configs; its view of every proxy's sync state.
//   - internal/proxy: one Envoy as istio-agent would run it (bootstrap, SDS
//     server, admin reads).
//   - internal/podnet: the host bridge and one network namespace (NetNS)
//     per pod or VM; commands and connections inside one.
//   - internal/ca: the run's certificate authority (SPIFFE identities).
package embedded
