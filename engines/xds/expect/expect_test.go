package expect_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/expect"
)

func td(p string) string { return filepath.Join("..", "testdata", p) }

func parse(t testing.TB, p string) *xds.Dump {
	t.Helper()
	d, err := xds.ParseFile(td(p), xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSpecsHold(t *testing.T) {
	cases := []struct{ spec, dump, version string }{
		{"expect/bookinfo-gateway.yaml", "samples/gateway-config_dump.json", "1.31.0"},
		{"expect/bookinfo-gateway.yaml", "samples/gateway-config_dump.minimal.json", "1.29.3"},
		{"expect/bookinfo-productpage.yaml", "samples/productpage-config_dump.json", "1.31.0"},
		{"expect/whoami-gateway.yaml", "pilot/gateway-config_dump.json", ""},
		{"expect/vm-sidecar.yaml", "pilot/sleep-config_dump.json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.spec+"@"+tc.dump, func(t *testing.T) {
			spec, err := expect.LoadFile(td(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := expect.Check(parse(t, tc.dump), spec, expect.Options{IstioVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Passed() {
				t.Errorf("failures: %v", rep.Failures)
			}
			if rep.Checked < 3 {
				t.Errorf("only %d expectations checked", rep.Checked)
			}
		})
	}
}

// failureCase is a spec that fails on a dump, with the failures it gives.
type failureCase struct {
	name    string
	spec    string
	dump    string
	version string
	vars    map[string]string
	want    []string // substrings, one failure each, in order
	skipped int
}

var failureCases = []failureCase{
	{
		name: "old Istio expects http.80",
		spec: `routeConfigs:
  - name: http.8080
    istio: ">=1.11"
  - name: http.80
    istio: "<1.11"
`,
		dump: "samples/gateway-config_dump.json", version: "1.10.4",
		want:    []string{"line 4: routeConfigs[1](http.80): route config http.80 not found (expected http.80, actual not found); have http.8080"},
		skipped: 1,
	},
	{
		name: "namespace variable changes every name",
		spec: `clusters:
  - name: outbound|9080||reviews.${namespace}.svc.${domain}
`,
		dump: "samples/gateway-config_dump.json", vars: map[string]string{"namespace": "bookinfo"},
		want: []string{"cluster outbound|9080||reviews.bookinfo.svc.cluster.local not found (expected outbound|9080||reviews.bookinfo.svc.cluster.local, actual not found); have outbound|9080||reviews.default.svc.cluster.local"},
	},
	{
		name: "weights differ",
		spec: `flows:
  - name: to reviews
    request: {role: sidecar-outbound, address: 10.96.0.9, port: 9080, host: reviews, path: /}
    clusters: {"outbound|9080|v1|reviews.default.svc.cluster.local": 50, "outbound|9080|v3|reviews.default.svc.cluster.local": 50}
`,
		dump: "samples/productpage-config_dump.json",
		want: []string{"flows[0](to reviews).clusters: the request goes elsewhere (expected outbound|9080|v1|reviews.default.svc.cluster.local=50, outbound|9080|v3|reviews.default.svc.cluster.local=50, actual outbound|9080|v1|reviews.default.svc.cluster.local=90, outbound|9080|v2|reviews.default.svc.cluster.local=10)"},
	},
	{
		name: "endpoint count",
		spec: `clusters:
  - name: outbound|9080||reviews.default.svc.cluster.local
    endpoints: 2
    healthyEndpoints: 3
`,
		dump: "samples/gateway-config_dump.json",
		want: []string{"endpoint count differs (expected 2, actual 3)"},
	},
	{
		name: "endpoint addresses",
		spec: `clusters:
  - name: outbound|9080||reviews.default.svc.cluster.local
    addresses: ["192.0.2.10:9080"]
`,
		dump: "samples/gateway-config_dump.json",
		want: []string{"addresses: endpoint addresses differ (expected 192.0.2.10:9080, actual 10."},
	},
	{
		name: "absent listener present, listener address",
		spec: `listeners:
  - name: 0.0.0.0_8080
    absent: true
  - name: 0.0.0.0_8080
    address: 0.0.0.0:80
`,
		dump: "samples/gateway-config_dump.json",
		want: []string{"listener 0.0.0.0_8080 is present", "listener address differs (expected 0.0.0.0:80, actual 0.0.0.0:8080)"},
	},
	{
		name: "virtual host and domain",
		spec: `routeConfigs:
  - name: http.8080
    virtualHosts:
      - name: "*:80"
      - name: "*:8080"
        domains: ["bookinfo.example.com"]
`,
		dump: "samples/gateway-config_dump.json",
		want: []string{"virtual host *:80 not found in route config http.8080", `domain "bookinfo.example.com" missing`},
	},
	{
		name: "upstream, redirect and policy differ",
		spec: `flows:
  - name: whoami
    request: {role: gateway, port: 8080, host: whoami.example.com, path: "/a?b=1"}
    upstream: https://whoami.example.com/a?b=1
    redirect: https://whoami.example.com/a?b=1
    policy: {timeout: 15s, retry.numRetries: "3", fault.abortPercent: "100"}
`,
		dump: "pilot/gateway-config_dump.json",
		want: []string{
			"flows[0](whoami).upstream: the upstream receives another request (expected https://whoami.example.com/a?b=1, actual http://whoami.example.com/a?b=1)",
			"flows[0](whoami).redirect: the redirect differs (expected https://whoami.example.com/a?b=1, actual (no redirect: outbound|80|v1|whoami.default.svc.cluster.local=90, outbound|80|v2|whoami.default.svc.cluster.local=10))",
			"flows[0](whoami).policy.fault.abortPercent: the route's policy differs (expected 100, actual (unset))",
			"flows[0](whoami).policy.retry.numRetries: the route's policy differs (expected 3, actual 2)",
			"flows[0](whoami).policy.timeout: the route's policy differs (expected 15s, actual 0s)",
		},
	},
	{
		name: "upstream TLS mode",
		spec: `clusters:
  - name: outbound|80|v1|whoami.default.svc.cluster.local
    tls: ISTIO_MUTUAL
  - name: outbound|80|v2|whoami.default.svc.cluster.local
    tls: AUTO
  - name: PassthroughCluster
    tls: ISTIO_MUTUAL
`,
		dump: "pilot/sleep-config_dump.json",
		want: []string{
			"clusters[0](outbound|80|v1|whoami.default.svc.cluster.local).tls: the upstream mTLS/TLS mode differs (the transport socket the proxy uses to the cluster) (expected ISTIO_MUTUAL, actual AUTO)",
			"clusters[2](PassthroughCluster).tls: the upstream mTLS/TLS mode differs (the transport socket the proxy uses to the cluster) (expected ISTIO_MUTUAL, actual DISABLE)",
		},
	},
	{
		name: "route expected but no route",
		spec: `flows:
  - request: {role: gateway, port: 8080, host: x, path: /nope}
    clusters: {"outbound|9080||productpage.default.svc.cluster.local": 1}
`,
		dump: "samples/gateway-config_dump.json",
		want: []string{"Envoy would not route the request: no route of virtual host"},
	},
}

// The same spec fails on the wrong dump, and says why with candidates.
func TestFailures(t *testing.T) {
	for _, tc := range failureCases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := expect.Load([]byte(tc.spec), "spec.yaml")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := expect.Check(parse(t, tc.dump), spec, expect.Options{IstioVersion: tc.version, Vars: tc.vars})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failures) != len(tc.want) {
				t.Fatalf("failures = %v, want %d", rep.Failures, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(rep.Failures[i].String(), w) {
					t.Errorf("failure %d:\n%s\nwant it to contain\n%s", i, rep.Failures[i], w)
				}
			}
			if len(rep.Skipped) != tc.skipped {
				t.Errorf("skipped = %v, want %d", rep.Skipped, tc.skipped)
			}
		})
	}
}

func TestUnversionedSkips(t *testing.T) {
	spec, err := expect.LoadFile(td("expect/bookinfo-gateway.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := expect.Check(parse(t, "samples/gateway-config_dump.json"), spec, expect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skipped) != 2 || !strings.Contains(rep.Skipped[0], "no Istio version was given") {
		t.Errorf("skipped = %v, want the two versioned route configs", rep.Skipped)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"spec.yaml: the spec is empty"}},
		{"bad yaml", "listeners: [\n", []string{"spec.yaml:", "invalid YAML"}},
		{"unknown field", "listeners:\n  - name: x\n    adress: 1.2.3.4:80\n", []string{"spec.yaml:3:", `unknown field "adress" in spec.listeners[0]`, "address"}},
		{"top-level unknown", "listener: []\n", []string{"spec.yaml:1:", `unknown field "listener"`}},
		{"bad constraint", "clusters:\n  - name: x\n    istio: \"newest\"\n", []string{"spec.yaml:2:", "not a version constraint"}},
		{"wrong type", "clusters:\n  - name: x\n    endpoints: many\n", []string{"spec.yaml:3:", "endpoints"}},
		{"list expected", "flows: {a: 1}\n", []string{"spec.yaml:1:", "must be a list"}},
		{"scalar doc", "hello\n", []string{"must be a mapping"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := expect.Load([]byte(tc.in), "spec.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			var se *expect.SpecError
			if !errors.As(err, &se) {
				t.Errorf("%T is not a *SpecError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	d := parse(t, "samples/gateway-config_dump.json")
	cases := []struct{ name, spec, want string }{
		{"unknown variable", "clusters:\n  - name: outbound|9080||x.${nmespace}\n", "spec.yaml:2: clusters[0]: unknown variable ${nmespace}"},
		{"bad role", "flows:\n  - request: {role: egress, port: 80}\n", "spec.yaml:2: flows[0].request.role: unknown role"},
		{"no port", "flows:\n  - request: {role: gateway}\n", "flows[0].request.port is required"},
		{"bad tls mode", "clusters:\n  - name: outbound|9080||productpage.default.svc.cluster.local\n    tls: STRICT\n", `spec.yaml:2: clusters[0](outbound|9080||productpage.default.svc.cluster.local).tls: "STRICT" is not one of ISTIO_MUTUAL, AUTO, DISABLE, SIMPLE, MUTUAL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := expect.Load([]byte(tc.spec), "spec.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = expect.Check(d, spec, expect.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := expect.Check(d, &expect.Spec{}, expect.Options{IstioVersion: "one.two"}); err == nil {
		t.Error("a bad Istio version is accepted")
	}
}
