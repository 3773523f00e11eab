package kube

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/fixtures"
)

func pod(ns, name string, labels map[string]string, containers ...string) *corev1.Pod {
	p := readyPod(ns, name, labels)
	p.Spec.Containers = nil
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Ports: []corev1.ContainerPort{{ContainerPort: 9080}}})
	}
	return p
}

// TestWorkloads: the run's pods and the ingress gateway, nothing else of
// the control plane's namespace, nothing of another run's.
func TestWorkloads(t *testing.T) {
	cs := fake.NewClientset(
		pod("istio-system", "istio-ingressgateway-1", map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"}, "istio-proxy"),
		pod("istio-system", "istio-egressgateway-1", map[string]string{"istio": "egressgateway"}, "istio-proxy"),
		pod("istio-system", "istiod-1", map[string]string{"app": "istiod"}, "discovery"),
		pod("default-abcd1234", "productpage-v1-x", map[string]string{"app": "productpage"}, "productpage", "istio-proxy"),
		pod("default-abcd1234", "plain-x", nil, "app"),
		pod("default-ffff0000", "productpage-v1-y", map[string]string{"app": "productpage"}, "productpage", "istio-proxy"),
	)
	b := &Backend{opts: Options{Name: "kube", RunID: "abcd1234", NamespaceSuffix: true}, kube: &client{cs: cs},
		mesh:    installedMesh(istioinstall.Options{}),
		applied: []*fixtures.Set{{Namespace: "default-abcd1234", Objects: fixtures.Objects{Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "default-abcd1234"}}}}}},
	}
	ws, err := b.Workloads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String()+" "+string(w.Proxy))
	}
	want := []string{"istio-system/istio-ingressgateway-1 gateway", "default-abcd1234/plain-x ", "default-abcd1234/productpage-v1-x sidecar"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("workloads %q, want %q", got, want)
	}
	ps, err := b.Proxies(context.Background())
	if err != nil || len(ps) != 2 || !slices.ContainsFunc(ps, func(p backend.Proxy) bool { return p.Proxy == backend.Gateway }) {
		t.Errorf("proxies %v, %v; want the gateway and productpage", ps, err)
	}
	if got := b.Namespace("default"); got != "default-abcd1234" {
		t.Errorf("Namespace(default) = %q", got)
	}
}
