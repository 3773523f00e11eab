package apiserver

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshcheck/meshcheck/fixtures"
)

func service(ns, name string, selector map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{Selector: selector, Ports: ports}}
}

func deployment(ns, name string, replicas *int32, labels map[string]string, ports ...corev1.ContainerPort) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1", Ports: ports}}},
			},
		},
	}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestDefaultService(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ports   []corev1.ServicePort
		want    []corev1.ServicePort // after defaulting
		wantErr string
	}{
		{name: "targetPort from port, protocol TCP",
			ports: []corev1.ServicePort{{Name: "http", Port: 9080}},
			want:  []corev1.ServicePort{{Name: "http", Port: 9080, Protocol: "TCP", TargetPort: intstr.FromInt32(9080)}}},
		{name: "numeric targetPort kept",
			ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: "UDP"}},
			want:  []corev1.ServicePort{{Name: "http", Port: 80, Protocol: "UDP", TargetPort: intstr.FromInt32(8080)}}},
		{name: "named targetPort kept",
			ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("http")}},
			want:  []corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: intstr.FromString("http")}}},
		{name: "empty named targetPort is the port",
			ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("")}},
			want:  []corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(80)}}},
		{name: "several ports need names", ports: []corev1.ServicePort{{Name: "a", Port: 80}, {Port: 81}}, wantErr: "spec.ports[1].name: invalid object: required"},
		{name: "names unique", ports: []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "a", Port: 81}}, wantErr: `spec.ports[1].name: invalid object: "a" is used twice`},
		{name: "ports unique", ports: []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 80}}, wantErr: "spec.ports[1].port: invalid object: 80/TCP is used twice"},
		{name: "port range", ports: []corev1.ServicePort{{Port: 70000}}, wantErr: "spec.ports[0].port"},
		{name: "targetPort range", ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(-1)}}, wantErr: "spec.ports[0].targetPort"},
		{name: "targetPort name", ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("not_a_name")}}, wantErr: "spec.ports[0].targetPort"},
		{name: "no ports", wantErr: "spec.ports: invalid object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := service("ns", "s", nil, tc.ports...)
			err := DefaultService(svc)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "Service ns/s") {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(svc.Spec.Ports, tc.want) {
				t.Errorf("ports %+v, want %+v", svc.Spec.Ports, tc.want)
			}
			if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.SessionAffinity != corev1.ServiceAffinityNone {
				t.Errorf("type %q affinity %q", svc.Spec.Type, svc.Spec.SessionAffinity)
			}
		})
	}
}

