package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

const (
	rdsType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	edsType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
)

func TestParseSyncz(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    map[string]bool // proxy -> Current
		nTypes  map[string]int
		wantErr string
	}{
		{
			name: "synced and behind",
			body: `[{"proxy":"productpage-v1-abc.default","resources":{
				"` + clusterType + `":{"sent":"n1","acked":"n1"},
				"` + listenerType + `":{"sent":"n2","acked":"n2"},
				"` + rdsType + `":{"sent":"n3","acked":"n3"}}},
			 {"proxy":"reviews-v1-x.default","resources":{
				"` + clusterType + `":{"sent":"n5","acked":"n4"},
				"` + listenerType + `":{"sent":"n2","acked":"n2"}}}]`,
			want:   map[string]bool{"default/productpage-v1-abc": true, "default/reviews-v1-x": false},
			nTypes: map[string]int{"default/productpage-v1-abc": 3, "default/reviews-v1-x": 2},
		},
		{
			name: "not sent types are left out",
			body: `[{"proxy":"gw-1.istio-system","resources":{
				"` + clusterType + `":{"sent":"a","acked":"a"},
				"` + listenerType + `":{"sent":"b","acked":"b"},
				"` + edsType + `":{}}}]`,
			want:   map[string]bool{"istio-system/gw-1": true},
			nTypes: map[string]int{"istio-system/gw-1": 2},
		},
		{
			name: "no LDS yet is not current",
			body: `[{"proxy":"a.b","resources":{"` + clusterType + `":{"sent":"a","acked":"a"}}}]`,
			want: map[string]bool{"b/a": false}, nTypes: map[string]int{"b/a": 1},
		},
		{
			name: "a NACK keeps the text",
			body: `[{"proxy":"a.b","resources":{"` + clusterType + `":{"sent":"a","acked":"a"},"` + listenerType + `":{"sent":"c","acked":"b","lastError":"Proto constraint validation failed"}}}]`,
			want: map[string]bool{"b/a": false}, nTypes: map[string]int{"b/a": 2},
		},
		{name: "empty list", body: `[]`, want: map[string]bool{}},
		{name: "not JSON", body: `<html>forbidden</html>`, wantErr: "istiod /debug/syncz: invalid character"},
		{name: "proxy without namespace", body: `[{"proxy":"lonely"}]`, wantErr: `entry 0: proxy "lonely" is not pod.namespace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSyncz([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d proxies, want %d: %+v", len(got), len(tt.want), got)
			}
			for _, s := range got {
				cur, ok := tt.want[s.Proxy]
				if !ok {
					t.Errorf("unexpected proxy %q", s.Proxy)
					continue
				}
				if s.Current != cur || s.Synced() != cur {
					t.Errorf("%s: Current %v Synced %v, want %v (%s)", s.Proxy, s.Current, s.Synced(), cur, s)
				}
				if len(s.Types) != tt.nTypes[s.Proxy] {
					t.Errorf("%s: %d types, want %d", s.Proxy, len(s.Types), tt.nTypes[s.Proxy])
				}
			}
		})
	}
}

func TestSinceMark(t *testing.T) {
	mark := time.Date(2026, 11, 21, 8, 0, 0, 500_000_000, time.UTC)
	log := strings.Join([]string{
		"2026-11-21T08:00:00.400000000Z before",
		"2026-11-21T08:00:00.500000000Z at the mark",
		"2026-11-21T08:00:00.500000001Z {\"after\":1}",
		"2026-11-21T08:00:01.000000000Z",
		"2026-11-21T08:00:02.123456789Z last line",
	}, "\n") + "\n"
	got, err := sinceMark([]byte(log), mark)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{\"after\":1}\n\nlast line\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = sinceMark([]byte("2026-11-21T08:00:00Z ok\nno timestamp here\n"), mark)
	if err == nil || !strings.Contains(err.Error(), `line 2: no timestamp prefix: "no timestamp here"`) {
		t.Errorf("error %v, want one naming line 2", err)
	}
}

func TestProxyKind(t *testing.T) {
	gw := installedMesh(istioinstall.Options{}).Ingress
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name string
		pod  corev1.Pod
		want backend.ProxyKind
	}{
		{"sidecar container", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "istio-proxy"}}}}, backend.Sidecar},
		{"native sidecar", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "istio-init"}, {Name: "istio-proxy", RestartPolicy: &always}}, Containers: []corev1.Container{{Name: "app"}}}}, backend.Sidecar},
		{"init only", corev1.Pod{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "istio-proxy"}}, Containers: []corev1.Container{{Name: "app"}}}}, ""},
		{"gateway", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "istio-system", Labels: map[string]string{"istio": "ingressgateway"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "istio-proxy"}}}}, backend.Gateway},
		{"no mesh", corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}, ""},
	}
	for _, tt := range tests {
		if got := gw.proxyKind(&tt.pod); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzParseSyncz(f *testing.F) {
	f.Add([]byte(`[{"proxy":"a.b","resources":{"x":{"sent":"1","acked":"1"}}}]`))
	f.Add([]byte(`[{"proxy":".","resources":null}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseSyncz(b)
		if err != nil {
			return
		}
		for _, s := range got {
			if s.Current && !s.Synced() {
				t.Fatalf("%s is current but not synced", s)
			}
		}
	})
}

func FuzzSinceMark(f *testing.F) {
	f.Add([]byte("2026-11-21T08:00:00.1Z hello\n"), int64(0))
	f.Add([]byte("2026-11-21T08:00:00Z\n\n x"), int64(1))
	f.Fuzz(func(t *testing.T, b []byte, ns int64) {
		out, err := sinceMark(b, time.Unix(0, ns))
		if err == nil && len(out) > len(b)+1 {
			t.Fatalf("output %d bytes from %d input bytes", len(out), len(b))
		}
	})
}

// TestRealSyncz parses istiod's syncz as a kind cluster with Istio
// printed it (testdata/real, captured from a make e2e-airgap cluster):
// eleven connected proxies.
func TestRealSyncz(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "real", "syncz.json"))
	if err != nil {
		t.Fatal(err)
	}
	syncs, err := parseSyncz(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 11 {
		t.Errorf("%d proxies, want 11", len(syncs))
	}
	for _, s := range syncs {
		if !s.Synced() || len(s.Types) < 2 {
			t.Errorf("%s: not synced at capture: %+v", s, s.Types)
		}
	}
	if syncs[0].Proxy != "default/details-v1-5d4d6bd44f-rtzqh" {
		t.Errorf("first proxy %q", syncs[0].Proxy)
	}
}

func TestSpreadOverNodes(t *testing.T) {
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "reviews-v1", "namespace": "default"},
		"spec":     map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "reviews"}}, "spec": map[string]any{}}},
	}}
	if err := spreadOverNodes(dep); err != nil {
		t.Fatal(err)
	}
	labels, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "template", "metadata", "labels")
	if labels[SpreadLabel] != "default" || labels["app"] != "reviews" {
		t.Errorf("labels %v", labels)
	}
	cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "topologySpreadConstraints")
	if len(cs) != 1 || cs[0].(map[string]any)["topologyKey"] != "kubernetes.io/hostname" {
		t.Errorf("constraints %v", cs)
	}
	svc := &unstructured.Unstructured{Object: map[string]any{"kind": "Service", "metadata": map[string]any{"name": "x"}}}
	if err := spreadOverNodes(svc); err != nil || len(svc.Object) != 2 {
		t.Errorf("a Service changed: %v %v", svc.Object, err)
	}
}
