package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/mesh"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
)

// ControlPlaneOptions configure the control plane.
type ControlPlaneOptions struct {
	// Socket is the Unix socket path ADS is served on; Envoys in any network
	// namespace reach it through the file system.
	Socket string
	// Mesh is the mesh config; nil means Istio's default with the access log
	// on stdout in the default text format.
	Mesh *meshconfig.MeshConfig
	// Debounce is pilot's push debounce (0: push at once).
	Debounce time.Duration
	// EventGrace bounds how long an apply that changes nothing is awaited
	// as a config event (see timeouts.Timeouts.PilotEvent).
	EventGrace time.Duration
}

// ControlPlane is Istio's real pilot (istio.io/istio, FakeDiscoveryServer:
// the real config generation over a fake Kubernetes clientset and an
// in-memory Istio config store) serving ADS on a Unix socket.
type ControlPlane struct {
	fake   *xds.FakeDiscoveryServer
	failer *failer
	socket string

	mu sync.Mutex
	// processed is, per proxy id, the push context version pilot last
	// considered for it (pushed or found not to need a push).
	processed map[string]string
	// After an apply, pilot is not current until its inbound update count
	// passes barrier (the store tells it asynchronously), or until the
	// grace ends for an apply that changed nothing.
	barrier    int64
	barrierSet time.Time
	grace      time.Duration
}

// TracingProvider is the one tracing provider the embedded mesh declares
// (Zipkin at TracingService:9411): a fixture's Telemetry may select it,
// declaring that service (a ServiceEntry) for pilot to find its cluster;
// it traces nothing otherwise.
const (
	TracingProvider = "meshcheck-zipkin"
	TracingService  = "zipkin.meshcheck.example"
)

// DefaultMesh is the mesh config of the embedded mesh: Istio's defaults
// (no default metrics provider), access log to stdout in the default text
// format, and the tracing provider TracingProvider.
func DefaultMesh() *meshconfig.MeshConfig {
	m := mesh.DefaultMeshConfig()
	m.AccessLogFile = "/dev/stdout"
	m.ExtensionProviders = append(m.ExtensionProviders, &meshconfig.MeshConfig_ExtensionProvider{
		Name: TracingProvider,
		Provider: &meshconfig.MeshConfig_ExtensionProvider_Zipkin{
			Zipkin: &meshconfig.MeshConfig_ExtensionProvider_ZipkinTracingProvider{Service: TracingService, Port: 9411},
		},
	})
	return m
}

// StartControlPlane starts pilot and serves ADS on opts.Socket.
func StartControlPlane(opts ControlPlaneOptions) (cp *ControlPlane, err error) {
	if opts.Mesh == nil {
		opts.Mesh = DefaultMesh()
	}
	_ = os.Remove(opts.Socket)
	f := &failer{}
	defer func() {
		if r := recover(); r != nil {
			f.cleanup()
			if fe, ok := r.(failure); ok {
				err = fmt.Errorf("start pilot: %s", fe.msg)
				return
			}
			panic(r)
		}
	}()
	fake := xds.NewFakeDiscoveryServer(f, xds.FakeOptions{
		MeshConfig:   opts.Mesh,
		DebounceTime: opts.Debounce,
		ListenerBuilder: func() (net.Listener, error) {
			ln, err := net.Listen("unix", opts.Socket)
			if err != nil {
				return nil, err
			}
			return ln, os.Chmod(opts.Socket, 0o666)
		},
	})
	startClassController(fake, f)
	cp = &ControlPlane{fake: fake, failer: f, socket: opts.Socket, processed: map[string]string{}, grace: opts.EventGrace, barrier: -1}
	if cp.grace == 0 {
		cp.grace = 2 * time.Second
	}
	// Pilot asks ProxyNeedsPush for every connection on every push: record
	// the version it considered, so Sync can tell a proxy that is current
	// from one whose push is still queued. No proxy is connected yet, so
	// nothing reads the field while it is replaced.
	needsPush := fake.Discovery.ProxyNeedsPush
	fake.Discovery.ProxyNeedsPush = func(p *model.Proxy, req *model.PushRequest) (*model.PushRequest, bool) {
		r, ok := needsPush(p, req)
		if req != nil && req.Push != nil {
			cp.mu.Lock()
			cp.processed[p.ID] = req.Push.PushVersion
			cp.mu.Unlock()
		}
		return r, ok
	}
	return cp, nil
}