// bag puts objects in the fixtures' object bag, as a fixture declares them.
func bag(t *testing.T, objs ...runtime.Object) fixtures.Objects {
	t.Helper()
	var b fixtures.Objects
	for _, o := range objs {
		if err := b.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func mustCluster(t *testing.T, opts Options, objs ...runtime.Object) (*Cluster, *State) {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Apply(bag(t, objs...))
	if err != nil {
		t.Fatal(err)
	}
	return c, st
}

func TestClusterIPs(t *testing.T) {
	var objs []runtime.Object
	for i := range 250 {
		objs = append(objs, service("ns", fmt.Sprintf("s%d", i), nil, corev1.ServicePort{Port: 80}))
	}
	objs = append(objs, namespace("ns", nil))
	_, st := mustCluster(t, Options{ServiceCIDR: "10.0.0.0/24"}, objs...)
	prefix := netip.MustParsePrefix("10.0.0.0/24")
	seen := map[string]string{}
	for _, s := range st.Services {
		ip := netip.MustParseAddr(s.Spec.ClusterIP)
		if !prefix.Contains(ip) || ip.As4()[3] < 2 || ip.As4()[3] == 255 {
			t.Errorf("%s: ClusterIP %s outside the usable part of %s", s.Name, ip, prefix)
		}
		if other, dup := seen[s.Spec.ClusterIP]; dup {
			t.Errorf("%s and %s share %s", s.Name, other, ip)
		}
		seen[s.Spec.ClusterIP] = s.Name
		if !reflect.DeepEqual(s.Spec.ClusterIPs, []string{s.Spec.ClusterIP}) || s.Spec.IPFamilies[0] != corev1.IPv4Protocol {
			t.Errorf("%s: clusterIPs %v families %v", s.Name, s.Spec.ClusterIPs, s.Spec.IPFamilies)
		}
	}
	// The same objects in reverse order give the same addresses.
	rev := make([]runtime.Object, len(objs))
	for i, o := range objs {
		rev[len(objs)-1-i] = o
	}
	_, st2 := mustCluster(t, Options{ServiceCIDR: "10.0.0.0/24"}, rev...)
	for i := range st.Services {
		if st.Services[i].Spec.ClusterIP != st2.Services[i].Spec.ClusterIP {
			t.Fatalf("%s: %s, then %s in another order", st.Services[i].Name, st.Services[i].Spec.ClusterIP, st2.Services[i].Spec.ClusterIP)
		}
	}
	// 253 usable addresses: three more services exhaust them, and nothing changes.
	c, _ := mustCluster(t, Options{ServiceCIDR: "10.0.0.0/24"}, objs...)
	before := c.State()
	var more []runtime.Object
	for i := range 4 {
		more = append(more, service("ns", fmt.Sprintf("x%d", i), nil, corev1.ServicePort{Port: 80}))
	}
	if _, err := c.Apply(bag(t, more...)); !errors.Is(err, ErrExhausted) {
		t.Errorf("error %v, want %v", err, ErrExhausted)
	}
	if !Diff(before, c.State()).Empty() {
		t.Error("a failed Apply changed the state")
	}
}

func TestClusterIPKeptAndExplicit(t *testing.T) {
	c, st := mustCluster(t, Options{}, service("default", "a", nil, corev1.ServicePort{Port: 80}), service("default", "b", nil, corev1.ServicePort{Port: 80}))
	a := st.Service("default", "a").Spec.ClusterIP
	if !netip.MustParsePrefix(DefaultServiceCIDR).Contains(netip.MustParseAddr(a)) {
		t.Errorf("ClusterIP %s outside %s", a, DefaultServiceCIDR)
	}
	st, err := c.Apply(bag(t, service("default", "a", nil, corev1.ServicePort{Port: 81})))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Service("default", "a").Spec.ClusterIP; got != a {
		t.Errorf("an update moved the ClusterIP from %s to %s", a, got)
	}
	if _, err := c.Delete(bag(t, service("default", "b", nil))); err != nil {
		t.Fatal(err)
	}
	if got := c.State().Service("default", "a").Spec.ClusterIP; got != a {
		t.Errorf("deleting b moved a's ClusterIP from %s to %s", a, got)
	}
	explicit := service("default", "c", nil, corev1.ServicePort{Port: 80})
	explicit.Spec.ClusterIP = a
	if _, err := c.Apply(bag(t, explicit)); !errors.Is(err, ErrIPConflict) || !strings.Contains(err.Error(), "default/a") {
		t.Errorf("taking a's ClusterIP: %v", err)
	}
	explicit.Spec.ClusterIP = "10.96.7.7"
	if st, err := c.Apply(bag(t, explicit)); err != nil || st.Service("default", "c").Spec.ClusterIP != "10.96.7.7" {
		t.Errorf("explicit ClusterIP: %v", err)
	}
	explicit.Spec.ClusterIP = "10.96.7.8"
	if _, err := c.Apply(bag(t, explicit)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("changing a ClusterIP: %v", err)
	}
	explicit.Spec.ClusterIP = "192.168.0.1"
	if _, err := c.Apply(bag(t, service("default", "d", nil, corev1.ServicePort{Port: 80}), explicitWith("e", "192.168.0.1"))); !errors.Is(err, ErrIPConflict) {
		t.Errorf("ClusterIP outside the range: %v", err)
	}
	headless := service("default", "h", map[string]string{"app": "x"}, corev1.ServicePort{Port: 80})
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	if st, err := c.Apply(bag(t, headless)); err != nil || st.Service("default", "h").Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("headless: %v", err)
	}
}

func explicitWith(name, ip string) *corev1.Service {
	s := service("default", name, nil, corev1.ServicePort{Port: 80})
	s.Spec.ClusterIP = ip
	return s
}

var podName = regexp.MustCompile(`^(.+)-([bcdfghjklmnpqrstvwxz2456789]{10})-([bcdfghjklmnpqrstvwxz2456789]{5})$`)

func TestExpandDeployment(t *testing.T) {
	three := int32(3)
	labels := map[string]string{"app": "reviews", "version": "v2"}
	d := deployment("default", "reviews-v2", &three, labels, corev1.ContainerPort{ContainerPort: 9080})
	d.Spec.Template.Spec.ServiceAccountName = "bookinfo-reviews"
	if err := DefaultDeployment(d); err != nil {
		t.Fatal(err)
	}
	pods := ExpandDeployment(d, namespace("default", map[string]string{LabelInjection: "enabled"}), "node")
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	names := map[string]bool{}
	for _, p := range pods {
		m := podName.FindStringSubmatch(p.Name)
		if m == nil || m[1] != "reviews-v2" || m[2] != p.Labels[LabelPodTemplateHash] {
			t.Errorf("pod name %q, hash label %q", p.Name, p.Labels[LabelPodTemplateHash])
		}
		names[p.Name] = true
		if p.Labels["app"] != "reviews" || p.Labels["version"] != "v2" || p.Spec.ServiceAccountName != "bookinfo-reviews" || p.Spec.NodeName != "node" {
			t.Errorf("pod %s: labels %v sa %q node %q", p.Name, p.Labels, p.Spec.ServiceAccountName, p.Spec.NodeName)
		}
		if p.Status.Phase != corev1.PodRunning || !PodReady(p) || p.Spec.Containers[0].Ports[0].Protocol != corev1.ProtocolTCP {
			t.Errorf("pod %s: phase %s ready %v ports %+v", p.Name, p.Status.Phase, PodReady(p), p.Spec.Containers[0].Ports)
		}
		if !IsMeshed(p) || p.Labels[LabelTLSMode] != "istio" || p.Labels[LabelCanonicalName] != "reviews" || p.Labels[LabelCanonicalRevision] != "v2" {
			t.Errorf("pod %s: injection labels %v", p.Name, p.Labels)
		}
		if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "ReplicaSet" || p.OwnerReferences[0].Name != "reviews-v2-"+p.Labels[LabelPodTemplateHash] {
			t.Errorf("pod %s: owners %+v", p.Name, p.OwnerReferences)
		}
	}
	if len(names) != 3 {
		t.Errorf("pod names not unique: %v", names)
	}
	again := ExpandDeployment(d, namespace("default", map[string]string{LabelInjection: "enabled"}), "node")
	if again[0].Name != pods[0].Name {
		t.Errorf("names differ between calls: %s, %s", pods[0].Name, again[0].Name)
	}
	d2 := d.DeepCopy()
	d2.Spec.Template.Spec.Containers[0].Image = "app:2"
	if ExpandDeployment(d2, nil, "node")[0].Labels[LabelPodTemplateHash] == pods[0].Labels[LabelPodTemplateHash] {
		t.Error("a new template kept the pod-template-hash")
	}
	if p := ExpandDeployment(d, nil, "node")[0]; IsMeshed(p) || p.Labels[LabelTLSMode] != "" {
		t.Errorf("pod injected without an injection label: %v", p.Labels)
	}
	one := deployment("default", "x", nil, map[string]string{"app": "x"})
	if err := DefaultDeployment(one); err != nil || *one.Spec.Replicas != 1 || len(ExpandDeployment(one, nil, "")) != 1 {
		t.Errorf("replicas default: %v", err)
	}
	bad := deployment("default", "x", nil, map[string]string{"app": "x"})
	bad.Spec.Template.Labels = map[string]string{"app": "y"}
	if err := DefaultDeployment(bad); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "spec.template.metadata.labels") {
		t.Errorf("selector not matching the template: %v", err)
	}
}

