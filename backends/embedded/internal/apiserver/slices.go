package apiserver

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels the EndpointSlice controller sets.
const (
	LabelServiceName = discoveryv1.LabelServiceName
	LabelManagedBy   = discoveryv1.LabelManagedBy
	ManagedBy        = "endpointslice-controller.k8s.io"
)

// SelectPods returns the pods of the Service's namespace its selector
// matches; none for a Service without a selector.
func SelectPods(svc *corev1.Service, pods []*corev1.Pod) []*corev1.Pod {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Namespace == svc.Namespace && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// ResolvePort finds the pod port a Service port targets: a number as is, a
// name through the pod's container ports of the same protocol.
func ResolvePort(pod *corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	if sp.TargetPort.Type == intstr.Int {
		if sp.TargetPort.IntVal == 0 {
			return sp.Port, true
		}
		return sp.TargetPort.IntVal, true
	}
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			cpProto := cp.Protocol
			if cpProto == "" {
				cpProto = corev1.ProtocolTCP
			}
			if cp.Name == sp.TargetPort.StrVal && cpProto == proto {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// EndpointSlices returns the EndpointSlices the EndpointSlice controller
// would write for a Service over the given pods: the pods its selector
// matches that have an IP, grouped by their resolved ports (a named
// targetPort can resolve differently per pod, and a pod without the name
// lacks that port), one slice per group and address family; a Service that
// selects nothing gets one empty slice. nil for a Service without a selector.
func EndpointSlices(svc *corev1.Service, pods []*corev1.Pod) []*discoveryv1.EndpointSlice {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	type group struct {
		ports     []discoveryv1.EndpointPort
		family    discoveryv1.AddressType
		endpoints []discoveryv1.Endpoint
	}
	groups := map[string]*group{}
	for _, pod := range SelectPods(svc, pods) {
		addr, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil {
			continue // no IP yet
		}
		family := discoveryv1.AddressTypeIPv4
		if addr.Is6() {
			family = discoveryv1.AddressTypeIPv6
		}
		var ports []discoveryv1.EndpointPort
		var sig []string
		for _, sp := range svc.Spec.Ports {
			n, ok := ResolvePort(pod, sp)
			if !ok {
				continue
			}
			proto := sp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr(sp.Name), Port: ptr(n), Protocol: ptr(proto), AppProtocol: sp.AppProtocol})
			sig = append(sig, fmt.Sprintf("%s=%d/%s", sp.Name, n, proto))
		}
		key := string(family) + " " + strings.Join(sig, ",")
		g, ok := groups[key]
		if !ok {
			g = &group{ports: ports, family: family}
			groups[key] = g
		}
		ready := PodReady(pod)
		g.endpoints = append(g.endpoints, discoveryv1.Endpoint{
			Addresses:  []string{addr.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready), Serving: ptr(ready), Terminating: ptr(false)},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
			NodeName:   nonEmpty(pod.Spec.NodeName),
		})
	}
	if len(groups) == 0 {
		groups[""] = &group{family: discoveryv1.AddressTypeIPv4}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*discoveryv1.EndpointSlice, 0, len(keys))
	for i, k := range keys {
		g := groups[k]
		sort.Slice(g.endpoints, func(i, j int) bool { return g.endpoints[i].TargetRef.Name < g.endpoints[j].TargetRef.Name })
		// Named by position, so the usual single slice keeps its name when
		// ports or endpoints change.
		name := svc.Name + "-" + hashString(fmt.Sprintf("%s/%s/%d", svc.Namespace, svc.Name, i), 5)
		lbls := map[string]string{}
		for k, v := range svc.Labels {
			lbls[k] = v
		}
		lbls[LabelServiceName] = svc.Name
		lbls[LabelManagedBy] = ManagedBy
		out = append(out, &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: svc.Namespace, UID: uid("EndpointSlice", svc.Namespace, name), Labels: lbls,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
					Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			},
			AddressType: g.family,
			Ports:       g.ports,
			Endpoints:   g.endpoints,
		})
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