// Version is the version of pilot's current push context, once every
// config event received so far is in it; ok is false while some are not.
func (c *ControlPlane) Version() (v string, ok bool) {
	d := c.fake.Discovery
	in := d.InboundUpdates.Load()
	c.mu.Lock()
	waiting := c.barrier >= 0 && in <= c.barrier && time.Since(c.barrierSet) < c.grace
	if c.barrier >= 0 && !waiting {
		c.barrier = -1
	}
	c.mu.Unlock()
	if waiting || d.CommittedUpdates.Load() < in {
		return "", false
	}
	return d.Env.PushContext().PushVersion, true
}

// Socket is where ADS is served.
func (c *ControlPlane) Socket() string { return c.socket }

// Close stops pilot.
func (c *ControlPlane) Close() {
	c.failer.cleanup()
	_ = os.Remove(c.socket)
}

// expectEvent marks an apply: Version is not current until pilot has
// counted an event after it.
func (c *ControlPlane) expectEvent() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.barrier < 0 {
		c.barrier = c.fake.Discovery.InboundUpdates.Load()
	}
	c.barrierSet = time.Now()
}

// ApplyKube creates or updates Kubernetes objects in the fake clientset,
// as an API server would hold them (the caller has defaulted them).
func (c *ControlPlane) ApplyKube(ctx context.Context, objs ...runtime.Object) error {
	kc := c.fake.KubeClient().Kube()
	for _, o := range objs {
		if isEvent(o) {
			c.expectEvent()
		}
		before := c.fake.Discovery.InboundUpdates.Load()
		if handled, err := applyGatewayAPI(ctx, c.fake.KubeClient().GatewayAPI(), c.fake.Discovery.Env.GatewayAPIController, o); handled {
			if err == nil {
				err = c.waitGatewayPushed(ctx, o, before)
			}
			if err != nil {
				return fmt.Errorf("apply %s: %w", objName(o), err)
			}
			continue
		}
		var err error
		switch t := o.(type) {
		case *corev1.Namespace:
			err = upsert(ctx, t, kc.CoreV1().Namespaces().Create, kc.CoreV1().Namespaces().Update)
		case *corev1.ServiceAccount:
			err = upsert(ctx, t, kc.CoreV1().ServiceAccounts(t.Namespace).Create, kc.CoreV1().ServiceAccounts(t.Namespace).Update)
		case *corev1.Service:
			err = upsert(ctx, t, kc.CoreV1().Services(t.Namespace).Create, kc.CoreV1().Services(t.Namespace).Update)
		case *corev1.Pod:
			err = upsert(ctx, t, kc.CoreV1().Pods(t.Namespace).Create, kc.CoreV1().Pods(t.Namespace).Update)
		case *discoveryv1.EndpointSlice:
			err = upsert(ctx, t, kc.DiscoveryV1().EndpointSlices(t.Namespace).Create, kc.DiscoveryV1().EndpointSlices(t.Namespace).Update)
		case *appsv1.Deployment:
			err = upsert(ctx, t, kc.AppsV1().Deployments(t.Namespace).Create, kc.AppsV1().Deployments(t.Namespace).Update)
		default:
			err = fmt.Errorf("unsupported Kubernetes object %T", o)
		}
		if err != nil {
			return fmt.Errorf("apply %s: %w", objName(o), err)
		}
		if svc, ok := o.(*corev1.Service); ok {
			if err := c.waitService(ctx, svc); err != nil {
				return err
			}
		}
	}
	return nil
}

