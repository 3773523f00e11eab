package apiserver

import (
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func gateway(ns, name, class string, ports ...gatewayv1.PortNumber) *gatewayv1.Gateway {
	g := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class)}}
	for _, p := range ports {
		g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "http", Port: p, Protocol: gatewayv1.HTTPProtocolType})
	}
	return g
}

// A Gateway of class istio gets what istiod's deployment controller
// creates: <name>-istio ServiceAccount, Deployment (its pod labelled as
// kube-gateway.yaml labels it) and Service (status-port and the listener's
// port), and an EndpointSlice with the pod on the listener's port; a
// Gateway of another class gets nothing; deleting the Gateway takes them.
func TestGatewayDeployment(t *testing.T) {
	for _, tc := range []struct {
		name      string
		gw        *gatewayv1.Gateway
		deployed  string // "" when nothing is
		slicePort int32
	}{
		{"istio class", gateway("default", "bookinfo-gateway", "istio", 80), "bookinfo-gateway-istio", 80},
		{"name override", func() *gatewayv1.Gateway {
			g := gateway("default", "gw", "istio", 8080)
			g.Annotations = map[string]string{"gateway.istio.io/name-override": "edge"}
			return g
		}(), "edge", 8080},
		{"another class", gateway("default", "other", "nginx", 80), "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, st := mustCluster(t, Options{}, tc.gw)
			if len(st.Gateways) != 1 || st.Gateways[0].Kind != "Gateway" {
				t.Fatalf("gateways %v", st.Gateways)
			}
			pods := st.PodsOf("default", tc.deployed)
			if tc.deployed == "" {
				if len(st.Deployments) != 0 {
					t.Fatalf("deployed %v for class %s", st.Deployments[0].Name, tc.gw.Spec.GatewayClassName)
				}
				return
			}
			if len(pods) != 1 {
				t.Fatalf("%d pods of %s, want 1 (deployments %v)", len(pods), tc.deployed, st.Deployments)
			}
			p := pods[0]
			for k, v := range map[string]string{LabelGatewayName: tc.gw.Name, LabelGatewayClassName: "istio", LabelGatewayManaged: GatewayManagedValue,
				"sidecar.istio.io/inject": "false", "service.istio.io/canonical-name": tc.deployed} {
				if p.Labels[k] != v {
					t.Errorf("pod label %s=%q, want %q", k, p.Labels[k], v)
				}
			}
			if !IsManagedGateway(p) || p.Spec.ServiceAccountName != tc.deployed || IsMeshed(p) {
				t.Errorf("pod %s: managed %v, service account %q, meshed %v", p.Name, IsManagedGateway(p), p.Spec.ServiceAccountName, IsMeshed(p))
			}
			svc := st.Service("default", tc.deployed)
			if svc == nil || len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].Port != 15021 || svc.Spec.Ports[1].Port != tc.slicePort || svc.Spec.ClusterIP == "" {
				t.Fatalf("service %+v", svc)
			}
			slices := st.EndpointSlicesOf("default", tc.deployed)
			if len(slices) != 1 || len(slices[0].Endpoints) != 1 || !hasPort(slices[0].Ports, tc.slicePort) {
				t.Fatalf("endpoint slices %+v", slices)
			}
			st, err := c.Delete(bag(t, tc.gw))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Gateways) != 0 || st.Service("default", tc.deployed) != nil || len(st.PodsOf("default", tc.deployed)) != 0 {
				t.Errorf("after the Gateway's deletion: gateways %d, service %v, pods %d", len(st.Gateways), st.Service("default", tc.deployed), len(st.PodsOf("default", tc.deployed)))
			}
		})
	}
}

func hasPort(ports []discoveryv1.EndpointPort, want int32) bool {
	for _, p := range ports {
		if p.Port != nil && *p.Port == want {
			return true
		}
	}
	return false
}

// The ingress takes a Host to the HTTP listener whose hostname is that
// host, else a wildcard that covers it, else one without a hostname.
func TestListenerFor(t *testing.T) {
	host := func(h string) *gatewayv1.Hostname { x := gatewayv1.Hostname(h); return &x }
	gw := gateway("default", "gw", "istio")
	gw.Spec.Listeners = []gatewayv1.Listener{
		{Name: "any", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
		{Name: "wild", Port: 81, Protocol: gatewayv1.HTTPProtocolType, Hostname: host("*.example.com")},
		{Name: "exact", Port: 82, Protocol: gatewayv1.HTTPProtocolType, Hostname: host("whoami.example.com")},
		{Name: "tls", Port: 443, Protocol: gatewayv1.HTTPSProtocolType, Hostname: host("secure.example.com")},
	}
	only := gateway("default", "only", "istio")
	only.Spec.Listeners = []gatewayv1.Listener{{Name: "exact", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: host("a.test")}}
	for _, tc := range []struct {
		gw          *gatewayv1.Gateway
		host        string
		port, score int
	}{
		{gw, "whoami.example.com", 82, 3},
		{gw, "WHOAMI.example.com", 82, 3},
		{gw, "bookinfo.example.com", 81, 2},
		{gw, "secure.example.com", 81, 2}, // HTTPS is not the host's plain HTTP
		{gw, "other.test", 80, 1},
		{only, "b.test", 0, 0},
	} {
		if port, score := ListenerFor(tc.gw, tc.host); port != tc.port || score != tc.score {
			t.Errorf("%s %s: port %d score %d, want %d %d", tc.gw.Name, tc.host, port, score, tc.port, tc.score)
		}
	}
}
