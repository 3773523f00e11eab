package apiserver

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshcheck/meshcheck/fixtures"
)

// Defaults of Options.
const (
	DefaultServiceCIDR = "10.96.0.0/16"
	DefaultPodCIDR     = "10.244.0.0/16"
	DefaultNodeName    = "meshcheck"
)

// Errors a Cluster wraps.
var (
	ErrNamespaceNotFound = errors.New("namespace not found")
	ErrIPConflict        = errors.New("IP address conflict")
)

// Options configure a Cluster. The zero value is usable.
type Options struct {
	// ServiceCIDR is the range ClusterIPs come from; DefaultServiceCIDR when
	// empty.
	ServiceCIDR string
	// PodCIDR is the range pod IPs come from when PodIP is nil;
	// DefaultPodCIDR when empty.
	PodCIDR string
	// PodIP, when set, gives each new pod its IP (a backend that creates the
	// pod's network namespace, say). It is called once per pod, which keeps
	// the IP while it exists; a pod whose template changes is a new pod. It
	// may be called for a pod that a failing Apply then discards.
	PodIP func(pod *corev1.Pod) (netip.Addr, error)
	// NodeName is every pod's spec.nodeName; DefaultNodeName when empty.
	NodeName string
	// NodeIP, when set, is every pod's status.hostIP.
	NodeIP string
}

// Object is what a State holds: any Kubernetes object.
type Object interface {
	metav1.Object
	runtime.Object
}

// State is the full object set an API server would hold, each list sorted by
// namespace and name: the declared objects (defaulted) and what controllers
// derive from them.
type State struct {
	fixtures.Objects
	Pods           []*corev1.Pod
	EndpointSlices []*discoveryv1.EndpointSlice
}

// All returns every object in creation order: namespaces, service
// accounts, services, deployments, pods, endpoint slices.
func (s *State) All() []Object {
	var out []Object
	for _, o := range s.KubeObjects() {
		out = append(out, o.(Object))
	}
	for _, o := range s.Pods {
		out = append(out, o)
	}
	for _, o := range s.EndpointSlices {
		out = append(out, o)
	}
	return out
}

// Pod returns the pod of that namespace and name, or nil.
func (s *State) Pod(namespace, name string) *corev1.Pod {
	for _, p := range s.Pods {
		if p.Namespace == namespace && p.Name == name {
			return p
		}
	}
	return nil
}

// Service returns the service of that namespace and name, or nil.
func (s *State) Service(namespace, name string) *corev1.Service {
	for _, o := range s.Services {
		if o.Namespace == namespace && o.Name == name {
			return o
		}
	}
	return nil
}

// PodsOf returns the pods a Deployment owns.
func (s *State) PodsOf(namespace, deployment string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range s.Pods {
		if p.Namespace != namespace {
			continue
		}
		for _, o := range p.OwnerReferences {
			if o.Kind == "ReplicaSet" && o.Name == deployment+"-"+p.Labels[LabelPodTemplateHash] {
				out = append(out, p)
			}
		}
	}
	return out
}

// EndpointSlicesOf returns a Service's EndpointSlices.
func (s *State) EndpointSlicesOf(namespace, service string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, e := range s.EndpointSlices {
		if e.Namespace == namespace && e.Labels[LabelServiceName] == service {
			out = append(out, e)
		}
	}
	return out
}

// DeepCopy copies every object.
func (s *State) DeepCopy() *State {
	c := &State{Objects: s.Objects.DeepCopy()}
	for _, o := range s.Pods {
		c.Pods = append(c.Pods, o.DeepCopy())
	}
	for _, o := range s.EndpointSlices {
		c.EndpointSlices = append(c.EndpointSlices, o.DeepCopy())
	}
	return c
}

type key struct{ namespace, name string }

func (k key) String() string { return k.namespace + "/" + k.name }

// inputs are the declared objects.
type inputs struct {
	namespaces      map[string]*corev1.Namespace
	serviceAccounts map[key]*corev1.ServiceAccount
	services        map[key]*corev1.Service
	deployments     map[key]*appsv1.Deployment
	gateways        map[key]*gatewayv1.Gateway
	httpRoutes      map[key]*gatewayv1.HTTPRoute
}

