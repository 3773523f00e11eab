package embedded

import (
	"context"
	"errors"
	"fmt"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// Features implements backend.Backend: a VM (a network namespace outside
// the mesh), interception rules (iptables-save in the pod) and access logs
// (each Envoy's file), goldens (the mesh is the run's own). One node;
// Service VIPs are deterministic (no renaming); no evidence collector of
// its own (the suite writes config dumps, logs and rules).
func (b *Backend) Features() []backend.Feature {
	return []backend.Feature{backend.FeatureVM, backend.FeatureInterceptionRules, backend.FeatureAccessLogs, backend.FeatureGoldens}
}

// Versions implements backend.Backend: Istio is the control plane's
// release line (pilotbuild.Release: the pinned module's
// istioinstall.PinnedVersion, another source's VERSION file), Envoy what
// the proxies' binary says to --version, Proxy the Istio release the
// proxies declare and get interception rules of (Options.IstioVersion; by
// default the release that ships that Envoy); no Kubernetes.
func (b *Backend) Versions(ctx context.Context) (backend.Versions, error) {
	if b.mesh == nil {
		return backend.Versions{}, errors.New("embedded backend: Versions before Up")
	}
	envoy, err := envoybin.Version(ctx, b.mesh.Envoy())
	if err != nil {
		return backend.Versions{}, fmt.Errorf("embedded backend: %w", err)
	}
	return backend.Versions{Istio: b.istio, Envoy: envoy, Proxy: b.mesh.IstioVersion()}, nil
}

// FixtureVars implements backend.Backend: the embedded mesh ignores images;
// a run through the Gateway API hands the fixtures their ingress variable
// (BackendOptions.Ingress).
func (b *Backend) FixtureVars() map[string]string {
	if b.opts.Ingress == "" {
		return map[string]string{}
	}
	return map[string]string{"ingress": b.opts.Ingress}
}

// CollectEvidence implements backend.Backend: unsupported (FeatureEvidence).
func (b *Backend) CollectEvidence(context.Context, string) error {
	return backend.Unsupported(b.Name(), backend.FeatureEvidence)
}

// Namespace implements backend.Backend: the mesh is the run's own, a
// fixture's namespace is used as it is.
func (b *Backend) Namespace(fixture string) string { return fixture }

// ServiceVIPs implements backend.Backend: unsupported
// (FeatureServiceVIPs): the embedded mesh's VIPs do not change between runs.
func (b *Backend) ServiceVIPs(context.Context) (map[string]string, error) {
	return nil, backend.Unsupported(b.Name(), backend.FeatureServiceVIPs)
}
