// Package proxy runs one embedded-mesh proxy the way istio-agent would: an
// Envoy process in a pod's network namespace as the proxy's UID, with the
// bootstrap istio-agent writes (ADS and SDS over Unix sockets), an SDS
// server for its workload certificate, and reads of its admin interface
// (config dump, server state).
package proxy
