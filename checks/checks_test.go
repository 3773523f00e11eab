package checks

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/timeouts"
)

// fake is a mesh of one gateway and one whoami pod; what a test does not
// set panics (the embedded interface is nil).
type fake struct {
	backend.Backend
	proxies []backend.Proxy
	rules   string
	logs    string
	answer  func(n int64) traffic.Response
	sent    atomic.Int64
}

var whoamiPod = backend.Workload{Namespace: "whoami", Name: "whoami-v1-abc-1", IP: "10.244.0.5", Ports: []int{80}, Proxy: backend.Sidecar}

func (f *fake) Proxies(context.Context) ([]backend.Proxy, error) { return f.proxies, nil }
func (f *fake) Namespace(ns string) string                       { return ns }
func (f *fake) Workloads(context.Context) ([]backend.Workload, error) {
	return []backend.Workload{whoamiPod}, nil
}
func (f *fake) ServiceAddress(context.Context, string, string, int) (string, error) {
	return "10.96.0.10:80", nil
}
func (f *fake) InterceptionRules(context.Context, backend.Workload) ([]byte, error) {
	return []byte(f.rules), nil
}
func (f *fake) Mark(context.Context) (backend.Mark, error) { return backend.Mark{}, nil }
func (f *fake) AccessLogs(context.Context, backend.Proxy, backend.Mark) ([]byte, error) {
	return []byte(f.logs), nil
}
func (f *fake) Ingress(context.Context) (traffic.Transport, error) { return f, nil }
func (f *fake) RoundTrip(context.Context, traffic.Request, string) (traffic.Response, error) {
	return f.answer(f.sent.Add(1)), nil
}
func (f *fake) String() string { return "the fake ingress" }

// whoamiAnswers serves v2 every nth request, v1 otherwise.
func whoamiAnswers(nth int64) func(int64) traffic.Response {
	return func(n int64) traffic.Response {
		v := "v1"
		if n%nth == 0 {
			v = "v2"
		}
		return traffic.Response{Status: 200, Body: []byte("Hostname: whoami-" + v + "-abc-1\n")}
	}
}

var fx = expect.Fixture{
	Namespace: "whoami", Steps: []string{"90-10"}, Workloads: []string{"whoami/whoami-v1"}, Services: []string{"whoami"},
	Vars: map[string]string{"namespace": "whoami", "domain": "cluster.local", "host": "whoami.example.com"},
}

func load(t *testing.T, checks string) *expect.Expect {
	t.Helper()
	e, err := expect.Load([]byte("apiVersion: meshcheck.dev/v1alpha1\nkind: Expect\nbase:\n"+checks), "expect.yaml", fx)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func istioRules(t *testing.T) string {
	t.Helper()
	v, _ := istio.ParseVersion("1.31")
	s, err := istio.IPTablesSave(istio.DefaultOptions(v))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every kind of check passes on what it expects and fails, with its
// evidence, on what it does not.
func TestChecksPassAndFailWithEvidence(t *testing.T) {
	gw := backend.Proxy{Workload: backend.Workload{Namespace: "istio-system", Name: "istio-ingressgateway-1", Proxy: backend.Gateway}}
	interception := "  interception:\n    - {workload: whoami/whoami, istioVersion: '1.31', service: 'whoami:80'}\n"
	split := "  splits:\n    - {name: s, from: ingress, request: {host: '${host}'}, classify: whoami, weights: 'v1=90,v2=10'}\n"
	path := "  paths:\n    - {name: p, from: ingress, request: {host: '${host}'}, hops: [{proxy: istio-ingressgateway}]}\n"
	routes := "  routes:\n    - {proxy: whoami/whoami-v1, clusters: [{name: a}]}\n"
	for _, tc := range []struct {
		name   string
		checks string
		fake   *fake
		status Status
		want   []string // in the result's text
	}{
		{"interception holds with Istio's rules", interception, &fake{rules: istioRules(t)}, Pass, nil},
		{"interception fails without them", interception, &fake{rules: "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"}, Fail,
			[]string{"expect.yaml:5: interception whoami/whoami-v1-abc-1: istio-iptables 1.31 behaviours", "actual   11 hold, 4 do not", "inbound-tcp-80: expected inbound TCP to app port 80 to be redirected to 15006, got ACCEPT"}},
		{"a 90/10 split holds", split, &fake{answer: whoamiAnswers(10)}, Pass, nil},
		{"a split that serves only v1 fails", split, &fake{answer: whoamiAnswers(1 << 40)}, Fail,
			[]string{"expected weights v1=90,v2=10", "actual   v1=", "v2 got 0 of"}},
		{"a split whose requests fail fails with the last error", split, &fake{answer: func(int64) traffic.Response { return traffic.Response{Status: 503} }}, Fail,
			[]string{"last error: split sample 1 failed", "status 503"}},
		{"a path no proxy logged fails with the last error", path, &fake{proxies: []backend.Proxy{gw}, answer: whoamiAnswers(10)}, Fail,
			[]string{"expected istio-ingressgateway", "last error: no proxy has logged the request tagged meshcheck-"}},
		{"routes of a proxy the mesh lacks fail with the candidates", routes, &fake{proxies: []backend.Proxy{gw}}, Fail,
			[]string{"expected proxy whoami/whoami-v1", "actual   none", "closest  istio-system/istio-ingressgateway-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmo := timeouts.Default()
			tmo.Convergence, tmo.ConvergenceInterval = 300*time.Millisecond, 50*time.Millisecond
			r := &Runner{Backend: tc.fake, Timeouts: tmo}
			results := r.Run(t.Context(), "whoami", fx, load(t, tc.checks), "")
			if len(results) != 1 {
				t.Fatalf("%d results, want 1: %v", len(results), results)
			}
			res := results[0]
			text := res.String()
			if res.Status != tc.status {
				t.Errorf("status %s, want %s\n%s", res.Status, tc.status, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("result lacks %q:\n%s", w, text)
				}
			}
			if s := Summary(results); s[tc.status] != 1 {
				t.Errorf("summary %v", s)
			}
			t.Log(text)
		})
	}
}
