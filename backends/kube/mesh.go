package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// Mesh is what the backend knows of the Istio it runs against: what it
// installed, or what Detect found.
type Mesh struct {
	// Namespace is istiod's namespace; Revision its istio.io/rev label
	// ("" or "default" for the default revision).
	Namespace, Revision string
	// Version is istiod's version (X.Y.Z), from its /version endpoint or
	// the release installed; Build is the full build string when it was
	// read.
	Version, Build string
	// Ingress is the ingress gateway.
	Ingress Ingress
	// AccessLog is the mesh config's access log settings.
	AccessLog AccessLog
	// DNSCapture is the sidecars' DNS proxy (ISTIO_META_DNS_CAPTURE in the
	// mesh config's proxyMetadata).
	DNSCapture bool
	// InterceptionMode is REDIRECT or TPROXY.
	InterceptionMode string
	// NativeSidecars: istio-proxy runs as a Kubernetes native sidecar
	// (ENABLE_NATIVE_SIDECARS on istiod); "" when istiod does not say.
	NativeSidecars string
	// CNI: Istio's CNI plugin sets up interception (istio-validation
	// instead of istio-init).
	CNI bool
	// InjectionLabel is the namespace label the sidecar injector selects
	// (istio-injection=enabled, or istio.io/rev=<revision>).
	InjectionLabel string
}

// AccessLog is the mesh config's access logging.
type AccessLog struct {
	// File is meshConfig.accessLogFile ("" is off).
	File string
	// Encoding is TEXT or JSON; Format the custom format, if any.
	Encoding, Format string
}

// Ingress is the ingress gateway's Service as the host reaches it.
type Ingress struct {
	// Namespace and Service name the Service; Selector its pods' labels.
	Namespace, Service string
	Selector           map[string]string
	// Type is the Service's type; Port its HTTP port (the one named http2
	// or http, else 80), TargetPort the gateway's listener port behind it
	// and NodePort that port's NodePort.
	Type                       corev1.ServiceType
	Port, TargetPort, NodePort int
	// LoadBalancer is the Service's first LoadBalancer IP or hostname.
	LoadBalancer string
}

func (m Mesh) String() string {
	rev := m.Revision
	if rev == "" {
		rev = "default"
	}
	return fmt.Sprintf("Istio %s (istiod in %s, revision %s, build %q); ingress %s/%s (%s, port %d -> %d, NodePort %d); access log %q %s; DNS capture %t; interception %s; native sidecars %s; CNI %t; injection label %s",
		m.Version, m.Namespace, rev, m.Build, m.Ingress.Namespace, m.Ingress.Service, m.Ingress.Type, m.Ingress.Port, m.Ingress.TargetPort, m.Ingress.NodePort,
		m.AccessLog.File, m.AccessLog.Encoding, m.DNSCapture, m.InterceptionMode, orUnset(m.NativeSidecars), m.CNI, m.InjectionLabel)
}

func orUnset(s string) string {
	if s == "" {
		return "(istiod's default)"
	}
	return s
}

// installedMesh is the mesh istioctl installs with opts.
func installedMesh(opts istioinstall.Options) Mesh {
	enc := string(opts.AccessLogEncoding)
	if enc == "" {
		enc = string(istioinstall.AccessLogJSON)
	}
	nodePort := opts.IngressNodePort
	if nodePort == 0 {
		nodePort = istioinstall.DefaultIngressNodePort
	}
	return Mesh{
		Namespace: istioinstall.Namespace, Version: opts.Version,
		Ingress: Ingress{Namespace: istioinstall.Namespace, Service: "istio-ingressgateway", Selector: map[string]string{"istio": "ingressgateway"},
			Type: corev1.ServiceTypeNodePort, Port: 80, TargetPort: 8080, NodePort: nodePort},
		AccessLog:        AccessLog{File: "/dev/stdout", Encoding: enc},
		DNSCapture:       opts.DNSCapture,
		InterceptionMode: "REDIRECT",
		InjectionLabel:   "istio-injection=enabled",
	}
}

