package kindmesh

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
)

// EnvVar documents one environment variable OptionsFromEnv reads.
type EnvVar struct {
	Name, Meaning string
	Required      bool
}

// Env lists what OptionsFromEnv reads: the make targets set these, the
// suites read them (MESHCHECK_BACKEND=kind).
var Env = []EnvVar{
	{"MESHCHECK_KIND_NODE_IMAGE", "kind node image (local tag or upstream reference)", true},
	{"MESHCHECK_ISTIO_VERSION", "Istio version X.Y.Z being installed (a supported minor)", true},
	{"MESHCHECK_ISTIOCTL", "the istioctl binary", true},
	{"MESHCHECK_WORKDIR", "directory for the kubeconfig and the istioctl overlay", true},
	{"MESHCHECK_KIND_CLUSTER", "cluster name (default: a fresh meshcheck-X-Y-<hex>)", false},
	{"MESHCHECK_ISTIO_HUB", "hub of locally built istiod/proxyv2 images (with MESHCHECK_ISTIO_TAG)", false},
	{"MESHCHECK_ISTIO_TAG", "tag of those images", false},
	{"MESHCHECK_EMBEDDED_PARITY", "1: no ALPN or metadata-exchange filters and no telemetry (stock Envoy)", false},
	{"MESHCHECK_ACCESS_LOG_ENCODING", "TEXT or JSON (default JSON)", false},
	{"MESHCHECK_DNS_CAPTURE", "1: sidecars capture DNS (ISTIO_META_DNS_CAPTURE)", false},
	{"MESHCHECK_DNS_AUTO_ALLOCATE", "1: ServiceEntries without addresses get one (needs MESHCHECK_DNS_CAPTURE=1)", false},
	{"MESHCHECK_KIND_IMAGES", "space-separated local images loaded into every node", false},
	{"MESHCHECK_FIXTURE_VARS", "space-separated NAME=VALUE passed to every fixture", false},
	{"MESHCHECK_VM_IMAGE", "image of the VM container", true},
	{"MESHCHECK_VM_COMMAND", "space-separated command of the VM container ({name} is the VM's name)", false},
	{"NODES", "1 (default) or 2 (control plane plus worker)", false},
	{"KEEP_CLUSTER", "1: keep the cluster at the end", false},
	{"REUSE_CLUSTER", "1: reuse a running cluster of the same name", false},
}

// OptionsFromEnv builds Options from the environment (getenv is os.Getenv
// in use). Every missing or malformed variable is reported, by name.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var errs []error
	for _, v := range Env {
		if v.Required && getenv(v.Name) == "" {
			errs = append(errs, fmt.Errorf("%s is not set: %s", v.Name, v.Meaning))
		}
	}
	version := getenv("MESHCHECK_ISTIO_VERSION")
	o := Options{
		Cluster: kindcluster.Options{
			Name:            getenv("MESHCHECK_KIND_CLUSTER"),
			NodeImage:       getenv("MESHCHECK_KIND_NODE_IMAGE"),
			IngressNodePort: istioinstall.DefaultIngressNodePort,
		},
		Install: istioinstall.Options{
			Version:           version,
			Hub:               getenv("MESHCHECK_ISTIO_HUB"),
			Tag:               getenv("MESHCHECK_ISTIO_TAG"),
			AccessLogEncoding: istioinstall.AccessLogEncoding(strings.ToUpper(getenv("MESHCHECK_ACCESS_LOG_ENCODING"))),
		},
		Istioctl:  getenv("MESHCHECK_ISTIOCTL"),
		WorkDir:   getenv("MESHCHECK_WORKDIR"),
		Images:    strings.Fields(getenv("MESHCHECK_KIND_IMAGES")),
		VMImage:   getenv("MESHCHECK_VM_IMAGE"),
		VMCommand: strings.Fields(getenv("MESHCHECK_VM_COMMAND")),
	}
	flag := func(name string) bool {
		switch getenv(name) {
		case "", "0", "false":
			return false
		case "1", "true":
			return true
		default:
			errs = append(errs, fmt.Errorf("%s=%q: want 1 or 0", name, getenv(name)))
			return false
		}
	}
	o.Install.EmbeddedParity = flag("MESHCHECK_EMBEDDED_PARITY")
	o.Install.DNSCapture = flag("MESHCHECK_DNS_CAPTURE")
	o.Install.DNSAutoAllocate = flag("MESHCHECK_DNS_AUTO_ALLOCATE")
	o.Keep = flag("KEEP_CLUSTER")
	o.Reuse = flag("REUSE_CLUSTER")
	switch n := getenv("NODES"); n {
	case "", "1":
	case "2":
		o.Cluster.Workers = 1
	default:
		if _, err := strconv.Atoi(n); err == nil {
			errs = append(errs, fmt.Errorf("NODES=%s: want 1 or 2 (one control plane, at most one worker)", n))
		} else {
			errs = append(errs, fmt.Errorf("NODES=%q: want 1 or 2", n))
		}
	}
	if vars := getenv("MESHCHECK_FIXTURE_VARS"); vars != "" {
		o.FixtureVars = map[string]string{}
		for _, kv := range strings.Fields(vars) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				errs = append(errs, fmt.Errorf("MESHCHECK_FIXTURE_VARS: %q is not NAME=VALUE", kv))
				continue
			}
			o.FixtureVars[k] = v
		}
	}
	if o.Cluster.Name == "" && version != "" {
		name, err := kindcluster.NewName(version, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("MESHCHECK_ISTIO_VERSION: %w", err))
		}
		o.Cluster.Name = name
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("kindmesh: the kind backend's environment: %w", err)
	}
	return o, nil
}
