package mesh_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/mesh"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
	"github.com/meshcheck/meshcheck/internal/envoybin"
	"github.com/meshcheck/meshcheck/timeouts"
)

const appEnv = "MESHCHECK_TEST_APP"

// TestMain serves as a tiny app when asked to.
func TestMain(m *testing.M) {
	if spec := os.Getenv(appEnv); spec != "" {
		serveApp(spec)
		return
	}
	os.Exit(m.Run())
}

// serveApp: "name:port" serves "Hostname: name" like whoami.
func serveApp(spec string) {
	name, port, _ := strings.Cut(spec, ":")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hostname: %s\nGET %s\nX-Request-Id: %s\n", name, r.URL.Path, r.Header.Get("x-request-id"))
	})
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func skipUnlessReady(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the embedded mesh needs root (network namespaces, iptables); run as root")
	}
	if _, err := envoybin.Find(); err != nil {
		t.Skip(err.Error())
	}
}

// TestGatewayToSidecar: a request through the ingress gateway reaches
// whoami behind its sidecar; the proxies' dumps lint clean; a meshed client
// reaches whoami through its own sidecar; the kernel's rules behave like
// istio-init's.
func TestGatewayToSidecar(t *testing.T) {
	skipUnlessReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	m := startMesh(ctx, t)
	v1, gw := deployWhoamiBehindGateway(ctx, t, m)
	t.Logf("mesh up and synced in %v", time.Since(start))

	body := getThroughGateway(ctx, t, gw)
	if !strings.Contains(body, "Hostname: whoami-v1-abc") {
		t.Errorf("body = %q", body)
	}
	t.Logf("through the gateway: %s", body)

	for _, p := range []*mesh.Pod{gw, v1} {
		lintPodDump(ctx, t, p)
	}
	acc, _ := os.ReadFile(v1.Envoy.Spec.AccessLog())
	t.Logf("sidecar access log:\n%s", acc)

	checkMeshedClient(ctx, t, m)
	checkKernelRules(ctx, t, m, v1)
}

// startMesh starts an embedded mesh, closed (and checked for leftovers) when
// the test ends.
func startMesh(ctx context.Context, t *testing.T) *mesh.Mesh {
	t.Helper()
	m, err := mesh.Start(ctx, mesh.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
		left, err := podnet.Leftovers(context.Background(), m.RunID())
		if err != nil || len(left) > 0 {
			t.Errorf("left behind: %v %v", left, err)
		}
	})
	return m
}

// testService is a Service with one HTTP port.
func testService(name, ns, ip string, port, target int32, sel map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Selector: sel, Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromInt32(target), Protocol: corev1.ProtocolTCP}}}}
}

// testSlice is svcName's EndpointSlice of pods, all ready.
func testSlice(svcName, ns string, port int32, pods ...*mesh.Pod) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: svcName + "-x", Namespace: ns, Labels: map[string]string{"kubernetes.io/service-name": svcName}},
		AddressType: discoveryv1.AddressTypeIPv4, Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: &port, Protocol: ptr(corev1.ProtocolTCP)}}}
	for _, p := range pods {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.NS.IP.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p.Name, Namespace: p.Namespace}})
	}
	return es
}

