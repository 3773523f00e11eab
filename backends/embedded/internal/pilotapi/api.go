// Package pilotapi is the wire between the embedded backend and its
// control plane, which runs as a process of its own (meshcheck-pilot,
// package pilothost) built against the Istio source under test. The wire
// is JSON over HTTP on a Unix socket. The package uses the standard
// library only, so it compiles against any Istio source's requirements.
package pilotapi

import (
	"encoding/json"
	"fmt"
)

// Paths the control plane serves.
const (
	PathInfo   = "/info"
	PathApply  = "/apply"
	PathDelete = "/delete"
	PathSync   = "/sync"
)

// Kinds of Kubernetes objects the control plane holds (pilot's fake
// clientset; Gateway and HTTPRoute, gateway.networking.k8s.io/v1, in its
// Gateway API clientset, where istiod's gateway controller reads them).
var Kinds = []string{"Namespace", "ServiceAccount", "Service", "Pod", "EndpointSlice", "Deployment", "Gateway", "HTTPRoute"}

// Object is one Kubernetes object: its kind and its JSON.
type Object struct {
	Kind   string          `json:"kind"`
	Object json.RawMessage `json:"object"`
}

// ConfigKey names an Istio config.
type ConfigKey struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

func (k ConfigKey) String() string { return fmt.Sprintf("%s %s/%s", k.Kind, k.Namespace, k.Name) }

// Apply creates or updates objects: Kubernetes objects first, then Istio
// configs given as YAML documents, read with Domain as the cluster domain.
type Apply struct {
	Kube   []Object `json:"kube,omitempty"`
	Istio  string   `json:"istio,omitempty"`
	Domain string   `json:"domain,omitempty"`
}

// Delete removes objects; a missing one is not an error.
type Delete struct {
	Kube  []Object    `json:"kube,omitempty"`
	Istio []ConfigKey `json:"istio,omitempty"`
}

// Info is what the control plane says of itself.
type Info struct {
	// Istio is the istio.io/istio module version it was built from
	// ("(devel)" or a replace target for a checkout).
	Istio string `json:"istio"`
	// Source is the source identity it was built for (pilotbuild).
	Source string `json:"source"`
	// Go is the Go version it was built with.
	Go string `json:"go"`
	// Env is pilot's environment as the process started with it.
	Env map[string]string `json:"env"`
	// XDS is the Unix socket ADS is served on.
	XDS string `json:"xds"`
}

// ProxySync is one connected proxy's xDS state, as istiod's /debug/syncz
// reports it.
type ProxySync struct {
	ProxyID string `json:"proxyID"`
	// Version is the push context version the proxy was last considered
	// or pushed for; Current is true when that is pilot's current one.
	Version string `json:"version"`
	Current bool   `json:"current"`
	// Types maps a type URL to its state.
	Types map[string]TypeSync `json:"types"`
}

// TypeSync is the state of one xDS type for a proxy.
type TypeSync struct {
	Sent  string `json:"sent"`
	Acked string `json:"acked"`
	// LastError is Envoy's text when it rejected (NACKed) the last push.
	LastError string `json:"lastError,omitempty"`
}

// Error is the body of a failed call.
type Error struct {
	Error string `json:"error"`
}
