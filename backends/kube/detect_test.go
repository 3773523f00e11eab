package kube

import (
	"context"
	"errors"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
)

// cluster is what a fake cluster with Istio holds; each test edits it.
type cluster struct {
	istiod   *corev1.Pod
	mesh     string
	values   string
	webhook  *admissionv1.MutatingWebhookConfiguration
	ingress  *corev1.Service
	revision string
}

func readyPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "discovery", Env: []corev1.EnvVar{{Name: "ENABLE_NATIVE_SIDECARS", Value: "true"}}}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

// demo is Istio as istioctl's demo profile installs it, access logs to
// stdout in JSON, DNS capture on.
func demo() cluster {
	return cluster{
		istiod: readyPod("istio-system", "istiod-abc", map[string]string{"app": "istiod", "istio.io/rev": "default"}),
		mesh:   "accessLogFile: /dev/stdout\naccessLogEncoding: JSON\ndefaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: \"true\"\n",
		values: `{"pilot":{"cni":{"enabled":true}}}`,
		webhook: &admissionv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "istio-sidecar-injector", Labels: map[string]string{"app": "sidecar-injector", "istio.io/rev": "default"}},
			Webhooks: []admissionv1.MutatingWebhook{{Name: "namespace.sidecar-injector.istio.io",
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"istio-injection": "enabled"}}}},
		},
		ingress: &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio-ingressgateway", Labels: map[string]string{"istio": "ingressgateway"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"istio": "ingressgateway"},
				Ports: []corev1.ServicePort{{Name: "status-port", Port: 15021}, {Name: "http2", Port: 80, TargetPort: intstr.FromInt(8080), NodePort: 30080}}},
		},
	}
}

func (c cluster) objects() []runtime.Object {
	var objs []runtime.Object
	if c.istiod != nil {
		objs = append(objs, c.istiod)
	}
	suffix := ""
	if c.revision != "" {
		suffix = "-" + c.revision
	}
	if c.mesh != "" {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio" + suffix}, Data: map[string]string{"mesh": c.mesh}})
	}
	if c.values != "" {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Name: "istio-sidecar-injector" + suffix}, Data: map[string]string{"values": c.values}})
	}
	if c.webhook != nil {
		objs = append(objs, c.webhook)
	}
	if c.ingress != nil {
		objs = append(objs, c.ingress)
	}
	return objs
}

func buildInfo(s string) func(context.Context, *corev1.Pod) (string, error) {
	return func(context.Context, *corev1.Pod) (string, error) { return s, nil }
}

// detectCase is one cluster TestDetect detects.
type detectCase struct {
	name    string
	edit    func(c *cluster)
	opts    DetectOptions
	build   string
	want    func(m Mesh) string // "" when m is right
	needs   []string            // each need's start, in order; none: no refusal
	wantErr string
}