// gatewayToWhoami is the Istio config of the test: a Gateway on 8080 and a
// VirtualService routing every host to whoami.
const gatewayToWhoami = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: whoami, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http: [{route: [{destination: {host: whoami, port: {number: 80}}}]}]
`

// deployWhoamiBehindGateway adds whoami v1 behind a sidecar and an ingress
// gateway, their Services, EndpointSlices and the gatewayToWhoami config,
// and waits until the proxies are synced.
func deployWhoamiBehindGateway(ctx context.Context, t *testing.T, m *mesh.Mesh) (v1, gw *mesh.Pod) {
	t.Helper()
	cp := m.ControlPlane()
	if err := cp.ApplyKube(ctx, testService("whoami", "default", "10.96.0.20", 80, 80, map[string]string{"app": "whoami"}),
		testService("istio-ingressgateway", "istio-system", "10.96.0.30", 80, 8080, map[string]string{"istio": "ingressgateway"})); err != nil {
		t.Fatal(err)
	}
	v1, err := m.AddPod(ctx, mesh.PodSpec{Name: "whoami-v1-abc", Namespace: "default", Labels: map[string]string{"app": "whoami", "version": "v1"},
		Ports: []int32{80}, Proxy: backend.Sidecar, App: []string{"env", appEnv + "=whoami-v1-abc:80", os.Args[0]}, Short: "whoami-v1"})
	if err != nil {
		t.Fatal(err)
	}
	gw, err = m.AddPod(ctx, mesh.PodSpec{Name: "istio-ingressgateway-abc", Namespace: "istio-system", ServiceAccount: "istio-ingressgateway-service-account",
		Labels: map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"}, Ports: []int32{8080}, Proxy: backend.Gateway, Short: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.ApplyKube(ctx, testSlice("whoami", "default", 80, v1), testSlice("istio-ingressgateway", "istio-system", 8080, gw)); err != nil {
		t.Fatal(err)
	}
	if err := cp.ApplyConfigs(ctx, gatewayToWhoami, "cluster.local"); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	return v1, gw
}

// getThroughGateway sends GET /hello for whoami.example.com to the gateway
// until it answers 200 (within the convergence timeout) and returns
// "status body".
func getThroughGateway(ctx context.Context, t *testing.T, gw *mesh.Pod) string {
	t.Helper()
	url := fmt.Sprintf("http://%s:8080/hello", gw.NS.IP)
	var body string
	deadline := time.Now().Add(timeouts.Default().Convergence)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Host = "whoami.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = fmt.Sprintf("%d %s", resp.StatusCode, b)
			if resp.StatusCode == 200 {
				return body
			}
		} else {
			body = err.Error()
		}
		if time.Now().After(deadline) {
			dump, _ := gw.Envoy.ConfigDump(ctx)
			log, _ := os.ReadFile(gw.Envoy.Spec.EnvoyLog())
			t.Fatalf("no 200 through the gateway; last: %s\ngateway log:\n%s\ndump bytes: %d", body, log, len(dump))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lintPodDump lints p's Envoy config dump: findings logged, errors failing.
func lintPodDump(ctx context.Context, t *testing.T, p *mesh.Pod) {
	t.Helper()
	b, err := p.Envoy.ConfigDump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := xds.Parse(b, xds.Options{Source: p.Key()})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range lint.Lint(d) {
		t.Logf("%s: %s", p.Key(), f)
	}
	if lint.HasErrors(lint.Lint(d)) {
		t.Errorf("%s: lint errors", p.Key())
	}
}

// checkMeshedClient adds a meshed client: its connection to whoami's
// ClusterIP is intercepted by its own rules and routed by its sidecar.
func checkMeshedClient(ctx context.Context, t *testing.T, m *mesh.Mesh) {
	t.Helper()
	sleep, err := m.AddPod(ctx, mesh.PodSpec{Name: "sleep-abc", Namespace: "default", Labels: map[string]string{"app": "sleep"},
		Proxy: backend.Sidecar, Short: "sleep"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	tr := &traffic.HTTPTransport{Address: "10.96.0.20:80", Dial: sleep.NS}
	res := traffic.Do(ctx, tr, traffic.Request{Host: "whoami", Path: "/from-sleep"}, 5*time.Second, traffic.Whoami{})
	if res.Err != nil || res.Status != 200 || res.Version != "v1" {
		t.Fatalf("in-mesh request: %s", res)
	}
	// Envoy writes its access log asynchronously: wait for the line.
	if out, err := waitForLogLine(ctx, sleep.Envoy.Spec.AccessLog(), res.RequestID, "outbound|80||whoami.default.svc.cluster.local"); err != nil {
		t.Errorf("the client's sidecar did not log request %s to whoami's cluster: %v\nlog:\n%s", res.RequestID, err, out)
	}
}

// checkKernelRules checks that the rules the kernel holds in v1's network
// namespace behave like istio-init's.
func checkKernelRules(ctx context.Context, t *testing.T, m *mesh.Mesh, v1 *mesh.Pod) {
	t.Helper()
	saved, err := v1.NS.Run(ctx, "", "iptables-save")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.Parse([]byte(saved))
	if err != nil {
		t.Fatal(err)
	}
	env := istio.Env{PodIP: v1.NS.IP, PeerIP: m.Network().Gateway, Iface: "eth0", ClusterIP: netip.MustParseAddr("10.96.0.20"), AppPort: 80, AppUID: 0, AppGID: 0}
	v, _ := istio.ParseVersion("1.31")
	for _, o := range istio.Check(rs, istio.Behaviours(istio.DefaultOptions(v), env)) {
		if o.Err != nil {
			t.Errorf("%s: %v", o.Behaviour, o.Err)
		}
	}
}

// An EnvoyFilter that pilot accepts and Envoy rejects: the wait fails at
// once with Envoy's own words.
func TestNACKFailsWithEnvoysMessage(t *testing.T) {
	skipUnlessReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := mesh.Start(ctx, mesh.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	if err := m.ControlPlane().ApplyKube(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "sleep", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.40", Selector: map[string]string{"app": "sleep"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80), Protocol: corev1.ProtocolTCP}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddPod(ctx, mesh.PodSpec{Name: "sleep-abc", Namespace: "default", Labels: map[string]string{"app": "sleep"},
		Proxy: backend.Sidecar, Short: "sleep"}); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	broken := `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: broken, namespace: default}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: ANY, listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}}
    patch:
      operation: INSERT_FIRST
      value:
        name: acme.waf
        typed_config:
          "@type": type.googleapis.com/google.protobuf.Struct
          value: {mode: block}
`
	if err := m.ControlPlane().ApplyConfigs(ctx, broken, "cluster.local"); err != nil {
		t.Fatal(err)
	}
	err = m.WaitSynced(ctx)
	if err == nil || !strings.Contains(err.Error(), "NACK") || !strings.Contains(err.Error(), "google.protobuf.Struct") {
		t.Fatalf("want a NACK naming Envoy's complaint, got %v", err)
	}
	t.Logf("as expected: %v", err)
}

func ptr[T any](v T) *T { return &v }

// waitForLogLine polls an access log until one line holds every want, or
// timeouts.AccessLogFlush passes; it returns the log as last read.
func waitForLogLine(ctx context.Context, path string, want ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeouts.Default().AccessLogFlush)
	defer cancel()
	for {
		b, err := os.ReadFile(path)
		for _, line := range strings.Split(string(b), "\n") {
			if containsAll(line, want) {
				return string(b), nil
			}
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("no line with all of %q after %v", want, timeouts.Default().AccessLogFlush)
			}
			return string(b), err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
