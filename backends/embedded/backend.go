package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/apiserver"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/mesh"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotbuild"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/proxy"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures"
)

// ingressNamespace and the ingress gateway's names, as istioctl installs them.
const (
	ingressNamespace = istioinstall.Namespace
	ingressService   = "istio-ingressgateway"
	// ingressPort is the port the gateway's Envoy listens on: the Service
	// maps ingressServicePort to it, as an istioctl install does.
	ingressPort        = 8080
	ingressServicePort = 80
)

// MeshOptions configure the mesh under the backend: run id, work
// directory, Envoy binary, pod subnet, Istio version, timeouts.
type MeshOptions = mesh.Options

// PodInterception changes istio-iptables' configuration for the pods it
// selects (MeshOptions.Interception).
type PodInterception = mesh.PodInterception

// Changes are regressions (meshcheck mutate's) of what the embedded backend
// declares or installs itself, where no fixture file can express them.
type Changes struct {
	// Interception changes istio-iptables' configuration for the pods
	// each entry selects.
	Interception []PodInterception
	// IngressTargetPort, when not 0, is the targetPort of the gateway
	// Service's port 80 in place of the gateway's listener port 8080.
	IngressTargetPort int32
}

// IsZero reports whether c changes nothing.
func (c Changes) IsZero() bool { return len(c.Interception) == 0 && c.IngressTargetPort == 0 }

// SetChanges applies c from the next Up.
func (b *Backend) SetChanges(c Changes) {
	b.opts.Mesh.Interception, b.opts.IngressTargetPort = c.Interception, c.IngressTargetPort
}

// BackendOptions configure the embedded backend.
type BackendOptions struct {
	Mesh MeshOptions
	// Binary is the meshcheck binary the pods run their apps with
	// (meshcheck workload run); $MESHCHECK_BIN when empty.
	Binary string
	// Ingress is the ingress API the fixtures route through, handed to
	// them as their ingress variable: config.IngressIstio (Gateway and
	// VirtualService on istio-ingressgateway) or config.IngressGatewayAPI
	// (a Kubernetes Gateway of class istio, HTTPRoutes); "" leaves the
	// fixtures' default (istio).
	Ingress string
	// IngressTargetPort: see Changes.
	IngressTargetPort int32
}

// Backend is the embedded mesh behind the backend interface: fixtures are
// expanded as an API server and controllers would (backends/embedded/internal/apiserver), pods
// become network namespaces running the repository's sample apps, meshed
// ones behind real Envoy sidecars; the ingress gateway is an Envoy in router
// mode behind istio-ingressgateway (80 to 8080).
type Backend struct {
	opts    BackendOptions
	mesh    *mesh.Mesh
	cluster *apiserver.Cluster

	mu       sync.Mutex
	spaces   map[string]*podnet.NetNS // pod namespace/name -> its network namespace
	vms      map[string]*mesh.Pod
	injected map[string]bool // Kubernetes namespaces with injection on
	istio    string          // the control plane's release line (Versions)
}

var _ backend.Backend = (*Backend)(nil)

// NewBackend returns an embedded backend; Up starts it.
func NewBackend(opts BackendOptions) *Backend {
	if opts.Binary == "" {
		opts.Binary = os.Getenv("MESHCHECK_BIN")
	}
	return &Backend{opts: opts, spaces: map[string]*podnet.NetNS{}, vms: map[string]*mesh.Pod{}, injected: map[string]bool{}}
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "embedded" }

// RunID is the id the running mesh's names carry (see Leftovers); empty
// before Up.
func (b *Backend) RunID() string {
	if b.mesh == nil {
		return ""
	}
	return b.mesh.RunID()
}

