package pilot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotbuild"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// Options configure the control plane.
type Options struct {
	// Source is the Istio source pilot is built from (the zero value: the
	// pinned module).
	Source pilotbuild.Source
	// Binary is a control plane already built; empty means build (or
	// reuse from the cache) Source's.
	Binary string
	// Dir holds the sockets and the process's log.
	Dir string
	// EventGrace bounds how long an apply that changes nothing is awaited
	// as a config event (see timeouts.Timeouts.PilotEvent); Debounce is
	// pilot's push debounce (0: push at once).
	EventGrace, Debounce time.Duration
	// Ready bounds the wait for the process to answer; Build the build.
	Ready, Build time.Duration
	// BuildLog receives the go command's output of a build.
	BuildLog io.Writer
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	proc *pilotapi.Process
	bin  pilotbuild.Binary
}

// Start builds (or finds in the cache) the control plane for the source
// and starts it with istioinstall.Parity's environment.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	bin := pilotbuild.Binary{Path: opts.Binary, Source: opts.Source, Identity: "given"}
	if opts.Binary == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		repo, err := pilotbuild.RepoRoot(wd)
		if err != nil {
			return nil, err
		}
		bctx, cancel := context.WithTimeout(ctx, opts.Build)
		defer cancel()
		if bin, err = pilotbuild.Build(bctx, opts.Source, pilotbuild.Options{Repo: repo, Log: opts.BuildLog}); err != nil {
			return nil, err
		}
	}
	env := map[string]string{}
	for _, e := range istioinstall.Parity.PilotEnv {
		env[e.Name] = e.Value
	}
	p, err := pilotapi.Start(ctx, pilotapi.StartOptions{Binary: bin.Path, Dir: opts.Dir, Env: env,
		EventGrace: opts.EventGrace, Debounce: opts.Debounce, Source: opts.Source.String(), Ready: opts.Ready})
	if err != nil {
		return nil, fmt.Errorf("control plane from %s: %w", opts.Source, err)
	}
	return &ControlPlane{proc: p, bin: bin}, nil
}

// Socket is where ADS is served.
func (c *ControlPlane) Socket() string { return c.proc.XDS }

// Log is the control plane's output.
func (c *ControlPlane) Log() string { return c.proc.Log }

// Info is what the control plane said of itself (its Istio module).
func (c *ControlPlane) Info() pilotapi.Info { return c.proc.Info }

// Binary is the control plane binary and its identity.
func (c *ControlPlane) Binary() pilotbuild.Binary { return c.bin }

// Close stops the control plane.
func (c *ControlPlane) Close() { c.proc.Close() }

// ApplyKube creates or updates Kubernetes objects as an API server would
// hold them (the caller has defaulted them).
func (c *ControlPlane) ApplyKube(ctx context.Context, objs ...runtime.Object) error {
	if len(objs) == 0 {
		return nil
	}
	wire, err := toWire(objs)
	if err != nil {
		return err
	}
	return c.call(c.proc.Apply(ctx, pilotapi.Apply{Kube: wire}))
}

// DeleteKube deletes Kubernetes objects; a missing one is not an error.
func (c *ControlPlane) DeleteKube(ctx context.Context, objs ...runtime.Object) error {
	if len(objs) == 0 {
		return nil
	}
	wire, err := toWire(objs)
	if err != nil {
		return err
	}
	return c.call(c.proc.Delete(ctx, pilotapi.Delete{Kube: wire}))
}

// ApplyConfigs creates or updates Istio configs (YAML, several documents)
// read with the cluster domain set, so short hosts resolve the way istiod
// resolves them.
func (c *ControlPlane) ApplyConfigs(ctx context.Context, yamlText, domain string) error {
	return c.call(c.proc.Apply(ctx, pilotapi.Apply{Istio: yamlText, Domain: domain}))
}

// DeleteConfig removes an Istio config.
func (c *ControlPlane) DeleteConfig(ctx context.Context, k pilotapi.ConfigKey) error {
	return c.call(c.proc.Delete(ctx, pilotapi.Delete{Istio: []pilotapi.ConfigKey{k}}))
}

// Sync is the xDS state of every connected proxy, each named by pilot's
// proxy id (pod.namespace).
func (c *ControlPlane) Sync(ctx context.Context) ([]backend.ProxySync, error) {
	in, err := c.proc.Sync(ctx)
	if err := c.call(err); err != nil {
		return nil, err
	}
	out := make([]backend.ProxySync, 0, len(in))
	for _, s := range in {
		ps := backend.ProxySync{Proxy: s.ProxyID, Current: s.Current, Types: map[string]backend.TypeSync{}, Services: s.Services, Gateways: s.Gateways}
		for url, t := range s.Types {
			ps.Types[url] = backend.TypeSync{Sent: t.Sent, Acked: t.Acked, LastError: t.LastError}
		}
		out = append(out, ps)
	}
	return out, nil
}

// call adds the process's exit, when it has died, to an error.
func (c *ControlPlane) call(err error) error {
	if err == nil {
		return nil
	}
	if dead := c.proc.Exited(); dead != nil {
		return fmt.Errorf("%w (%w)", err, dead)
	}
	return err
}

// toWire carries typed objects as their kind and JSON.
func toWire(objs []runtime.Object) ([]pilotapi.Object, error) {
	out := make([]pilotapi.Object, 0, len(objs))
	for _, o := range objs {
		var kind string
		switch o.(type) {
		case *corev1.Namespace:
			kind = "Namespace"
		case *corev1.ServiceAccount:
			kind = "ServiceAccount"
		case *corev1.Service:
			kind = "Service"
		case *corev1.Pod:
			kind = "Pod"
		case *discoveryv1.EndpointSlice:
			kind = "EndpointSlice"
		case *appsv1.Deployment:
			kind = "Deployment"
		case *gatewayv1.Gateway:
			kind = "Gateway"
		case *gatewayv1.HTTPRoute:
			kind = "HTTPRoute"
		default:
			return nil, fmt.Errorf("unsupported Kubernetes object %T (the control plane holds %v)", o, pilotapi.Kinds)
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		out = append(out, pilotapi.Object{Kind: kind, Object: b})
	}
	return out, nil
}