// serviceTimeout bounds how long pilot's registry takes to hold a Service.
const serviceTimeout = 10 * time.Second

// waitService waits until pilot's Kubernetes registry holds a Service it
// was given. A pod starts after the API server holds its Services, and on
// a cluster seconds after: a proxy that connects finds the Services that
// select it (its service targets: which Gateway a gateway serves).
func (c *ControlPlane) waitService(ctx context.Context, svc *corev1.Service) error {
	name := host.Name(svc.Name + "." + svc.Namespace + ".svc." + constants.DefaultClusterLocalDomain)
	deadline := time.Now().Add(serviceTimeout)
	for c.fake.KubeRegistry.GetService(name) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("pilot's registry did not hold Service %s/%s within %s", svc.Namespace, svc.Name, serviceTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// DeleteKube deletes Kubernetes objects.
func (c *ControlPlane) DeleteKube(ctx context.Context, objs ...runtime.Object) error {
	kc := c.fake.KubeClient().Kube()
	for _, o := range objs {
		if isEvent(o) {
			c.expectEvent()
		}
		m, ok := o.(metav1.Object)
		if !ok {
			return fmt.Errorf("delete %T: not an object", o)
		}
		if handled, err := deleteGatewayAPI(ctx, c.fake.KubeClient().GatewayAPI(), o); handled {
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s: %w", objName(o), err)
			}
			continue
		}
		var err error
		opts := metav1.DeleteOptions{}
		switch o.(type) {
		case *corev1.Service:
			err = kc.CoreV1().Services(m.GetNamespace()).Delete(ctx, m.GetName(), opts)
		case *corev1.Pod:
			err = kc.CoreV1().Pods(m.GetNamespace()).Delete(ctx, m.GetName(), opts)
		case *discoveryv1.EndpointSlice:
			err = kc.DiscoveryV1().EndpointSlices(m.GetNamespace()).Delete(ctx, m.GetName(), opts)
		case *appsv1.Deployment:
			err = kc.AppsV1().Deployments(m.GetNamespace()).Delete(ctx, m.GetName(), opts)
		case *corev1.ServiceAccount:
			err = kc.CoreV1().ServiceAccounts(m.GetNamespace()).Delete(ctx, m.GetName(), opts)
		case *corev1.Namespace:
			err = kc.CoreV1().Namespaces().Delete(ctx, m.GetName(), opts)
		default:
			err = fmt.Errorf("unsupported Kubernetes object %T", o)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", objName(o), err)
		}
	}
	return nil
}

func objName(o runtime.Object) string {
	m, ok := o.(metav1.Object)
	if !ok {
		return fmt.Sprintf("%T", o)
	}
	return fmt.Sprintf("%T %s/%s", o, m.GetNamespace(), m.GetName())
}

func upsert[T metav1.Object](ctx context.Context, obj T,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
) error {
	_, err := create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = update(ctx, obj, metav1.UpdateOptions{})
	}
	return err
}

// ParseIstioConfigs reads Istio resources (YAML, several documents) with the
// cluster domain set, so short hosts resolve the way istiod resolves them.
func ParseIstioConfigs(yamlText, domain string) ([]config.Config, error) {
	cfgs, _, err := crd.ParseInputs(yamlText)
	if err != nil {
		return nil, fmt.Errorf("parse Istio configs: %w", err)
	}
	for i := range cfgs {
		cfgs[i].Domain = domain
		if cfgs[i].Namespace == "" {
			cfgs[i].Namespace = "default"
		}
	}
	return cfgs, nil
}