// istiodPods are the namespace and label selector of istiod's pods.
func (m Mesh) istiodPods() (namespace, selector string) {
	sel := "app=istiod"
	if m.Revision != "" && m.Revision != "default" {
		sel += ",istio.io/rev=" + m.Revision
	}
	return m.Namespace, sel
}

// isGateway tells whether p is one of the ingress gateway's pods.
func (g Ingress) isGateway(p *corev1.Pod) bool {
	if p.Namespace != g.Namespace || len(g.Selector) == 0 {
		return false
	}
	return labels.SelectorFromSet(g.Selector).Matches(labels.Set(p.Labels))
}

// IngressAddress is host:port of the ingress gateway's HTTP port from its
// Service: the LoadBalancer's address and the Service port, or a node's
// address (ExternalIP, else InternalIP) and the NodePort. A ClusterIP
// Service is refused: the host cannot reach it (give --ingress-address).
func (b *Backend) IngressAddress(ctx context.Context) (string, error) {
	g := b.mesh.Ingress
	switch {
	case g.LoadBalancer != "":
		return net.JoinHostPort(g.LoadBalancer, strconv.Itoa(g.Port)), nil
	case g.NodePort != 0:
		nodes, err := b.kube.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("kube: the ingress gateway is NodePort %d and the nodes' addresses cannot be read (or give --ingress-address): %w", g.NodePort, err)
		}
		ip := nodeAddress(nodes.Items)
		if ip == "" {
			return "", fmt.Errorf("kube: the ingress gateway is NodePort %d and no node has an ExternalIP or InternalIP (give --ingress-address)", g.NodePort)
		}
		return net.JoinHostPort(ip, strconv.Itoa(g.NodePort)), nil
	}
	return "", fmt.Errorf("kube: the ingress gateway Service %s/%s is %s with no LoadBalancer address and no NodePort for port %d: the host cannot reach it; give --ingress-address host:port", g.Namespace, g.Service, g.Type, g.Port)
}

// nodeAddress is the first node's ExternalIP, else the first InternalIP.
func nodeAddress(nodes []corev1.Node) string {
	for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, n := range nodes {
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return a.Address
				}
			}
		}
	}
	return ""
}

// ingressFromService reads the gateway's HTTP port from its Service.
func ingressFromService(svc *corev1.Service) (Ingress, error) {
	g := Ingress{Namespace: svc.Namespace, Service: svc.Name, Selector: svc.Spec.Selector, Type: svc.Spec.Type}
	var port *corev1.ServicePort
	for _, name := range []string{"http2", "http"} {
		for i := range svc.Spec.Ports {
			if svc.Spec.Ports[i].Name == name && port == nil {
				port = &svc.Spec.Ports[i]
			}
		}
	}
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == 80 && port == nil {
			port = &svc.Spec.Ports[i]
		}
	}
	if port == nil {
		return g, fmt.Errorf("the ingress gateway Service %s/%s has no HTTP port (named http2 or http, or port 80): have %s", svc.Namespace, svc.Name, portNames(svc.Spec.Ports))
	}
	g.Port, g.TargetPort, g.NodePort = int(port.Port), port.TargetPort.IntValue(), int(port.NodePort)
	if g.TargetPort == 0 {
		g.TargetPort = g.Port
	}
	if len(g.Selector) == 0 {
		return g, errors.New("the ingress gateway Service " + svc.Namespace + "/" + svc.Name + " has no selector")
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			g.LoadBalancer = in.IP
			break
		}
		if in.Hostname != "" {
			g.LoadBalancer = in.Hostname
			break
		}
	}
	return g, nil
}

func portNames(ps []corev1.ServicePort) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s:%d", p.Name, p.Port)
	}
	return strings.Join(out, ", ")
}
