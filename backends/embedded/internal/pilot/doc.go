// Package pilot runs the embedded mesh's control plane: Istio's real pilot
// (istio.io/istio's FakeDiscoveryServer: the real config generation over a
// fake Kubernetes clientset and an in-memory Istio config store) as a
// process of its own, meshcheck-pilot (package pilothost), built by
// pilotbuild against the Istio source under test and started with
// istioinstall.Parity's environment. It serves ADS on a Unix socket; this
// package applies and deletes Kubernetes objects and Istio configs over the
// process's control socket (package pilotapi) and reports every connected
// proxy's sync state as backend.ProxySync.
package pilot
