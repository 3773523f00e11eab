package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/meshcheck/meshcheck/backends/istiorelease"
)

// check is one rule of Validate: the field it is about and what is wrong
// with r, nil when nothing is.
type check struct {
	field string
	err   func(r *Run) error
}

var (
	semverRE = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+$`)
	imageRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$`)
	runIDRE  = regexp.MustCompile(`^[a-z0-9]{4,12}$`)
)

// checks are Validate's rules, one small handler each.
var checks = []check{
	{"Backend", func(r *Run) error {
		if r.Backend != Embedded && r.Backend != Kind && r.Backend != Kube {
			return fmt.Errorf("%q: want %s, %s or %s", r.Backend, Embedded, Kind, Kube)
		}
		return nil
	}},
	{"Nodes", func(r *Run) error {
		switch {
		case r.Nodes != 1 && r.Nodes != 2:
			return fmt.Errorf("%d: want 1 or 2 (one control plane, at most one worker)", r.Nodes)
		case r.Nodes == 2 && r.Backend != Kind:
			return fmt.Errorf("2: only the kind backend has nodes (backend is %s)", r.Backend)
		}
		return nil
	}},
	{"Istio.Version", func(r *Run) error {
		switch {
		case r.Istio.Version == "":
			return nil
		case r.Backend == Embedded:
			return fmt.Errorf("%s: only the kind and kube backends install a release; the %s mesh runs the istio.io/istio that go.mod pins", r.Istio.Version, r.Backend)
		case r.Istio.Source != "":
			return fmt.Errorf("%s: a release and a source checkout (Istio.Source, --istio-src, $ISTIO_SRC = %s) exclude each other", r.Istio.Version, r.Istio.Source)
		}
		return istiorelease.CheckVersion(r.Istio.Version)
	}},
	{"Istio.Mirror", func(r *Run) error {
		if m := r.Istio.Mirror; m != "" && !strings.HasPrefix(m, "http://") && !strings.HasPrefix(m, "https://") {
			return fmt.Errorf("%q: want an http or https URL", m)
		}
		return nil
	}},
	{"Ingress", func(r *Run) error {
		switch {
		case r.Ingress != "" && r.Ingress != IngressIstio && r.Ingress != IngressGatewayAPI:
			return fmt.Errorf("%q: want %s or %s", r.Ingress, IngressIstio, IngressGatewayAPI)
		case r.Ingress == IngressGatewayAPI && r.Backend != Embedded:
			return fmt.Errorf("%s: only the embedded backend deploys Gateway API Gateways so far (backend is %s)", r.Ingress, r.Backend)
		}
		return nil
	}},
	{"Envoy", checkEnvoy},
	{"ProxyVersion", func(r *Run) error {
		if v := r.ProxyVersion; v != "" && !semverRE.MatchString(v) {
			return fmt.Errorf("%q: want an Istio release X.Y.Z (1.32.0)", v)
		}
		return nil
	}},
	{"Binary", func(r *Run) error {
		if r.Backend != Embedded || r.Binary == "" {
			return nil
		}
		return executable(r.Binary)
	}},
	{"ReportDir", func(r *Run) error {
		if r.ReportDir == "" {
			return errors.New("empty: want a directory")
		}
		return nil
	}},
	{"ImageRegistry", func(r *Run) error { return imageName(r.ImageRegistry) }},
	{"Local.IstioHub", func(r *Run) error { return imageName(r.Local.IstioHub) }},
	{"Local.FixtureRegistry", func(r *Run) error { return imageName(r.Local.FixtureRegistry) }},
	{"Local.K8sVersion", func(r *Run) error {
		if v := r.Local.K8sVersion; v != "" && !semverRE.MatchString(v) {
			return fmt.Errorf("%q: want a Kubernetes version X.Y.Z", v)
		}
		return nil
	}},
	{"Kind.Reuse", func(r *Run) error {
		if r.Kind.Reuse && r.Kind.Cluster == "" {
			return errors.New("reusing a cluster needs its name (Kind.Cluster, --kind-cluster)")
		}
		return nil
	}},
	{"Kube.Kubeconfig", func(r *Run) error {
		if r.Backend == Kube && r.Kube.Kubeconfig == "" {
			return errors.New("the kube backend needs a kubeconfig")
		}
		return nil
	}},
	{"Kube.Istio", func(r *Run) error {
		switch r.Kube.Istio {
		case "", "install", "existing":
			return nil
		}
		return fmt.Errorf("%q: want install or existing", r.Kube.Istio)
	}},
	{"Kube.RunID", func(r *Run) error {
		if id := r.Kube.RunID; id != "" && !runIDRE.MatchString(id) {
			return fmt.Errorf("%q: want 4 to 12 lower-case letters or digits", id)
		}
		return nil
	}},
	{"Mesh.AccessLogEncoding", func(r *Run) error {
		switch strings.ToUpper(r.Mesh.AccessLogEncoding) {
		case "", "TEXT", "JSON":
			return nil
		}
		return fmt.Errorf("%q: want TEXT or JSON", r.Mesh.AccessLogEncoding)
	}},
	{"Mesh.DNSAutoAllocate", func(r *Run) error {
		if r.Mesh.DNSAutoAllocate && !r.Mesh.DNSCapture {
			return errors.New("needs Mesh.DNSCapture (--dns-capture): proxies use the allocated addresses only when they capture DNS")
		}
		return nil
	}},
}

// Validate checks r; every problem is reported, each naming its field
// and the flag and variable it is set with.
func (r Run) Validate() error {
	var errs []error
	for _, c := range checks {
		if err := c.err(&r); err != nil {
			errs = append(errs, fieldErr(c.field, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// fieldErr names the field err is about and where it is set.
func fieldErr(name string, err error) error {
	return fmt.Errorf("%s (%s): %w", name, lookup(name).source(), err)
}

// envoyMinorRE is an Envoy minor (1.37): its newest release.
var envoyMinorRE = regexp.MustCompile(`^v?1\.[0-9]+$`)

// checkEnvoy accepts a version, or on the embedded backend an executable.
func checkEnvoy(r *Run) error {
	e := r.Envoy
	if e == "" || semverRE.MatchString(e) || envoyMinorRE.MatchString(e) {
		return nil
	}
	if !strings.Contains(e, "/") {
		return fmt.Errorf("%q: want a path to an Envoy binary or a release (1.37, 1.37.0)", e)
	}
	if r.Backend != Embedded {
		return nil // make images reads it; the kind run does not
	}
	return executable(e)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: not an executable file (mode %v)", p, fi.Mode())
	}
	return nil
}

func imageName(s string) error {
	if s != "" && (!imageRE.MatchString(s) || strings.Contains(s, "://")) {
		return fmt.Errorf("%q: want a registry or repository such as registry.example:5000/istio (lower case, no scheme)", s)
	}
	return nil
}
