package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/apiserver"
	"github.com/meshcheck/meshcheck/engines/traffic"
)

// Ingress implements backend.Backend: the host reaches the gateways' pods
// over the bridge. A request goes to the Gateway API Gateway (the pod
// istiod would deploy for it) whose HTTP listener takes its Host (an
// exact hostname before a wildcard before a listener without one); when no
// Gateway takes it, to istio-ingressgateway on 8080. Two Gateways that take
// a Host equally are an error, never a guess.
func (b *Backend) Ingress(context.Context) (traffic.Transport, error) {
	if b.mesh == nil {
		return nil, errors.New("embedded backend: Ingress before Up")
	}
	return &ingress{b: b, conns: map[string]*traffic.HTTPTransport{}}, nil
}

// ingress is the host's way into the mesh, chosen per request by Host.
type ingress struct {
	b     *Backend
	mu    sync.Mutex
	conns map[string]*traffic.HTTPTransport // by address
}

func (i *ingress) String() string {
	return "the embedded mesh's ingress (a Gateway by Host, else istio-ingressgateway)"
}

// RoundTrip implements traffic.Transport.
func (i *ingress) RoundTrip(ctx context.Context, req traffic.Request, requestID string) (traffic.Response, error) {
	addr, via, err := i.b.ingressAddress(req.Host)
	if err != nil {
		return traffic.Response{}, err
	}
	i.mu.Lock()
	t := i.conns[addr]
	if t == nil {
		t = &traffic.HTTPTransport{Address: addr, Via: via}
		i.conns[addr] = t
	}
	i.mu.Unlock()
	return t.RoundTrip(ctx, req, requestID)
}

// ingressAddress is where a request for host enters: a Gateway's pod and
// listener port, or the Istio ingress gateway's pod on the targetPort of
// its Service's port 80, translated as kube-proxy would (via names that
// translation).
func (b *Backend) ingressAddress(host string) (addr, via string, err error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	state := b.cluster.State()
	best, bestScore, tie := "", 0, ""
	for _, p := range b.mesh.Pods() {
		if p.Envoy == nil || !apiserver.IsManagedGateway(p.Object) {
			continue
		}
		gw := gatewayOf(state.Gateways, p.Object)
		if gw == nil {
			continue
		}
		port, score := apiserver.ListenerFor(gw, host)
		addr := net.JoinHostPort(p.NS.IP.String(), strconv.Itoa(port))
		switch {
		case score > bestScore:
			best, bestScore, tie = addr, score, ""
		case score == bestScore && score > 0 && addr != best:
			tie = fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name)
		}
	}
	if tie != "" {
		return "", "", fmt.Errorf("embedded backend: ingress for host %q: two Gateways take it equally (%s and the one at %s)", host, tie, best)
	}
	if best != "" {
		return best, "", nil
	}
	target, err := b.ingressTargetPort()
	if err != nil {
		return "", "", err
	}
	for _, p := range b.mesh.Pods() {
		if p.Envoy != nil && p.Envoy.Spec.Kind == backend.Gateway && p.Object.Labels["istio"] == "ingressgateway" {
			return net.JoinHostPort(p.NS.IP.String(), strconv.Itoa(target)),
				fmt.Sprintf("the ingress Service %s/%s port %d, targetPort %d", ingressNamespace, ingressService, ingressServicePort, target), nil
		}
	}
	return "", "", fmt.Errorf("embedded backend: no ingress gateway running for host %q", host)
}

// gatewayOf is the Gateway a managed gateway pod serves (its
// gateway-name label, in its namespace).
func gatewayOf(gws []*gatewayv1.Gateway, p *corev1.Pod) *gatewayv1.Gateway {
	for _, g := range gws {
		if g.Namespace == p.Namespace && g.Name == p.Labels[apiserver.LabelGatewayName] {
			return g
		}
	}
	return nil
}
