package apiserver

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshcheck/meshcheck/fixtures"
)

// What istiod's gateway deployment controller writes for a Gateway of its
// class (the pinned Istio's pilot/pkg/config/kube/gatewaycommon
// deploymentcontroller.go and its template manifests/charts/istio-control/
// istio-discovery/files/kube-gateway.yaml): the label names and values.
const (
	// LabelGatewayName selects the gateway's pods; istiod's Service
	// selects on it.
	LabelGatewayName = "gateway.networking.k8s.io/gateway-name"
	// LabelGatewayClassName names the Gateway's class.
	LabelGatewayClassName = "gateway.networking.k8s.io/gateway-class-name"
	// LabelGatewayManaged marks what the controller manages;
	// GatewayManagedValue is the istio class's controller.
	LabelGatewayManaged = "gateway.istio.io/managed"
	GatewayManagedValue = "istio.io-gateway-controller"
)

// IsManagedGateway says whether a pod is a gateway istiod deployed for a
// Gateway (it runs Envoy as a router, no sidecar).
func IsManagedGateway(p *corev1.Pod) bool {
	return p.Labels[LabelGatewayManaged] == GatewayManagedValue
}

// withGatewayInfra returns in with what the deployment controller creates
// for each Gateway of class istio (fixtures.GatewayClassIstio): a
// ServiceAccount, a Deployment and a Service named
// fixtures.GatewayDeploymentName. They replace declared objects of the same
// name, as istiod's server-side apply would.
func withGatewayInfra(in *inputs) (*inputs, error) {
	if len(in.gateways) == 0 {
		return in, nil
	}
	out := in.clone()
	for _, k := range sortedKeys(in.gateways, key.String) {
		gw := in.gateways[k]
		if string(gw.Spec.GatewayClassName) != fixtures.GatewayClassIstio {
			continue
		}
		sa, d, svc, err := gatewayInfra(gw)
		if err != nil {
			return nil, err
		}
		out.serviceAccounts[keyOf(sa)] = sa
		out.deployments[keyOf(d)] = d
		out.services[keyOf(svc)] = svc
	}
	return out, nil
}

// gatewayInfra is the ServiceAccount, Deployment and Service of one
// Gateway, labelled and named as kube-gateway.yaml renders them.
func gatewayInfra(gw *gatewayv1.Gateway) (*corev1.ServiceAccount, *appsv1.Deployment, *corev1.Service, error) {
	name := fixtures.GatewayDeploymentName(gw)
	class := string(gw.Spec.GatewayClassName)
	labels := func(extra ...string) map[string]string {
		m := map[string]string{}
		for k, v := range gw.Labels {
			m[k] = v
		}
		m[LabelGatewayName], m[LabelGatewayClassName] = gw.Name, class
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	meta := func(l map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: gw.Namespace, Labels: l,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway", Name: gw.Name, UID: uid("Gateway", gw.Namespace, gw.Name)}}}
	}
	podLabels := labels("sidecar.istio.io/inject", "false", "service.istio.io/canonical-name", name,
		"service.istio.io/canonical-revision", "latest", LabelGatewayManaged, GatewayManagedValue)
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: meta(labels(LabelGatewayManaged, GatewayManagedValue)),
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelGatewayName: gw.Name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: map[string]string{"istio.io/rev": "default"}},
				Spec: corev1.PodSpec{ServiceAccountName: name,
					// The template lets the proxy (UID 1337) bind the
					// listeners' ports below 1024.
					SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}},
					Containers: []corev1.Container{{Name: "istio-proxy", Image: "proxyv2",
						Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 15020}, {Name: "status-port", ContainerPort: 15021}, {Name: "http-envoy-prom", ContainerPort: 15090}}}}}}}}
	ports, err := gatewayServicePorts(gw)
	if err != nil {
		return nil, nil, nil, err
	}
	svc := &corev1.Service{ObjectMeta: meta(labels()),
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: ports, Selector: map[string]string{LabelGatewayName: gw.Name}}}
	return &corev1.ServiceAccount{ObjectMeta: meta(labels())}, d, svc, nil
}

// gatewayServicePorts are the Service's ports: status-port 15021, then one
// per listener port (the first listener on a port names it), appProtocol
// the listener's protocol, as extractServicePorts writes them.
func gatewayServicePorts(gw *gatewayv1.Gateway) ([]corev1.ServicePort, error) {
	app := func(s string) *string { s = strings.ToLower(s); return &s }
	out := []corev1.ServicePort{{Name: "status-port", Port: 15021, Protocol: corev1.ProtocolTCP, AppProtocol: app("tcp"), TargetPort: intstr.FromInt32(15021)}}
	seen := map[int32]bool{}
	for i, l := range gw.Spec.Listeners {
		if l.Port <= 0 {
			return nil, fmt.Errorf("apiserver: Gateway %s/%s: listeners[%d] (%s): port %d: %w", gw.Namespace, gw.Name, i, l.Name, l.Port, ErrInvalid)
		}
		if seen[int32(l.Port)] {
			continue
		}
		seen[int32(l.Port)] = true
		name := strings.ReplaceAll(string(l.Name), ".", "-")
		out = append(out, corev1.ServicePort{Name: name, Port: int32(l.Port), Protocol: corev1.ProtocolTCP, AppProtocol: app(string(l.Protocol)), TargetPort: intstr.FromInt32(int32(l.Port))})
	}
	return out, nil
}

// gatewayAPIObjects lists the declared Gateways and HTTPRoutes, sorted by
// namespace and name, as the API server holds them (no status: istiod's
// status writer is not run).
func gatewayAPIObjects(in *inputs) ([]*gatewayv1.Gateway, []*gatewayv1.HTTPRoute) {
	var gws []*gatewayv1.Gateway
	for _, k := range sortedKeys(in.gateways, key.String) {
		g := in.gateways[k].DeepCopy()
		stored(&g.TypeMeta, &g.ObjectMeta, "Gateway", k)
		gws = append(gws, g)
	}
	var routes []*gatewayv1.HTTPRoute
	for _, k := range sortedKeys(in.httpRoutes, key.String) {
		r := in.httpRoutes[k].DeepCopy()
		stored(&r.TypeMeta, &r.ObjectMeta, "HTTPRoute", k)
		routes = append(routes, r)
	}
	return gws, routes
}

// ListenerFor is the port of the HTTP listener of gw that takes host and
// how well: 3 its exact hostname, 2 a wildcard hostname, 1 no hostname, 0
// none.
func ListenerFor(gw *gatewayv1.Gateway, host string) (port, score int) {
	for _, l := range gw.Spec.Listeners {
		if l.Protocol != gatewayv1.HTTPProtocolType {
			continue
		}
		s := 1
		if l.Hostname != nil {
			h := string(*l.Hostname)
			switch {
			case strings.EqualFold(h, host):
				s = 3
			case strings.HasPrefix(h, "*.") && strings.HasSuffix(strings.ToLower(host), strings.ToLower(h[1:])):
				s = 2
			default:
				s = 0
			}
		}
		if s > score {
			port, score = int(l.Port), s
		}
	}
	return port, score
}

// stored gives a Gateway API object what an API server gives it when it
// stores it: its type, a UID, and generation 1.
func stored(tm *metav1.TypeMeta, om *metav1.ObjectMeta, kind string, k key) {
	*tm = metav1.TypeMeta{APIVersion: "gateway.networking.k8s.io/v1", Kind: kind}
	om.UID = uid(kind, k.namespace, k.name)
	if om.Generation == 0 {
		om.Generation = 1
	}
}