func TestInjected(t *testing.T) {
	on := map[string]string{LabelInjection: "enabled"}
	for _, tc := range []struct {
		name             string
		ns, labels, anns map[string]string
		want             bool
	}{
		{"namespace enabled", on, nil, nil, true},
		{"revision label", map[string]string{LabelRevision: "canary"}, nil, nil, true},
		{"no label", nil, nil, nil, false},
		{"pod opts out by label", on, map[string]string{InjectLabel: "false"}, nil, false},
		{"pod opts out by annotation", on, nil, map[string]string{InjectLabel: "false"}, false},
		{"namespace disabled beats the pod", map[string]string{LabelInjection: "disabled"}, map[string]string{InjectLabel: "true"}, nil, false},
		{"pod opts in", nil, map[string]string{InjectLabel: "true"}, nil, true},
	} {
		if got := Injected(tc.ns, tc.labels, tc.anns); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEndpointSlices(t *testing.T) {
	// v1 names its port http on 8080, v2 on 9090, v3 has no port named http.
	withPort := func(name, version string, port corev1.ContainerPort) *appsv1.Deployment {
		return deployment("ns", name, nil, map[string]string{"app": "web", "version": version}, port)
	}
	svc := service("ns", "web", map[string]string{"app": "web"},
		corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
		corev1.ServicePort{Name: "admin", Port: 81, TargetPort: intstr.FromInt32(7000)})
	_, st := mustCluster(t, Options{}, namespace("ns", nil), svc,
		withPort("web-v1", "v1", corev1.ContainerPort{Name: "http", ContainerPort: 8080}),
		withPort("web-v2", "v2", corev1.ContainerPort{Name: "http", ContainerPort: 9090}),
		withPort("web-v3", "v3", corev1.ContainerPort{Name: "grpc", ContainerPort: 8080}),
		deployment("ns", "other", nil, map[string]string{"app": "other"}),
		service("ns", "none", map[string]string{"app": "nothing"}, corev1.ServicePort{Port: 80}),
		service("ns", "manual", nil, corev1.ServicePort{Port: 80}),
	)
	slices := st.EndpointSlicesOf("ns", "web")
	got := map[string]string{} // pod deployment -> ports
	for _, s := range slices {
		if s.Labels[LabelServiceName] != "web" || s.Labels[LabelManagedBy] != ManagedBy || s.AddressType != "IPv4" || s.OwnerReferences[0].Name != "web" {
			t.Errorf("slice %s: labels %v type %s owners %v", s.Name, s.Labels, s.AddressType, s.OwnerReferences)
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", *p.Name, *p.Port))
		}
		for _, e := range s.Endpoints {
			pod := st.Pod("ns", e.TargetRef.Name)
			if pod == nil || e.TargetRef.Kind != "Pod" || e.TargetRef.UID != pod.UID || e.Addresses[0] != pod.Status.PodIP || !*e.Conditions.Ready {
				t.Errorf("endpoint %+v does not match its pod %v", e, pod)
				continue
			}
			got[pod.Labels["version"]] = strings.Join(ports, ",")
		}
	}
	want := map[string]string{"v1": "http=8080,admin=7000", "v2": "http=9090,admin=7000", "v3": "admin=7000"}
	if !reflect.DeepEqual(got, want) || len(slices) != 3 {
		t.Errorf("%d slices, ports per pod %v, want 3 and %v", len(slices), got, want)
	}
	if s := st.EndpointSlicesOf("ns", "none"); len(s) != 1 || len(s[0].Endpoints) != 0 {
		t.Errorf("a service selecting nothing: %d slices", len(s))
	}
	if s := st.EndpointSlicesOf("ns", "manual"); len(s) != 0 {
		t.Errorf("a service without selector got %d slices", len(s))
	}
}

func TestUpdatesAndDiff(t *testing.T) {
	var calls []string
	next := netip.MustParseAddr("10.1.0.10")
	opts := Options{PodIP: func(p *corev1.Pod) (netip.Addr, error) {
		calls = append(calls, p.Name)
		a := next
		next = next.Next()
		return a, nil
	}}
	ns := namespace("w", map[string]string{LabelInjection: "enabled"})
	svc := service("w", "whoami", map[string]string{"app": "whoami"}, corev1.ServicePort{Name: "http", Port: 80})
	v1 := deployment("w", "whoami-v1", nil, map[string]string{"app": "whoami", "version": "v1"}, corev1.ContainerPort{ContainerPort: 80})
	c, st0 := mustCluster(t, opts, ns, svc, v1)
	if ch := Diff(nil, st0); len(ch.Created) != len(st0.All()) || len(ch.Updated)+len(ch.Deleted) != 0 {
		t.Errorf("diff from nothing: %v", ch)
	}
	if len(calls) != 1 || st0.Pods[0].Status.PodIP != "10.1.0.10" {
		t.Fatalf("PodIP calls %v, pod IP %s", calls, st0.Pods[0].Status.PodIP)
	}
	two := int32(2)
	v1.Spec.Replicas = &two
	st1, err := c.Apply(bag(t, v1))
	if err != nil {
		t.Fatal(err)
	}
	ch := Diff(st0, st1)
	if got, want := Refs(ch.Created), []string{"Pod w/" + st1.Pods[0].Name, "Pod w/" + st1.Pods[1].Name}; len(ch.Created) != 1 || !contains(want, got[0]) {
		t.Errorf("scaling up created %v", got)
	}
	if got := Refs(ch.Updated); !reflect.DeepEqual(got, []string{"Deployment w/whoami-v1", "EndpointSlice w/" + st1.EndpointSlices[0].Name}) {
		t.Errorf("scaling up updated %v", got)
	}
	if len(calls) != 2 || st1.PodsOf("w", "whoami-v1")[0].Status.PodIP == st1.PodsOf("w", "whoami-v1")[1].Status.PodIP {
		t.Errorf("PodIP calls %v", calls)
	}
	// A Service change updates the Service and its slice, not the pods.
	svc.Spec.Ports[0].TargetPort = intstr.FromInt32(8080)
	st2, err := c.Apply(bag(t, svc))
	if err != nil {
		t.Fatal(err)
	}
	if got := Refs(Diff(st1, st2).Updated); !reflect.DeepEqual(got, []string{"EndpointSlice w/" + st1.EndpointSlices[0].Name, "Service w/whoami"}) {
		t.Errorf("a Service change updated %v", got)
	}
	if p := *st2.EndpointSlices[0].Ports[0].Port; p != 8080 {
		t.Errorf("slice port %d, want 8080", p)
	}
	// Deleting the Deployment deletes its pods and empties the slice.
	st3, err := c.Delete(bag(t, v1))
	if err != nil {
		t.Fatal(err)
	}
	ch = Diff(st2, st3)
	if len(ch.Deleted) != 3 || len(st3.EndpointSlices[0].Endpoints) != 0 {
		t.Errorf("deleting the Deployment: %v; endpoints left %d", ch, len(st3.EndpointSlices[0].Endpoints))
	}
	// Deleting the namespace deletes everything in it.
	st4, err := c.Delete(bag(t, ns))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range st4.All() {
		if o.GetNamespace() == "w" || o.GetName() == "w" {
			t.Errorf("%s survived its namespace", RefOf(o))
		}
	}
	if !Diff(st4, c.State()).Empty() {
		t.Error("State differs from what Delete returned")
	}
}

func TestApplyErrors(t *testing.T) {
	c, _ := mustCluster(t, Options{})
	before := c.State()
	if _, err := c.Apply(bag(t, service("missing", "s", nil, corev1.ServicePort{Port: 80}))); !errors.Is(err, ErrNamespaceNotFound) {
		t.Errorf("service in a missing namespace: %v", err)
	}
	var objs fixtures.Objects
	if err := objs.Add(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}}); !errors.Is(err, fixtures.ErrUnsupported) {
		t.Errorf("a ConfigMap: %v", err)
	}
	// One bad object fails the whole Apply and changes nothing.
	if _, err := c.Apply(bag(t, service("default", "good", nil, corev1.ServicePort{Port: 80}), service("default", "bad", nil))); !errors.Is(err, ErrInvalid) {
		t.Errorf("a Service without ports: %v", err)
	}
	if !Diff(before, c.State()).Empty() {
		t.Error("a failed Apply changed the state")
	}
	dup := Options{PodIP: func(*corev1.Pod) (netip.Addr, error) { return netip.MustParseAddr("10.1.0.1"), nil }}
	c2, _ := mustCluster(t, dup)
	two := int32(2)
	if _, err := c2.Apply(bag(t, deployment("default", "d", &two, map[string]string{"app": "d"}))); !errors.Is(err, ErrIPConflict) {
		t.Errorf("two pods given one IP: %v", err)
	}
	failing := Options{PodIP: func(p *corev1.Pod) (netip.Addr, error) { return netip.Addr{}, errors.New("no netns") }}
	c3, _ := mustCluster(t, failing)
	if _, err := c3.Apply(bag(t, deployment("default", "d", nil, map[string]string{"app": "d"}))); err == nil || !strings.Contains(err.Error(), "no netns") {
		t.Errorf("PodIP error: %v", err)
	}
	for _, o := range []Options{{ServiceCIDR: "bogus"}, {PodCIDR: "10.0.0.0/33"}, {ServiceCIDR: "10.0.0.0/31"}, {ServiceCIDR: "10.0.0.0/8", PodCIDR: "10.1.0.0/16"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
