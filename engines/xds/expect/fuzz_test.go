package expect_test

import (
	"os"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds/expect"
)

// FuzzLoad: any spec text loads or fails with a SpecError, never panics; a
// loaded spec can be checked against a real dump.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"bookinfo-gateway.yaml", "vm-sidecar.yaml", "bookinfo-productpage.yaml"} {
		b, err := os.ReadFile(td("expect/" + p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "a: [", "listeners: 3", "flows:\n- request: {role: gateway, port: 1}\n  clusters: {a: 1}\n",
		"clusters:\n- name: ${x}\n  istio: '>=1'\n", "- 1\n- 2\n", "vars: {a: b}\nrouteConfigs:\n- virtualHosts:\n  - routes:\n    - match: prefix /\n",
		"clusters:\n- name: outbound|9080||reviews.default.svc.cluster.local\n  tls: ISTIO_MUTUAL\n- name: PassthroughCluster\n  tls: NONE\n"} {
		f.Add([]byte(s))
	}
	d := parse(f, "samples/gateway-config_dump.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := expect.Load(data, "fuzz.yaml")
		if err != nil {
			return
		}
		_, _ = expect.Check(d, spec, expect.Options{IstioVersion: "1.30.0"})
	})
}
