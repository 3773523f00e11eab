// Package apiserver turns the objects a fixture declares (Namespaces,
// ServiceAccounts, Services, Deployments, Gateway API Gateways and
// HTTPRoutes) into what a Kubernetes API server
// and its controllers would hold, for backends without a cluster: Istio's
// control plane run in-process on a fake clientset sees no API defaulting and
// no controllers.
//
// A Cluster keeps the declared objects (fixtures.Objects, as a fixture
// declares them) and derives, on every Apply or Delete, the full desired
// object set (a State: those objects defaulted, plus Pods and
// EndpointSlices):
//
//   - Namespaces get the kubernetes.io/metadata.name label and phase Active.
//   - Services are defaulted as the API server does (type ClusterIP, protocol
//     TCP, targetPort from port, session affinity, IP families) and get a
//     ClusterIP from the service CIDR: deterministic (a hash of
//     namespace/name, probed linearly), kept across updates, never shared.
//   - Deployments are defaulted (replicas 1) and expanded into Pods the way
//     the Deployment and ReplicaSet controllers and the kubelet would leave
//     them: named <deployment>-<pod-template-hash>-<suffix>, deterministic,
//     with the template's labels plus pod-template-hash, an owner reference,
//     serviceAccountName, a pod IP (from Options.PodIP or the pod CIDR),
//     phase Running and Ready conditions. Pods the sidecar injector would
//     inject carry its labels (security.istio.io/tlsMode=istio,
//     service.istio.io/canonical-name and -revision) and its
//     sidecar.istio.io/status annotation; no container is added.
//   - A Gateway of class istio gets what istiod's gateway deployment
//     controller creates for it (the pinned Istio's kube-gateway.yaml):
//     ServiceAccount, Deployment and Service <gateway>-istio (or the
//     gateway.istio.io/name-override annotation), labelled
//     gateway.networking.k8s.io/gateway-name and gateway-class-name and
//     gateway.istio.io/managed, the pod letting its proxy bind ports below
//     1024 (a sysctl), the Service's status port and one port per
//     listener; they go when the Gateway goes. Gateways and HTTPRoutes are
//     held as declared (no status: istiod's status writer is not run).
//   - Every Service with a selector gets EndpointSlices for the Pods it
//     selects, as the EndpointSlice controller writes them: ports resolved
//     per Pod (numeric or named targetPort), ready conditions and a targetRef
//     to the Pod.
//
// Diff compares two States so a backend can push only what changed.
package apiserver