func (in *inputs) clone() *inputs {
	c := &inputs{
		namespaces:      make(map[string]*corev1.Namespace, len(in.namespaces)),
		serviceAccounts: make(map[key]*corev1.ServiceAccount, len(in.serviceAccounts)),
		services:        make(map[key]*corev1.Service, len(in.services)),
		deployments:     make(map[key]*appsv1.Deployment, len(in.deployments)),
		gateways:        make(map[key]*gatewayv1.Gateway, len(in.gateways)),
		httpRoutes:      make(map[key]*gatewayv1.HTTPRoute, len(in.httpRoutes)),
	}
	for k, v := range in.gateways {
		c.gateways[k] = v
	}
	for k, v := range in.httpRoutes {
		c.httpRoutes[k] = v
	}
	for k, v := range in.namespaces {
		c.namespaces[k] = v
	}
	for k, v := range in.serviceAccounts {
		c.serviceAccounts[k] = v
	}
	for k, v := range in.services {
		c.services[k] = v
	}
	for k, v := range in.deployments {
		c.deployments[k] = v
	}
	return c
}

// Cluster holds declared objects and derives what an API server and its
// controllers would hold. It is safe for concurrent use.
type Cluster struct {
	mu       sync.Mutex
	opts     Options
	in       *inputs
	svcIPs   *allocator
	podIPs   *allocator // nil when Options.PodIP is set
	svcAlloc map[key]netip.Addr
	podAlloc map[key]netip.Addr
	state    *State
}

// New returns a Cluster holding the namespace default, as every cluster does.
func New(opts Options) (*Cluster, error) {
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = DefaultServiceCIDR
	}
	if opts.PodCIDR == "" {
		opts.PodCIDR = DefaultPodCIDR
	}
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	sp, err := netip.ParsePrefix(opts.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("apiserver: service CIDR: %w", err)
	}
	svcIPs, err := newAllocator(sp)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, svcIPs: svcIPs, svcAlloc: map[key]netip.Addr{}, podAlloc: map[key]netip.Addr{}}
	if opts.PodIP == nil {
		pp, err := netip.ParsePrefix(opts.PodCIDR)
		if err != nil {
			return nil, fmt.Errorf("apiserver: pod CIDR: %w", err)
		}
		if c.podIPs, err = newAllocator(pp); err != nil {
			return nil, err
		}
		if sp.Overlaps(pp) {
			return nil, fmt.Errorf("apiserver: service CIDR %s overlaps pod CIDR %s", sp, pp)
		}
	}
	c.in = &inputs{
		namespaces:      map[string]*corev1.Namespace{"default": {ObjectMeta: metav1.ObjectMeta{Name: "default"}}},
		serviceAccounts: map[key]*corev1.ServiceAccount{},
		services:        map[key]*corev1.Service{},
		deployments:     map[key]*appsv1.Deployment{},
		gateways:        map[key]*gatewayv1.Gateway{},
		httpRoutes:      map[key]*gatewayv1.HTTPRoute{},
	}
	if _, err := c.commit(c.in); err != nil {
		return nil, err
	}
	return c, nil
}

// State returns a copy of the current object set.
func (c *Cluster) State() *State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.DeepCopy()
}

// Apply creates or replaces declared objects (namespaces first) and
// returns the new object set. On error nothing changes.
func (c *Cluster) Apply(objs fixtures.Objects) (*State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.in.clone()
	for _, ns := range objs.Namespaces {
		in.namespaces[ns.Name] = ns.DeepCopy()
	}
	for _, o := range objs.KubeObjects()[len(objs.Namespaces):] {
		m := o.(metav1.Object)
		k := key{m.GetNamespace(), m.GetName()}
		if _, ok := in.namespaces[k.namespace]; !ok {
			return nil, fmt.Errorf("apiserver: %T %s: %w (apply the Namespace first)", o, k, ErrNamespaceNotFound)
		}
	}
	for _, o := range objs.ServiceAccounts {
		in.serviceAccounts[keyOf(o)] = o.DeepCopy()
	}
	for _, o := range objs.Services {
		in.services[keyOf(o)] = o.DeepCopy()
	}
	for _, o := range objs.Deployments {
		in.deployments[keyOf(o)] = o.DeepCopy()
	}
	for _, o := range objs.Gateways {
		in.gateways[keyOf(o)] = o.DeepCopy()
	}
	for _, o := range objs.HTTPRoutes {
		in.httpRoutes[keyOf(o)] = o.DeepCopy()
	}
	return c.commit(in)
}

