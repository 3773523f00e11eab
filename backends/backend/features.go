package backend

import (
	"errors"
	"fmt"
	"slices"
)

// Feature is something a backend may or may not offer. Tests declare the
// features they need; a backend lists those it has (Backend.Features), and a
// test needing one it lacks is skipped with the feature named.
type Feature string

// The features a backend may have.
const (
	// FeatureVM: StartVM runs a VM outside the mesh (the vm fixture's
	// WorkloadEntry points at it).
	FeatureVM Feature = "vm"
	// FeatureInterceptionRules: InterceptionRules returns a workload's rules
	// as the kernel holds them.
	FeatureInterceptionRules Feature = "interception-rules"
	// FeatureAccessLogs: AccessLogs returns what a proxy logged since a Mark.
	FeatureAccessLogs Feature = "access-logs"
	// FeatureMultiNode: workloads run on more than one node (Workload.Node).
	FeatureMultiNode Feature = "multi-node"
	// FeatureServiceVIPs: the cluster assigns Service VIPs at random and
	// ServiceVIPs names them, so goldens can rename them.
	FeatureServiceVIPs Feature = "service-vips"
	// FeatureEvidence: CollectEvidence writes the backend's own evidence
	// (pods, events, control-plane and node logs, config dumps).
	FeatureEvidence Feature = "evidence"
	// FeatureGoldens: the mesh is meshcheck's own (Istio as meshcheck
	// installs it, the fixtures in their own namespaces), so the xDS
	// goldens kept for the backend apply; not on a cluster whose Istio
	// and namespaces are the cluster's (kube).
	FeatureGoldens Feature = "goldens"
)

// AllFeatures lists every feature, in a stable order.
func AllFeatures() []Feature {
	return []Feature{FeatureVM, FeatureInterceptionRules, FeatureAccessLogs, FeatureMultiNode, FeatureServiceVIPs, FeatureEvidence, FeatureGoldens}
}

// Has reports whether b has feature f.
func Has(b Backend, f Feature) bool { return slices.Contains(b.Features(), f) }

// Missing returns the features of want that b lacks, in want's order.
func Missing(b Backend, want []Feature) []Feature {
	var out []Feature
	for _, f := range want {
		if !Has(b, f) {
			out = append(out, f)
		}
	}
	return out
}

// ErrUnsupported is wrapped by every error a backend returns for a feature
// it lacks; the error names the backend and the feature.
var ErrUnsupported = errors.New("unsupported by this backend")

// Unsupported returns the error a backend gives for a feature it lacks.
func Unsupported(backend string, f Feature) error {
	return fmt.Errorf("%s backend: feature %q: %w", backend, f, ErrUnsupported)
}

// Versions are the versions under test, as the backend reports them (never
// a constant in a suite). Each backend's doc says where each comes from.
type Versions struct {
	// Istio is the control plane's version, X.Y.Z.
	Istio string `json:"istio"`
	// Envoy is the proxies' Envoy version, X.Y.Z.
	Envoy string `json:"envoy"`
	// Proxy is the Istio release the proxies are (their ISTIO_VERSION):
	// on a cluster the proxy image's, in the embedded mesh the release
	// that ships the Envoy; empty where unknown.
	Proxy string `json:"proxy,omitempty"`
	// Kubernetes is the API server's version (vX.Y.Z); empty where there is
	// no API server (the embedded mesh).
	Kubernetes string `json:"kubernetes,omitempty"`
}

func (v Versions) String() string {
	k := v.Kubernetes
	if k == "" {
		k = "none"
	}
	proxy := ""
	if v.Proxy != "" {
		proxy = " (Istio proxy " + v.Proxy + ")"
	}
	return fmt.Sprintf("Istio %s, Envoy %s%s, Kubernetes %s", v.Istio, v.Envoy, proxy, k)
}
