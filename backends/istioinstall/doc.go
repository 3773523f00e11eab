// Package istioinstall says how meshcheck installs an Istio release on a
// kind cluster: the istioctl install arguments and overlay for a set of
// options, and the table of supported Istio minors with the Kubernetes
// versions and kind node images each one is run on, and the one parity
// setting (Parity: pilot's environment and telemetry off, so that Istio
// emits only upstream Envoy types) that the embedded mesh always runs with
// and a kind install may.
//
// Nothing here runs istioctl; the kind backend runs the arguments this
// package builds with the istioctl that backends/istiorelease fetched.
package istioinstall