func keyOf(o metav1.Object) key { return key{o.GetNamespace(), o.GetName()} }

// Delete removes declared objects, matched by type, namespace and name; a
// Namespace takes everything in it. Deleting what does not exist is not an
// error.
func (c *Cluster) Delete(objs fixtures.Objects) (*State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.in.clone()
	for _, ns := range objs.Namespaces {
		delete(in.namespaces, ns.Name)
		deleteIn(in.serviceAccounts, ns.Name)
		deleteIn(in.services, ns.Name)
		deleteIn(in.deployments, ns.Name)
		deleteIn(in.gateways, ns.Name)
		deleteIn(in.httpRoutes, ns.Name)
	}
	for _, o := range objs.ServiceAccounts {
		delete(in.serviceAccounts, keyOf(o))
	}
	for _, o := range objs.Services {
		delete(in.services, keyOf(o))
	}
	for _, o := range objs.Deployments {
		delete(in.deployments, keyOf(o))
	}
	for _, o := range objs.Gateways {
		delete(in.gateways, keyOf(o))
	}
	for _, o := range objs.HTTPRoutes {
		delete(in.httpRoutes, keyOf(o))
	}
	return c.commit(in)
}

// deleteIn removes everything of one namespace from m.
func deleteIn[T any](m map[key]T, namespace string) {
	for k := range m {
		if k.namespace == namespace {
			delete(m, k)
		}
	}
}

// commit derives the object set from in and, on success, makes it current.
func (c *Cluster) commit(in *inputs) (*State, error) {
	derived, err := withGatewayInfra(in)
	if err != nil {
		return nil, err
	}
	st := &State{Objects: fixtures.Objects{Namespaces: namespaceObjects(derived), ServiceAccounts: serviceAccountObjects(derived)}}
	st.Gateways, st.HTTPRoutes = gatewayAPIObjects(in)
	svcIPs, svcAlloc, err := c.serviceObjects(derived, st)
	if err != nil {
		return nil, err
	}
	if err := c.deploymentObjects(derived, st); err != nil {
		return nil, err
	}
	pods, err := c.podAddresses(st.Pods)
	if err != nil {
		return nil, err
	}
	for _, p := range st.Pods {
		setPodIP(p, pods.alloc[key{p.Namespace, p.Name}].String(), c.opts.NodeIP)
	}
	if err := endpointSliceObjects(st, pods.owners); err != nil {
		return nil, err
	}
	c.in, c.svcAlloc, c.podAlloc, c.state = in, svcAlloc, pods.alloc, st
	if pods.ips != nil {
		c.podIPs = pods.ips
	}
	c.svcIPs = svcIPs
	return st.DeepCopy(), nil
}

// namespaceObjects derives the Namespaces, sorted by name, with what the API
// server and the namespace controller set.
func namespaceObjects(in *inputs) []*corev1.Namespace {
	var out []*corev1.Namespace
	for _, name := range sortedKeys(in.namespaces, func(s string) string { return s }) {
		ns := in.namespaces[name].DeepCopy()
		ns.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
		ns.UID = uid("Namespace", "", name)
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = name
		if len(ns.Spec.Finalizers) == 0 {
			ns.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
		}
		ns.Status.Phase = corev1.NamespaceActive
		out = append(out, ns)
	}
	return out
}