// Up starts pilot, the pod network and the ingress gateway.
func (b *Backend) Up(ctx context.Context) error {
	if b.opts.Binary == "" {
		return errors.New("embedded backend: no meshcheck binary for the pods' apps: set BackendOptions.Binary or $MESHCHECK_BIN (make e2e-local does)")
	}
	if b.mesh != nil {
		return errors.New("embedded backend: Up twice")
	}
	istio, err := pilotbuild.Release(ctx, b.opts.Mesh.Pilot.Source)
	if err != nil {
		return fmt.Errorf("embedded backend: the control plane's release: %w", err)
	}
	b.istio = istio
	m, err := mesh.Start(ctx, b.opts.Mesh)
	if err != nil {
		return err
	}
	b.mesh = m
	b.cluster, err = apiserver.New(apiserver.Options{PodIP: b.podIP, NodeIP: m.Network().Gateway.String()})
	if err != nil {
		return err
	}
	one, target := int32(1), int32(ingressPort)
	if b.opts.IngressTargetPort != 0 {
		target = b.opts.IngressTargetPort
	}
	labels := map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"}
	objs := fixtures.Objects{
		Namespaces:      []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: ingressNamespace}}},
		ServiceAccounts: []*corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Name: "istio-ingressgateway-service-account", Namespace: ingressNamespace}}},
		Services: []*corev1.Service{{ObjectMeta: metav1.ObjectMeta{Name: ingressService, Namespace: ingressNamespace, Labels: labels},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{
				{Name: "http2", Port: ingressServicePort, TargetPort: intstr.FromInt32(target), Protocol: corev1.ProtocolTCP}}}}},
		Deployments: []*appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Name: ingressService, Namespace: ingressNamespace, Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{ServiceAccountName: "istio-ingressgateway-service-account",
						Containers: []corev1.Container{{Name: "istio-proxy", Image: "proxyv2", Ports: []corev1.ContainerPort{{ContainerPort: ingressPort}}}}}}}}},
	}
	return b.apply(ctx, objs, nil)
}

// podIP gives each new pod its network namespace (apiserver calls it once per
// pod) and returns the namespace's address.
func (b *Backend) podIP(pod *corev1.Pod) (netip.Addr, error) {
	ns, err := b.mesh.Network().AddNetNS(context.Background(), mesh.ShortName(pod.Name), "")
	if err != nil {
		return netip.Addr{}, err
	}
	b.mu.Lock()
	b.spaces[pod.Namespace+"/"+pod.Name] = ns
	b.mu.Unlock()
	return ns.IP, nil
}

// up is an error when the mesh is not up (Up failed or was not called),
// for the reads a failed setup's evidence still makes.
func (b *Backend) up() error {
	if b.mesh == nil {
		return errors.New("embedded backend: the mesh is not up")
	}
	return nil
}

// Down implements backend.Backend.
func (b *Backend) Down(ctx context.Context) error {
	if b.mesh == nil {
		return nil
	}
	err := b.mesh.Close(ctx)
	b.mesh = nil
	return err
}

// Apply implements backend.Backend.
func (b *Backend) Apply(ctx context.Context, set *fixtures.Set) error {
	if b.mesh == nil {
		return errors.New("embedded backend: Apply before Up")
	}
	var istioYAML bytes.Buffer
	for _, d := range set.Documents {
		if strings.Contains(d.APIVersion, "istio.io/") {
			istioYAML.Write(d.YAML)
			istioYAML.WriteString("\n---\n")
		}
	}
	return b.apply(ctx, set.Objects, &applyIstio{yaml: istioYAML.String(), domain: set.Domain})
}

type applyIstio struct{ yaml, domain string }

func (b *Backend) apply(ctx context.Context, objs fixtures.Objects, istioCfg *applyIstio) error {
	old := b.cluster.State()
	state, err := b.cluster.Apply(objs)
	if err != nil {
		return fmt.Errorf("expand objects: %w", err)
	}
	return b.publish(ctx, old, state, istioCfg)
}

// deleteObjects removes declared objects from the API-server model and
// publishes what that changes (a Gateway's deployment goes with it).
func (b *Backend) deleteObjects(ctx context.Context, objs fixtures.Objects) error {
	old := b.cluster.State()
	state, err := b.cluster.Delete(objs)
	if err != nil {
		return fmt.Errorf("delete objects: %w", err)
	}
	return b.publish(ctx, old, state, nil)
}

