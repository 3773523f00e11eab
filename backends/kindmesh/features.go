package kindmesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// Features implements backend.Backend: a VM (a container on the kind
// network), interception rules (read from the node), access logs (the
// istio-proxy container's log), random Service VIPs and an evidence
// collector; more than one node when the cluster has a worker.
func (b *Backend) Features() []backend.Feature {
	fs := []backend.Feature{backend.FeatureVM, backend.FeatureInterceptionRules, backend.FeatureAccessLogs,
		backend.FeatureServiceVIPs, backend.FeatureEvidence}
	if b.opts.Cluster.Workers > 0 {
		fs = append(fs, backend.FeatureMultiNode)
	}
	return fs
}

// Versions implements backend.Backend: Istio is the version installed (the
// release, or the air-gapped build's line, Options.Install.Version);
// Envoy is what a running proxy's admin API says in server_info (the
// ingress gateway's, or the first proxy's); Kubernetes the API server's
// version.
func (b *Backend) Versions(ctx context.Context) (backend.Versions, error) {
	if b.kube == nil {
		return backend.Versions{}, errors.New("kindmesh: Versions before Up")
	}
	v := backend.Versions{Istio: b.opts.Install.Version}
	sv, err := b.kube.cs.Discovery().ServerVersion()
	if err != nil {
		return v, fmt.Errorf("kindmesh: the API server's version: %w", err)
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
		return "", errors.New("kindmesh: no running proxy to ask its Envoy version")
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
		return "", fmt.Errorf("kindmesh: server_info of %s: %w", p, err)
	}
	v, err := serverInfoVersion(res.Stdout)
	if err != nil {
		return "", fmt.Errorf("kindmesh: server_info of %s: %w", p, err)
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
	return backend.EnvoyVersion(info.Version)
}