// serviceAccountObjects derives the ServiceAccounts: the declared ones and
// each namespace's default one, as the controller makes it.
func serviceAccountObjects(in *inputs) []*corev1.ServiceAccount {
	sas := map[key]*corev1.ServiceAccount{}
	for k, v := range in.serviceAccounts {
		sas[k] = v
	}
	for name := range in.namespaces {
		k := key{name, "default"}
		if _, ok := sas[k]; !ok {
			sas[k] = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: name}}
		}
	}
	var out []*corev1.ServiceAccount
	for _, k := range sortedKeys(sas, key.String) {
		sa := sas[k].DeepCopy()
		sa.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}
		sa.UID = uid("ServiceAccount", k.namespace, k.name)
		out = append(out, sa)
	}
	return out
}

// serviceObjects derives the Services into st, their ClusterIPs kept across
// updates, and returns the new allocator and allocation.
func (c *Cluster) serviceObjects(in *inputs, st *State) (*allocator, map[key]netip.Addr, error) {
	svcIPs := c.svcIPs.clone()
	svcIPs.used = map[netip.Addr]string{}
	svcAlloc := map[key]netip.Addr{}
	var pending []*corev1.Service
	for _, k := range sortedKeys(in.services, key.String) {
		svc := in.services[k].DeepCopy()
		svc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
		svc.UID = uid("Service", k.namespace, k.name)
		if err := DefaultService(svc); err != nil {
			return nil, nil, err
		}
		st.Services = append(st.Services, svc)
		wait, err := c.reserveClusterIP(k, svc, svcIPs, svcAlloc)
		if err != nil {
			return nil, nil, err
		}
		if wait {
			pending = append(pending, svc)
		}
	}
	for _, svc := range pending {
		k := key{svc.Namespace, svc.Name}
		addr, err := svcIPs.allocate(k.String())
		if err != nil {
			return nil, nil, &FieldError{Kind: "Service", Namespace: k.namespace, Name: k.name, Field: "spec.clusterIP", Err: err}
		}
		svcAlloc[k] = addr
	}
	for _, svc := range st.Services {
		if addr, ok := svcAlloc[key{svc.Namespace, svc.Name}]; ok {
			setClusterIP(svc, addr)
		}
	}
	return svcIPs, svcAlloc, nil
}

// reserveClusterIP reserves svc's declared ClusterIP, or the one it had
// before, in svcIPs and records it in svcAlloc; it reports true when svc
// needs a new address (allocated once every reservation is made).
func (c *Cluster) reserveClusterIP(k key, svc *corev1.Service, svcIPs *allocator, svcAlloc map[key]netip.Addr) (bool, error) {
	conflict := func(err error) error {
		return &FieldError{Kind: "Service", Namespace: k.namespace, Name: k.name, Field: "spec.clusterIP", Err: fmt.Errorf("%w: %w", ErrIPConflict, err)}
	}
	ip := svc.Spec.ClusterIP
	switch {
	case ip == corev1.ClusterIPNone:
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	case ip != "":
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return false, invalid("Service", svc, "spec.clusterIP", "%q is not an IP address", ip)
		}
		if prev, ok := c.svcAlloc[k]; ok && prev != addr {
			return false, invalid("Service", svc, "spec.clusterIP", "is immutable: %s, was %s", addr, prev)
		}
		if err := svcIPs.reserve(addr, k.String()); err != nil {
			return false, conflict(err)
		}
		svcAlloc[k] = addr
	default:
		prev, ok := c.svcAlloc[k]
		if !ok {
			return true, nil
		}
		if err := svcIPs.reserve(prev, k.String()); err != nil {
			return false, conflict(err)
		}
		svcAlloc[k] = prev
	}
	return false, nil
}

// setClusterIP writes addr as svc's single-stack ClusterIP.
func setClusterIP(svc *corev1.Service, addr netip.Addr) {
	svc.Spec.ClusterIP = addr.String()
	svc.Spec.ClusterIPs = []string{addr.String()}
	family := corev1.IPv4Protocol
	if addr.Is6() {
		family = corev1.IPv6Protocol
	}
	svc.Spec.IPFamilies = []corev1.IPFamily{family}
	svc.Spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
}