// publish takes the mesh from the object set old to state, as the API
// server and its controllers would show it to pilot and the kubelet:
// objects first, pods started or stopped, endpoints, deletions, then the
// Istio configs.
func (b *Backend) publish(ctx context.Context, old, state *apiserver.State, istioCfg *applyIstio) error {
	for _, ns := range state.Namespaces {
		b.mu.Lock()
		b.injected[ns.Name] = ns.Labels["istio-injection"] == "enabled"
		b.mu.Unlock()
	}
	changes := apiserver.Diff(old, state)
	cp := b.mesh.ControlPlane()
	// Namespaces, service accounts and services first, then pods, then
	// their endpoints, as controllers would publish them.
	var first, slices []runtime.Object
	var newPods, deletedPods []*corev1.Pod
	for _, o := range append(changes.Created, changes.Updated...) {
		switch t := o.(type) {
		case *corev1.Pod:
			newPods = append(newPods, t)
		case *discoveryv1.EndpointSlice:
			slices = append(slices, t)
		case *appsv1.Deployment:
		default:
			first = append(first, o)
		}
	}
	for _, o := range changes.Deleted {
		if p, ok := o.(*corev1.Pod); ok {
			deletedPods = append(deletedPods, p)
		}
	}
	if err := cp.ApplyKube(ctx, first...); err != nil {
		return err
	}
	b.writeHosts(state)
	for _, p := range deletedPods {
		if err := b.mesh.StopPod(ctx, p.Namespace, p.Name); err != nil {
			return err
		}
	}
	for _, p := range newPods {
		if _, running := b.mesh.Pod(p.Namespace, p.Name); running {
			if err := cp.ApplyKube(ctx, p); err != nil {
				return err
			}
			continue
		}
		if err := b.startPod(ctx, p); err != nil {
			return err
		}
	}
	if err := cp.ApplyKube(ctx, slices...); err != nil {
		return err
	}
	var gone []runtime.Object
	for _, o := range changes.Deleted {
		switch o.(type) {
		case *corev1.Pod, *appsv1.Deployment:
		default:
			gone = append(gone, o)
		}
	}
	if err := cp.DeleteKube(ctx, gone...); err != nil {
		return err
	}
	if istioCfg != nil && strings.TrimSpace(istioCfg.yaml) != "" {
		if err := cp.ApplyConfigs(ctx, istioCfg.yaml, istioCfg.domain); err != nil {
			return err
		}
	}
	return nil
}

// proxyFor decides a pod's proxy as injection would: gateways run Envoy in
// router mode; pods in a namespace with istio-injection=enabled get a
// sidecar unless sidecar.istio.io/inject is "false".
func (b *Backend) proxyFor(p *corev1.Pod) backend.ProxyKind {
	if p.Labels["istio"] == "ingressgateway" || apiserver.IsManagedGateway(p) {
		return backend.Gateway
	}
	inject := p.Labels["sidecar.istio.io/inject"]
	if inject == "" {
		inject = p.Annotations["sidecar.istio.io/inject"]
	}
	b.mu.Lock()
	on := b.injected[p.Namespace]
	b.mu.Unlock()
	if inject == "false" || (!on && inject != "true") {
		return ""
	}
	return backend.Sidecar
}

func (b *Backend) startPod(ctx context.Context, p *corev1.Pod) error {
	b.mu.Lock()
	ns := b.spaces[p.Namespace+"/"+p.Name]
	b.mu.Unlock()
	if ns == nil {
		return fmt.Errorf("pod %s/%s has no network namespace", p.Namespace, p.Name)
	}
	app, err := b.appCommand(p)
	if err != nil {
		return err
	}
	_, err = b.mesh.StartPod(ctx, ns, p, b.proxyFor(p), app)
	return err
}

// appCommand maps a pod's container image to the repository's app that
// behaves like it: Bookinfo's images to meshcheck workload run
// --app bookinfo-*, whoami to whoami; a curl client runs nothing.
func (b *Backend) appCommand(p *corev1.Pod) ([]string, error) {
	if len(p.Spec.Containers) == 0 {
		return nil, nil
	}
	c := p.Spec.Containers[0]
	image := path.Base(c.Image)
	if i := strings.IndexAny(image, ":@"); i >= 0 {
		image = image[:i]
	}
	port := int32(80)
	if len(c.Ports) > 0 {
		port = c.Ports[0].ContainerPort
	}
	base := []string{b.opts.Binary, "workload", "run", "--listen", "0.0.0.0:" + strconv.Itoa(int(port)), "--name", p.Name}
	switch {
	case strings.HasPrefix(image, "examples-bookinfo-"):
		parts := strings.Split(strings.TrimPrefix(image, "examples-bookinfo-"), "-")
		app := "bookinfo-" + parts[0]
		args := append(base, "--app", app)
		if parts[0] == "reviews" && len(parts) > 1 {
			args = append(args, "--version", parts[1])
		}
		return args, nil
	case image == "whoami":
		return append(base, "--app", "whoami"), nil
	case image == "curl" || image == "proxyv2":
		return nil, nil
	}
	return nil, fmt.Errorf("pod %s/%s: no app behaves like image %q in the embedded mesh", p.Namespace, p.Name, c.Image)
}