// detectCases are TestDetect's clusters: the demo profile and variations,
// each need missing, and a broken mesh config.
func detectCases() []detectCase {
	return []detectCase{
		{name: "the demo profile", build: "1.31.1-abcdef-Clean", want: func(m Mesh) string {
			if m.Version != "1.31.1" || m.Revision != "default" || m.AccessLog.Encoding != "JSON" || !m.DNSCapture || !m.CNI ||
				m.NativeSidecars != "true" || m.InterceptionMode != "REDIRECT" || m.InjectionLabel != "istio-injection=enabled" {
				return "want 1.31.1, default revision, JSON, DNS capture, CNI, native sidecars, REDIRECT, istio-injection"
			}
			if g := m.Ingress; g.Port != 80 || g.TargetPort != 8080 || g.NodePort != 30080 || g.Service != "istio-ingressgateway" {
				return "want the gateway's port 80 -> 8080 on NodePort 30080"
			}
			return ""
		}},
		{name: "text logs, TPROXY, no CNI", build: "1.30.2-x-Clean", edit: func(c *cluster) {
			c.mesh = "accessLogFile: /dev/stdout\ndefaultConfig:\n  interceptionMode: TPROXY\n"
			c.values = `{"istio_cni":{"enabled":false}}`
		}, want: func(m Mesh) string {
			if m.AccessLog.Encoding != "TEXT" || m.InterceptionMode != "TPROXY" || m.CNI || m.DNSCapture {
				return "want TEXT, TPROXY, no CNI, no DNS capture"
			}
			return ""
		}},
		{name: "a revision without the default tag", build: "1.31.1-x-Clean", opts: DetectOptions{Revision: "canary"}, edit: func(c *cluster) {
			c.revision = "canary"
			c.istiod.Labels["istio.io/rev"] = "canary"
			c.webhook.Labels["istio.io/rev"] = "canary"
			c.webhook.Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"istio.io/rev": "canary"}}
		}, want: func(m Mesh) string {
			if m.InjectionLabel != "istio.io/rev=canary" || m.suffix() != "-canary" {
				return "want the revision's label"
			}
			return ""
		}},
		{name: "a LoadBalancer", build: "1.31.1-x-Clean", edit: func(c *cluster) {
			c.ingress.Spec.Type = corev1.ServiceTypeLoadBalancer
			c.ingress.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}
		}, want: func(m Mesh) string {
			if m.Ingress.LoadBalancer != "203.0.113.7" {
				return "want the LoadBalancer's address"
			}
			return ""
		}},
		{name: "a build of one's own, its release given", build: "local-unknown-Modified", opts: DetectOptions{Version: "1.31.1"}, want: func(m Mesh) string {
			if m.Version != "1.31.1" || m.Build != "local-unknown-Modified" {
				return "want the given release and the build string"
			}
			return ""
		}},
		{name: "no istiod", edit: func(c *cluster) { c.istiod = nil }, needs: []string{"no ready istiod: no running pod labelled app=istiod in namespace istio-system"}},
		{name: "no ingress gateway", build: "1.31.1-x-Clean", edit: func(c *cluster) { c.ingress = nil },
			needs: []string{"no ingress gateway: no Service labelled istio=ingressgateway in namespace istio-system; install one"}},
		{name: "access logging off", build: "1.31.1-x-Clean", edit: func(c *cluster) { c.mesh = "defaultConfig: {}\n" },
			needs: []string{"access logging is off: meshConfig.accessLogFile is empty in ConfigMap istio-system/istio; turn it on: istioctl install --set meshConfig.accessLogFile=/dev/stdout"}},
		{name: "access logs to a file", build: "1.31.1-x-Clean", edit: func(c *cluster) { c.mesh = "accessLogFile: /var/log/envoy.log\n" },
			needs: []string{`access logs go to "/var/log/envoy.log"`}},
		{name: "no injector for labelled namespaces", build: "1.31.1-x-Clean", edit: func(c *cluster) {
			c.webhook.Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "mesh"}}
		}, needs: []string{"no sidecar injector enabled for labelled namespaces"}},
		{name: "every need at once", build: "1.31.1-x-Clean", edit: func(c *cluster) {
			c.ingress, c.webhook, c.mesh = nil, nil, "{}"
		}, needs: []string{"access logging is off", "no sidecar injector enabled", "no ingress gateway"}},
		{name: "a build without a release", build: "local-unknown-Modified",
			needs: []string{`istiod istio-system/istiod-abc says its version is "local-unknown-Modified", not a release X.Y.Z (a build of one's own): give the release it is built from with --istio-version X.Y.Z`}},
		{name: "no mesh config", build: "1.31.1-x-Clean", edit: func(c *cluster) { c.mesh = "" },
			wantErr: `kube: detecting the mesh config: ConfigMap istio-system/istio: configmaps "istio" not found`},
	}
}

func TestDetect(t *testing.T) {
	tests := detectCases()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := demo()
			if tt.edit != nil {
				tt.edit(&c)
			}
			opts := tt.opts
			opts.BuildInfo = buildInfo(tt.build)
			m, err := Detect(context.Background(), fake.NewClientset(c.objects()...), opts)
			var need *NeedError
			switch {
			case tt.wantErr != "":
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			case len(tt.needs) > 0:
				if !errors.As(err, &need) || len(need.Needs) != len(tt.needs) {
					t.Fatalf("error %v, want %d needs", err, len(tt.needs))
				}
				for i, n := range tt.needs {
					if !strings.HasPrefix(need.Needs[i], n) {
						t.Errorf("need %d: %q, want it to start %q", i, need.Needs[i], n)
					}
				}
				if !strings.Contains(err.Error(), "nothing was created") {
					t.Errorf("a refusal must say nothing was created: %v", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if why := tt.want(m); why != "" {
					t.Errorf("%s; got %s", why, m)
				}
			}
		})
	}
}

func TestIngressAddress(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalIP, Address: "172.18.0.2"}}}}
	tests := []struct {
		name    string
		g       Ingress
		nodes   bool
		want    string
		wantErr string
	}{
		{"LoadBalancer", Ingress{LoadBalancer: "lb.example.com", Port: 80, NodePort: 30080}, true, "lb.example.com:80", ""},
		{"NodePort on a node's InternalIP", Ingress{Port: 80, NodePort: 30080}, true, "172.18.0.2:30080", ""},
		{"NodePort and no node address", Ingress{Port: 80, NodePort: 30080}, false, "", "no node has an ExternalIP or InternalIP (give --ingress-address)"},
		{"ClusterIP", Ingress{Namespace: "istio-system", Service: "gw", Type: corev1.ServiceTypeClusterIP, Port: 80}, true, "",
			"kube: the ingress gateway Service istio-system/gw is ClusterIP with no LoadBalancer address and no NodePort for port 80: the host cannot reach it; give --ingress-address host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []runtime.Object
			if tt.nodes {
				objs = append(objs, node)
			}
			b := &Backend{kube: &client{cs: fake.NewClientset(objs...)}, mesh: Mesh{Ingress: tt.g}}
			got, err := b.IngressAddress(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("%q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