// deploymentObjects derives the Deployments, with the status a settled
// rollout reports, and their pods (sorted by namespace and name) into st.
func (c *Cluster) deploymentObjects(in *inputs, st *State) error {
	nsByName := map[string]*corev1.Namespace{}
	for _, ns := range st.Namespaces {
		nsByName[ns.Name] = ns
	}
	for _, k := range sortedKeys(in.deployments, key.String) {
		d := in.deployments[k].DeepCopy()
		d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
		d.UID = uid("Deployment", k.namespace, k.name)
		if err := DefaultDeployment(d); err != nil {
			return err
		}
		if d.Generation == 0 {
			d.Generation = 1
		}
		pods := ExpandDeployment(d, nsByName[k.namespace], c.opts.NodeName)
		n := int32(len(pods))
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		}
		st.Deployments = append(st.Deployments, d)
		st.Pods = append(st.Pods, pods...)
	}
	sort.Slice(st.Pods, func(i, j int) bool {
		a, b := st.Pods[i], st.Pods[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	return nil
}

// podAddrs is the outcome of assigning pod IPs: the new allocator (nil when
// Options.PodIP assigns them), each pod's address and each address's pod.
type podAddrs struct {
	ips    *allocator
	alloc  map[key]netip.Addr
	owners map[netip.Addr]key
}

// podAddresses assigns pods their IPs: a pod that existed before keeps its
// address; a new one gets one from Options.PodIP or the allocator.
func (c *Cluster) podAddresses(pods []*corev1.Pod) (*podAddrs, error) {
	pa := &podAddrs{alloc: map[key]netip.Addr{}, owners: map[netip.Addr]key{}}
	if c.podIPs != nil {
		pa.ips = c.podIPs.clone()
		pa.ips.used = map[netip.Addr]string{}
	}
	var newPods []*corev1.Pod
	for _, p := range pods {
		k := key{p.Namespace, p.Name}
		prev, ok := c.podAlloc[k]
		if !ok {
			newPods = append(newPods, p)
			continue
		}
		pa.alloc[k] = prev
		pa.owners[prev] = k
		if pa.ips != nil {
			if err := pa.ips.reserve(prev, k.String()); err != nil {
				return nil, fmt.Errorf("apiserver: pod %s: %w: %w", k, ErrIPConflict, err)
			}
		}
	}
	for _, p := range newPods {
		k := key{p.Namespace, p.Name}
		addr, err := c.newPodIP(p, pa.ips)
		if err != nil {
			return nil, fmt.Errorf("apiserver: pod %s: IP: %w", k, err)
		}
		if other, taken := pa.owners[addr]; taken {
			return nil, fmt.Errorf("apiserver: pod %s: %w: %s already belongs to pod %s", k, ErrIPConflict, addr, other)
		}
		pa.owners[addr] = k
		pa.alloc[k] = addr
	}
	return pa, nil
}

// newPodIP gives a new pod its address, from Options.PodIP when set, else
// from ips.
func (c *Cluster) newPodIP(p *corev1.Pod, ips *allocator) (netip.Addr, error) {
	if c.opts.PodIP == nil {
		return ips.allocate(key{p.Namespace, p.Name}.String())
	}
	addr, err := c.opts.PodIP(p.DeepCopy())
	if err == nil && !addr.IsValid() {
		err = errors.New("the PodIP function returned no address")
	}
	return addr, err
}

// endpointSliceObjects derives each Service's EndpointSlices into st, after
// checking that no pod holds a Service's ClusterIP.
func endpointSliceObjects(st *State, owners map[netip.Addr]key) error {
	for _, svc := range st.Services {
		if addr, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			if k, taken := owners[addr]; taken {
				return fmt.Errorf("apiserver: pod %s: %w: %s is the ClusterIP of Service %s/%s", k, ErrIPConflict, addr, svc.Namespace, svc.Name)
			}
		}
		st.EndpointSlices = append(st.EndpointSlices, EndpointSlices(svc, st.Pods)...)
	}
	return nil
}

func sortedKeys[K comparable, V any](m map[K]V, str func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return str(keys[i]) < str(keys[j]) })
	return keys
}