// writeHosts gives every namespace the services' names (short, with the
// namespace, and fully qualified) at their ClusterIPs.
func (b *Backend) writeHosts(state *apiserver.State) {
	var lines []string
	for _, s := range state.Services {
		if s.Spec.ClusterIP == "" || s.Spec.ClusterIP == "None" {
			continue
		}
		fq := s.Name + "." + s.Namespace + ".svc.cluster.local"
		lines = append(lines, fmt.Sprintf("%s %s.%s %s %s", s.Spec.ClusterIP, s.Name, s.Namespace, fq, s.Name))
	}
	sort.Strings(lines)
	hosts := strings.Join(lines, "\n") + "\n"
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, ns := range b.spaces {
		_ = ns.WriteHosts(key[strings.IndexByte(key, '/')+1:], hosts)
	}
}

// StartVM runs a VM outside the mesh: a network namespace with no sidecar
// and no interception, serving whoami on port 80 under the given name.
func (b *Backend) StartVM(ctx context.Context, namespace, name string) (backend.Workload, error) {
	ns, err := b.mesh.Network().AddNetNS(ctx, mesh.ShortName("vm-"+name), "")
	if err != nil {
		return backend.Workload{}, err
	}
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	app := []string{b.opts.Binary, "workload", "run", "--app", "whoami", "--listen", "0.0.0.0:80", "--name", name}
	p, err := b.mesh.StartPod(ctx, ns, obj, "", app)
	if err != nil {
		return backend.Workload{}, err
	}
	b.mu.Lock()
	b.vms[namespace+"/"+name] = p
	b.mu.Unlock()
	return backend.Workload{Namespace: namespace, Name: name, IP: ns.IP.String()}, nil
}

// WaitReady implements backend.Backend: every app listens and every proxy
// has ACKed pilot's current config.
func (b *Backend) WaitReady(ctx context.Context) error {
	if err := b.mesh.WaitApps(ctx); err != nil {
		return err
	}
	return b.mesh.WaitSynced(ctx)
}

