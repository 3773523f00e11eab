package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// Features implements backend.Backend: interception rules (from the node
// where Options.NodeRules reads them, else the istio-init log), access logs
// (the istio-proxy container's log), random Service VIPs and an evidence
// collector; more than one node when SpreadOverNodes says the cluster has
// them; goldens when it installed Istio into a cluster of the run's own
// (the kind backend's). No VM: the kind backend adds it.
func (b *Backend) Features() []backend.Feature {
	fs := []backend.Feature{backend.FeatureInterceptionRules, backend.FeatureAccessLogs,
		backend.FeatureServiceVIPs, backend.FeatureEvidence}
	if b.opts.SpreadOverNodes {
		fs = append(fs, backend.FeatureMultiNode)
	}
	if b.opts.Istio == Install && !b.opts.NamespaceSuffix {
		fs = append(fs, backend.FeatureGoldens)
	}
	return fs
}

// StartVM implements backend.Backend: a cluster alone runs no VM.
func (b *Backend) StartVM(context.Context, string, string) (backend.Workload, error) {
	return backend.Workload{}, backend.Unsupported(b.Name(), backend.FeatureVM)
}

// Versions implements backend.Backend: Istio is the version installed
// (Options.Install.Version) or istiod's own (detected); Envoy is what a
// running proxy's admin API says in server_info (the ingress gateway's,
// or the first proxy's); Kubernetes the API server's version.
func (b *Backend) Versions(ctx context.Context) (backend.Versions, error) {
	if b.kube == nil {
		return backend.Versions{}, errors.New("kube: Versions before Up")
	}
	v := backend.Versions{Istio: b.mesh.Version}
	sv, err := b.kube.cs.Discovery().ServerVersion()
	if err != nil {
		return v, fmt.Errorf("kube: the API server's version: %w", err)
	}
	v.Kubernetes = sv.GitVersion
	v.Envoy, err = b.envoyVersion(ctx)
	return v, err
}

// envoyVersion asks a proxy's admin API for server_info through pilot-agent.
func (b *Backend) envoyVersion(ctx context.Context) (string, error) {
	ps, err := b.Proxies(ctx)
	if err != nil {
		return "", err
	}
	if len(ps) == 0 {
		return "", errors.New("kube: no running proxy to ask its Envoy version")
	}
	p := ps[0]
	for _, q := range ps {
		if q.Proxy == backend.Gateway {
			p = q
			break
		}
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	res, err := b.kube.exec(ctx, p.Namespace, p.Name, "istio-proxy", []string{"pilot-agent", "request", "GET", "server_info"}, nil)
	if err != nil {
		return "", fmt.Errorf("kube: server_info of %s: %w", p, err)
	}
	v, err := serverInfoVersion(res.Stdout)
	if err != nil {
		return "", fmt.Errorf("kube: server_info of %s: %w", p, err)
	}
	return v, nil
}

// serverInfoVersion reads Envoy's X.Y.Z from the admin API's server_info.
func serverInfoVersion(b []byte) (string, error) {
	var info struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return "", fmt.Errorf("%w: %s", err, tail(strings.TrimSpace(string(b)), 400))
	}
	return envoybin.ParseVersion([]byte(info.Version))
}
