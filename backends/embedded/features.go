package embedded

import (
	"context"
	"errors"
	"fmt"
	"os/exec"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// Features implements backend.Backend: a VM (a network namespace outside
// the mesh), interception rules (iptables-save in the pod) and access logs
// (each Envoy's file). One node; Service VIPs are deterministic (no
// renaming); no evidence collector of its own (the suite writes config
// dumps, logs and rules).
func (b *Backend) Features() []backend.Feature {
	return []backend.Feature{backend.FeatureVM, backend.FeatureInterceptionRules, backend.FeatureAccessLogs}
}

// Versions implements backend.Backend: Istio is the version the mesh runs
// its proxies and interception rules as (Options.IstioVersion; by default
// the release line of the pinned istio.io/istio module whose pilot runs
// in-process, istioinstall.PinnedVersion), Envoy what the proxies' binary
// says to --version; no Kubernetes.
func (b *Backend) Versions(ctx context.Context) (backend.Versions, error) {
	if b.mesh == nil {
		return backend.Versions{}, errors.New("embedded backend: Versions before Up")
	}
	out, err := exec.CommandContext(ctx, b.mesh.envoy, "--version").CombinedOutput()
	if err != nil {
		return backend.Versions{}, fmt.Errorf("embedded backend: %s --version: %w: %s", b.mesh.envoy, err, out)
	}
	envoy, err := backend.EnvoyVersion(string(out))
	if err != nil {
		return backend.Versions{}, fmt.Errorf("embedded backend: %s --version: %w", b.mesh.envoy, err)
	}
	return backend.Versions{Istio: b.opts.Mesh.IstioVersion, Envoy: envoy}, nil
}

// FixtureVars implements backend.Backend: the embedded mesh ignores images,
// so fixtures need no variables from it.
func (b *Backend) FixtureVars() map[string]string { return map[string]string{} }

// CollectEvidence implements backend.Backend: unsupported (FeatureEvidence).
func (b *Backend) CollectEvidence(context.Context, string) error {
	return backend.Unsupported(b.Name(), backend.FeatureEvidence)
}

// ServiceVIPs implements backend.Backend: unsupported
// (FeatureServiceVIPs): the embedded mesh's VIPs do not change between runs.
func (b *Backend) ServiceVIPs(context.Context) (map[string]string, error) {
	return nil, backend.Unsupported(b.Name(), backend.FeatureServiceVIPs)
}