// Delete implements backend.Backend: Istio configs and Gateway API routes
// and Gateways of the set are removed; other Kubernetes objects stay (the
// suites only step routing).
func (b *Backend) Delete(ctx context.Context, set *fixtures.Set) error {
	if len(set.Gateways)+len(set.HTTPRoutes) > 0 {
		gone := fixtures.Objects{Gateways: set.Gateways, HTTPRoutes: set.HTTPRoutes}
		if err := b.deleteObjects(ctx, gone); err != nil {
			return err
		}
	}
	for _, c := range set.Configs {
		g := c.GroupVersionKind()
		k := pilotapi.ConfigKey{Group: g.Group, Version: g.Version, Kind: g.Kind, Name: c.Name, Namespace: c.Namespace}
		if err := b.mesh.ControlPlane().DeleteConfig(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) workload(p *mesh.Pod) backend.Workload {
	w := backend.Workload{Namespace: p.Namespace, Name: p.Name, Labels: p.Object.Labels, Annotations: p.Object.Annotations, IP: p.NS.IP.String()}
	for _, c := range p.Object.Spec.Containers {
		for _, port := range c.Ports {
			w.Ports = append(w.Ports, int(port.ContainerPort))
		}
	}
	if p.Envoy != nil {
		w.Proxy = p.Envoy.Spec.Kind
	}
	return w
}

// Workloads implements backend.Backend.
func (b *Backend) Workloads(context.Context) ([]backend.Workload, error) {
	if err := b.up(); err != nil {
		return nil, err
	}
	var out []backend.Workload
	for _, p := range b.mesh.Pods() {
		out = append(out, b.workload(p))
	}
	return out, nil
}

// Proxies implements backend.Backend.
func (b *Backend) Proxies(context.Context) ([]backend.Proxy, error) {
	if err := b.up(); err != nil {
		return nil, err
	}
	var out []backend.Proxy
	for _, p := range b.mesh.Pods() {
		if p.Envoy != nil {
			out = append(out, backend.Proxy{Workload: b.workload(p)})
		}
	}
	return out, nil
}

func (b *Backend) pod(w backend.Workload) (*mesh.Pod, error) {
	p, ok := b.mesh.Pod(w.Namespace, w.Name)
	if !ok {
		return nil, fmt.Errorf("no workload %s", w)
	}
	return p, nil
}

func (b *Backend) envoyOf(p backend.Proxy) (*proxy.Envoy, error) {
	pod, err := b.pod(p.Workload)
	if err != nil {
		return nil, err
	}
	if pod.Envoy == nil {
		return nil, fmt.Errorf("workload %s has no proxy", p.Workload)
	}
	return pod.Envoy, nil
}

// ConfigDump implements backend.Backend.
func (b *Backend) ConfigDump(ctx context.Context, p backend.Proxy) ([]byte, error) {
	e, err := b.envoyOf(p)
	if err != nil {
		return nil, err
	}
	return e.ConfigDump(ctx)
}

// InterceptionRules implements backend.Backend: iptables-save in the pod.
func (b *Backend) InterceptionRules(ctx context.Context, w backend.Workload) ([]byte, error) {
	p, err := b.pod(w)
	if err != nil {
		return nil, err
	}
	out, err := p.NS.Run(ctx, "", "iptables-save")
	return []byte(out), err
}

// Mark implements backend.Backend.
func (b *Backend) Mark(context.Context) (backend.Mark, error) {
	if err := b.up(); err != nil {
		return backend.Mark{}, err
	}
	m := backend.Mark{At: time.Now(), Offsets: map[string]int64{}}
	for _, p := range b.mesh.Pods() {
		if p.Envoy == nil {
			continue
		}
		if fi, err := os.Stat(p.Envoy.Spec.AccessLog()); err == nil {
			m.Offsets[p.Key()] = fi.Size()
		}
	}
	return m, nil
}

// AccessLogs implements backend.Backend.
func (b *Backend) AccessLogs(_ context.Context, p backend.Proxy, since backend.Mark) ([]byte, error) {
	e, err := b.envoyOf(p)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(e.Spec.AccessLog())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(since.Offsets[p.Workload.String()], io.SeekStart); err != nil {
		return nil, err
	}
	logged, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	// Envoy may be half-way through writing a line: return whole lines only,
	// the rest is read next time.
	return logged[:bytes.LastIndexByte(logged, '\n')+1], nil
}

// ingressTargetPort is the targetPort of the gateway Service's port 80 as
// the cluster holds it (a number: the backend declares it so).
func (b *Backend) ingressTargetPort() (int, error) {
	if b.cluster == nil {
		return 0, errors.New("embedded backend: no cluster state (the mesh did not come up)")
	}
	for _, svc := range b.cluster.State().Services {
		if svc.Namespace != ingressNamespace || svc.Name != ingressService {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Port == ingressServicePort && p.TargetPort.Type == intstr.Int {
				return p.TargetPort.IntValue(), nil
			}
		}
		return 0, fmt.Errorf("the ingress Service %s/%s has no port %d with a numeric targetPort: %v", ingressNamespace, ingressService, ingressServicePort, svc.Spec.Ports)
	}
	return 0, fmt.Errorf("no ingress Service %s/%s", ingressNamespace, ingressService)
}

// InWorkload implements backend.Backend: connections open inside the
// workload's network namespace, so its interception rules and sidecar apply.
func (b *Backend) InWorkload(_ context.Context, w backend.Workload, addr string) (traffic.Transport, error) {
	p, err := b.pod(w)
	if err != nil {
		return nil, err
	}
	return &traffic.HTTPTransport{Address: addr, Dial: p.NS}, nil
}

// ServiceAddress implements backend.Backend: a Service's ClusterIP, or for a
// ServiceEntry host without one an address in Istio's auto-allocation range
// (the sidecar's wildcard listener on the port routes it by Host).
func (b *Backend) ServiceAddress(_ context.Context, namespace, name string, port int) (string, error) {
	if s := b.cluster.State().Service(namespace, name); s != nil && s.Spec.ClusterIP != "" {
		return net.JoinHostPort(s.Spec.ClusterIP, strconv.Itoa(port)), nil
	}
	return net.JoinHostPort("240.240.0.1", strconv.Itoa(port)), nil
}

// Sync implements backend.Backend: pilot's view of every proxy, named by
// its pod (namespace/name).
func (b *Backend) Sync(ctx context.Context) ([]backend.ProxySync, error) {
	if err := b.up(); err != nil {
		return nil, err
	}
	byID := map[string]string{}
	for _, p := range b.mesh.Pods() {
		if p.Envoy != nil {
			byID[p.Envoy.Spec.ProxyID()] = p.Key()
		}
	}
	out, err := b.mesh.ControlPlane().Sync(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if key := byID[out[i].Proxy]; key != "" {
			out[i].Proxy = key
		}
	}
	return out, nil
}
