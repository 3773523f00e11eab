// Package pilot runs Istio's real pilot in-process for the embedded mesh:
// istio.io/istio's FakeDiscoveryServer (the real config generation over a
// fake Kubernetes clientset and an in-memory Istio config store) serving
// ADS on a Unix socket. It applies and deletes Kubernetes objects and Istio
// configs, says when pilot's push context holds every event so far
// (Version), and reports every connected proxy's sync state as
// backend.ProxySync. Pilot must run with istioinstall.Parity (CheckEnv).
package pilot
