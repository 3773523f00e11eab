package kindmesh

import (
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func baseEnv() map[string]string {
	return map[string]string{
		"MESHCHECK_KIND_NODE_IMAGE": "meshcheck.local/kind-node:v1.34.4",
		"MESHCHECK_ISTIO_VERSION":   "1.31.1",
		"MESHCHECK_ISTIOCTL":        "/bin/istioctl",
		"MESHCHECK_WORKDIR":         "/tmp/w",
		"MESHCHECK_VM_IMAGE":        "meshcheck.local/whoami:local",
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := baseEnv()
	env["NODES"] = "2"
	env["KEEP_CLUSTER"] = "1"
	env["MESHCHECK_ISTIO_HUB"], env["MESHCHECK_ISTIO_TAG"] = "meshcheck.local/istio", "local"
	env["MESHCHECK_FIXTURE_VARS"] = "bookinfoRegistry=meshcheck.local bookinfoTag=local"
	env["MESHCHECK_KIND_IMAGES"] = "a:1  b:2"
	env["MESHCHECK_VM_COMMAND"] = "--name {name} --listen 0.0.0.0:80"
	env["MESHCHECK_DNS_CAPTURE"], env["MESHCHECK_DNS_AUTO_ALLOCATE"] = "1", "1"
	o, err := OptionsFromEnv(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if o.Cluster.Workers != 1 || !o.Keep || o.Reuse || o.Install.Hub != "meshcheck.local/istio" || len(o.Images) != 2 ||
		o.FixtureVars["bookinfoTag"] != "local" || !o.Install.DNSCapture || !o.Install.DNSAutoAllocate || !strings.HasPrefix(o.Cluster.Name, "meshcheck-1-31-") || len(o.VMCommand) != 4 {
		t.Errorf("options %+v", o)
	}
	if _, err := New(o); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestOptionsFromEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{"MESHCHECK_KIND_NODE_IMAGE is not set", "MESHCHECK_ISTIOCTL is not set", "MESHCHECK_VM_IMAGE is not set"}},
		{"three nodes", map[string]string{"NODES": "3"}, []string{"NODES=3: want 1 or 2"}},
		{"bad flag", map[string]string{"KEEP_CLUSTER": "yes"}, []string{`KEEP_CLUSTER="yes": want 1 or 0`}},
		{"bad vars", map[string]string{"MESHCHECK_FIXTURE_VARS": "a=b novalue"}, []string{`"novalue" is not NAME=VALUE`}},
		{"bad DNS flag", map[string]string{"MESHCHECK_DNS_CAPTURE": "on"}, []string{`MESHCHECK_DNS_CAPTURE="on": want 1 or 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.set != nil {
				env = baseEnv()
				for k, v := range tt.set {
					env[k] = v
				}
			}
			_, err := OptionsFromEnv(envOf(env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	o, err := OptionsFromEnv(envOf(baseEnv()))
	if err != nil {
		t.Fatal(err)
	}
	o.Install.IngressNodePort = 30081
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "maps NodePort 30080 but Istio would put the ingress on 30081") {
		t.Errorf("mismatched ports: %v", err)
	}
	o.Install.IngressNodePort = 0
	o.Istioctl = ""
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "no istioctl") {
		t.Errorf("no istioctl: %v", err)
	}
}