// ApplyConfigs creates or updates Istio configs in pilot's store; the
// store's handlers push the change to connected proxies.
func (c *ControlPlane) ApplyConfigs(cfgs ...config.Config) error {
	c.expectEvent()
	store := c.fake.Store()
	for _, cfg := range cfgs {
		if cfg.CreationTimestamp.IsZero() {
			cfg.CreationTimestamp = time.Now()
		}
		if existing := store.Get(cfg.GroupVersionKind, cfg.Name, cfg.Namespace); existing != nil {
			cfg.ResourceVersion = existing.ResourceVersion
			if _, err := store.Update(cfg); err != nil {
				return fmt.Errorf("update %s %s/%s: %w", cfg.GroupVersionKind.Kind, cfg.Namespace, cfg.Name, err)
			}
			continue
		}
		if _, err := store.Create(cfg); err != nil {
			return fmt.Errorf("create %s %s/%s: %w", cfg.GroupVersionKind.Kind, cfg.Namespace, cfg.Name, err)
		}
	}
	return nil
}

// DeleteConfig removes an Istio config (g is e.g. gvk.VirtualService).
func (c *ControlPlane) DeleteConfig(g config.GroupVersionKind, name, namespace string) error {
	c.expectEvent()
	if err := c.fake.Store().Delete(g, name, namespace, nil); err != nil {
		return fmt.Errorf("delete %s %s/%s: %w", g.Kind, namespace, name, err)
	}
	return nil
}

// nonceVersion is the push version a nonce was sent for: pilot's nonces
// are the version followed by a UUID.
func nonceVersion(n string) string {
	const uuidLen = 36
	if len(n) < uuidLen {
		return ""
	}
	return n[:len(n)-uuidLen]
}

// Sync returns the xDS state of every connected proxy.
func (c *ControlPlane) Sync() []pilotapi.ProxySync {
	current, committed := c.Version()
	out := []pilotapi.ProxySync{}
	for _, con := range c.fake.Discovery.SortedClients() {
		p := con.Proxy()
		if p == nil {
			continue
		}
		c.mu.Lock()
		considered := c.processed[p.ID]
		c.mu.Unlock()
		ps := pilotapi.ProxySync{ProxyID: p.ID, Version: considered, Types: map[string]pilotapi.TypeSync{}}
		ps.Services, ps.Gateways = targetsOf(p)
		// Current: pilot considered the proxy for its current push, or a
		// response of the current push went out (a proxy that connected
		// after the last push gets the current context with its first one).
		// Versions are compared only for equality: they do not sort.
		has := considered == current
		for url, wr := range p.DeepCloneWatchedResources() {
			ps.Types[url] = pilotapi.TypeSync{Sent: wr.NonceSent, Acked: wr.NonceAcked, LastError: wr.LastError}
			if v := nonceVersion(wr.NonceSent); v == current {
				has, ps.Version = true, v
			}
		}
		ps.Current = committed && has
		out = append(out, ps)
	}
	return out
}

// failer satisfies Istio's test.Failer outside a test: a failure during
// start panics with a failure value that StartControlPlane recovers.
type failer struct {
	mu       sync.Mutex
	cleanups []func()
}

type failure struct{ msg string }

func (f *failer) Fail()                     { f.Fatal("failed") }
func (f *failer) FailNow()                  { f.Fatal("failed") }
func (f *failer) Fatal(a ...any)            { f.fail(fmt.Sprint(a...)) }
func (f *failer) Fatalf(s string, a ...any) { f.fail(fmt.Sprintf(s, a...)) }
func (f *failer) fail(msg string)           { panic(failure{msg}) }
func (f *failer) Log(...any)                {}
func (f *failer) Logf(string, ...any)       {}
func (f *failer) Helper()                   {}
func (f *failer) Skip(a ...any)             { f.Fatal(append([]any{"skip: "}, a...)...) }
func (f *failer) Cleanup(fn func())         { f.mu.Lock(); f.cleanups = append(f.cleanups, fn); f.mu.Unlock() }
func (f *failer) TempDir() string           { d, _ := os.MkdirTemp("", "meshcheck-pilot"); return d }
func (f *failer) cleanup() {
	f.mu.Lock()
	cs := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
