package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/meshcheck/meshcheck/internal/textgolden"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "meshcheck")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want func(r *Run)
	}{
		{"nothing set: the defaults", nil, func(*Run) {}},
		{"make e2e-local", map[string]string{"MESHCHECK_BACKEND": "embedded", "MESHCHECK_BIN": bin, "MESHCHECK_REPORTS": "/r", "LABELS": "whoami || xds"},
			func(r *Run) { r.Binary, r.ReportDir, r.Labels = bin, "/r", "whoami || xds" }},
		{"make e2e with a mirror", map[string]string{"MESHCHECK_BACKEND": "kind", "ISTIO_VERSION": "1.30.4", "IMAGE_REGISTRY": "mirror.example:5000", "NODES": "2", "KEEP_CLUSTER": "1", "MESHCHECK_ISTIO_MIRROR": "http://m.example/istio"},
			func(r *Run) {
				r.Backend, r.Istio.Version, r.ImageRegistry, r.Nodes, r.Keep, r.Istio.Mirror = Kind, "1.30.4", "mirror.example:5000", 2, true, "http://m.example/istio"
			}},
		{"make e2e-airgap with the Makefile's exports", map[string]string{"MESHCHECK_BACKEND": "kind", "IMAGE_REGISTRY": "meshcheck.local", "ISTIO_HUB": "meshcheck.local/istio", "ISTIO_TAG": "local", "FIXTURE_TAG": "local", "K8S_VERSION": "1.34.4", "ISTIO_SRC": "/src/istio", "KEEP_CLUSTER": "false"},
			func(r *Run) {
				r.Backend, r.ImageRegistry, r.Istio.Source = Kind, "meshcheck.local", "/src/istio"
				r.Local = LocalImages{IstioHub: "meshcheck.local/istio", IstioTag: "local", FixtureTag: "local", K8sVersion: "1.34.4"}
			}},
		{"an Envoy version", map[string]string{"MESHCHECK_ENVOY": "1.36.2"}, func(r *Run) { r.Envoy = "1.36.2" }},
		{"a declared proxy version", map[string]string{"MESHCHECK_PROXY_VERSION": "1.32.0"}, func(r *Run) { r.ProxyVersion = "1.32.0" }},
		{"a kind run ignores a missing Envoy path (make images reads it)", map[string]string{"MESHCHECK_BACKEND": "kind", "MESHCHECK_ENVOY": "/no/such/envoy"},
			func(r *Run) { r.Backend, r.Envoy = Kind, "/no/such/envoy" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FromEnv:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"unknown backend", map[string]string{"MESHCHECK_BACKEND": "k3s"}, []string{`Backend (--backend, $MESHCHECK_BACKEND): "k3s": want embedded, kind or kube`}},
		{"kube without a kubeconfig", map[string]string{"MESHCHECK_BACKEND": "kube"}, []string{"Kube.Kubeconfig (--kubeconfig, $KUBECONFIG): the kube backend needs a kubeconfig"}},
		{"kube with a bad Istio mode", map[string]string{"MESHCHECK_BACKEND": "kube", "KUBECONFIG": "k", "MESHCHECK_ISTIO": "helm"}, []string{`Kube.Istio (--istio, $MESHCHECK_ISTIO): "helm": want install or existing`}},
		{"three nodes", map[string]string{"MESHCHECK_BACKEND": "kind", "NODES": "3"}, []string{"Nodes (--nodes, $NODES): 3: want 1 or 2"}},
		{"nodes not a number", map[string]string{"NODES": "two"}, []string{`Nodes (--nodes, $NODES): "two": want 1 or 2`}},
		{"two embedded nodes", map[string]string{"NODES": "2"}, []string{"Nodes (--nodes, $NODES): 2: only the kind backend has nodes"}},
		{"keep is not a bool", map[string]string{"KEEP_CLUSTER": "yes"}, []string{`Keep (--keep, $KEEP_CLUSTER): "yes": want 1 or 0`}},
		{"a release on the embedded backend", map[string]string{"ISTIO_VERSION": "1.30.4"}, []string{"Istio.Version (--istio-version, $ISTIO_VERSION): 1.30.4: only the kind and kube backends install a release"}},
		{"a malformed release", map[string]string{"MESHCHECK_BACKEND": "kind", "ISTIO_VERSION": "v1.30"}, []string{`Istio.Version (--istio-version, $ISTIO_VERSION): istiorelease: bad option: version "v1.30"`}},
		{"release and source", map[string]string{"MESHCHECK_BACKEND": "kind", "ISTIO_VERSION": "1.30.4", "ISTIO_SRC": "/src"}, []string{"a release and a source checkout (Istio.Source, --istio-src, $ISTIO_SRC = /src) exclude each other"}},
		{"a mirror that is no URL", map[string]string{"MESHCHECK_ISTIO_MIRROR": "mirror.example"}, []string{`Istio.Mirror (--istio-mirror, $MESHCHECK_ISTIO_MIRROR): "mirror.example": want an http or https URL`}},
		{"an Envoy that is neither", map[string]string{"MESHCHECK_ENVOY": "envoy"}, []string{`Envoy (--envoy, $MESHCHECK_ENVOY): "envoy": want a path to an Envoy binary or a release (1.37, 1.37.0)`}},
		{"a proxy version that is no release", map[string]string{"MESHCHECK_PROXY_VERSION": "1.32"}, []string{`ProxyVersion (--proxy-version, $MESHCHECK_PROXY_VERSION): "1.32": want an Istio release X.Y.Z (1.32.0)`}},
		{"a missing Envoy", map[string]string{"MESHCHECK_ENVOY": "/no/such/envoy"}, []string{"Envoy (--envoy, $MESHCHECK_ENVOY): stat /no/such/envoy: no such file or directory"}},
		{"a missing meshcheck binary", map[string]string{"MESHCHECK_BIN": "/no/such/meshcheck"}, []string{"Binary (--meshcheck-bin, $MESHCHECK_BIN): stat /no/such/meshcheck"}},
		{"a registry with a scheme", map[string]string{"IMAGE_REGISTRY": "https://mirror"}, []string{`ImageRegistry (--image-registry, $IMAGE_REGISTRY): "https://mirror": want a registry`}},
		{"a bad Kubernetes version", map[string]string{"K8S_VERSION": "latest"}, []string{`Local.K8sVersion (--k8s-version, $K8S_VERSION): "latest": want a Kubernetes version X.Y.Z`}},
		{"every problem at once", map[string]string{"MESHCHECK_BACKEND": "k3s", "NODES": "0", "KEEP_CLUSTER": "on"},
			[]string{`$KEEP_CLUSTER): "on"`}},
		{"every validation problem at once", map[string]string{"MESHCHECK_BACKEND": "k3s", "NODES": "0"},
			[]string{`$MESHCHECK_BACKEND): "k3s"`, "$NODES): 0: want 1 or 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(envOf(tt.env))
			if err == nil {
				t.Fatalf("FromEnv(%v): no error, want %q", tt.env, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Run)
		want string // "" = valid
	}{
		{"defaults", func(*Run) {}, ""},
		{"kind with everything", func(r *Run) {
			r.Backend, r.Nodes, r.Kind.Cluster, r.Kind.Reuse, r.Mesh.DNSCapture, r.Mesh.DNSAutoAllocate, r.Mesh.AccessLogEncoding = Kind, 2, "c", true, true, true, "text"
		}, ""},
		{"reuse without a name", func(r *Run) { r.Backend, r.Kind.Reuse = Kind, true }, "Kind.Reuse (--reuse-cluster): reusing a cluster needs its name"},
		{"auto-allocate without capture", func(r *Run) { r.Mesh.DNSAutoAllocate = true }, "Mesh.DNSAutoAllocate (--dns-auto-allocate): needs Mesh.DNSCapture"},
		{"bad encoding", func(r *Run) { r.Mesh.AccessLogEncoding = "yaml" }, `Mesh.AccessLogEncoding (--access-log-encoding): "yaml": want TEXT or JSON`},
		{"no report directory", func(r *Run) { r.ReportDir = "" }, "ReportDir (--report-dir, $MESHCHECK_REPORTS): empty"},
		{"Envoy not executable", func(r *Run) { r.Envoy = "/etc/os-release" }, "Envoy (--envoy, $MESHCHECK_ENVOY): /etc/os-release: not an executable file"},
		{"Envoy a directory", func(r *Run) { r.Envoy = "/etc/" }, "Envoy (--envoy, $MESHCHECK_ENVOY): /etc/: not an executable file"},
		{"bad hub", func(r *Run) { r.Local.IstioHub = "Hub" }, `Local.IstioHub (--istio-hub, $ISTIO_HUB): "Hub"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Default()
			tt.edit(&r)
			err := r.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAddFlags(t *testing.T) {
	tests := []struct {
		args []string
		want func(r *Run)
		err  string
	}{
		{nil, func(*Run) {}, ""},
		{[]string{"--backend=kind", "--istio-version", "1.31.1", "--nodes=2", "--keep", "--labels", "xds", "--kind-images", "a:1  b:2", "--fixture-vars", "b=2 a=1", "--vm-command", "--name {name}", "--dns-capture"},
			func(r *Run) {
				r.Backend, r.Istio.Version, r.Nodes, r.Keep, r.Labels = Kind, "1.31.1", 2, true, "xds"
				r.Kind.Images, r.Kind.FixtureVars, r.Kind.VMCommand, r.Mesh.DNSCapture = []string{"a:1", "b:2"}, map[string]string{"a": "1", "b": "2"}, []string{"--name", "{name}"}, true
			}, ""},
		{[]string{"--keep=false", "--parity=1"}, func(r *Run) { r.Mesh.Parity = true }, ""},
		{[]string{"--nodes=x"}, nil, `invalid argument "x" for "--nodes" flag: "x": want 1 or 2`},
		{[]string{"--fixture-vars=novalue"}, nil, `"novalue" is not NAME=VALUE`},
		{[]string{"--keep=maybe"}, nil, `"maybe": want 1 or 0`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := Default()
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			fs.SetOutput(&strings.Builder{})
			r.AddFlags(fs)
			err := fs.Parse(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse(%q): %v, want %q", tt.args, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(r, want) {
				t.Errorf("flags %q:\n got %s\nwant %s", tt.args, r, want)
			}
		})
	}
}

// The round trip: String renders flags that parse back to the same run.
func TestStringRoundTrip(t *testing.T) {
	r := Default()
	r.Backend, r.Nodes, r.Kind.FixtureVars, r.Kind.VMCommand, r.Mesh.Parity = Kind, 2, map[string]string{"x": "1"}, []string{"--port", "80"}, true
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	got := Default()
	got.AddFlags(fs)
	if err := fs.Parse(strings.Fields(strings.ReplaceAll(r.String(), "--vm-command=--port 80", "--vm-command=--port\x0080"))); err != nil {
		t.Fatal(err)
	}
	got.Kind.VMCommand = strings.Fields(strings.ReplaceAll(strings.Join(got.Kind.VMCommand, " "), "\x00", " "))
	if !reflect.DeepEqual(got, r) {
		t.Errorf("String %q parsed back to %s", r.String(), got)
	}
}

// Every rule and every error names a field the table holds, each flag and
// variable is declared once.
func TestTableConsistent(t *testing.T) {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, f := range fields {
		if flags[f.flag] || (f.env != "" && envs[f.env]) {
			t.Errorf("field %s: flag --%s or $%s declared twice", f.name, f.flag, f.env)
		}
		flags[f.flag], envs[f.env] = true, true
		if f.usage == "" || f.def == "" || f.get == nil || f.set == nil {
			t.Errorf("field %s: incomplete row", f.name)
		}
		if f.env != "" && f.targets == "" {
			t.Errorf("field %s: $%s names no make target", f.name, f.env)
		}
	}
	for _, c := range checks {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("check of %s: %v", c.field, p)
				}
			}()
			lookup(c.field)
		}()
	}
}

// README.md's "Environment variables" section carries EnvTable verbatim;
// MESHCHECK_UPDATE_GOLDEN=1 (make golden) writes it there.
func TestReadmeEnvTableGolden(t *testing.T) {
	path := filepath.Join("..", "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, section, ok := strings.Cut(string(readme), "\n## Environment variables\n")
	if !ok {
		t.Fatal(`README.md has no "## Environment variables" section`)
	}
	section, after, _ := strings.Cut(section, "\n## ")
	start := strings.Index(section, "\n| variable |") + 1
	if start == 0 {
		t.Fatalf("README.md's Environment variables section has no table:\n%s", section)
	}
	end := start
	for end < len(section) && section[end] == '|' {
		end += strings.IndexByte(section[end:], '\n') + 1
	}
	table := section[start:end]
	want := EnvTable()
	if table == want {
		return
	}
	if os.Getenv(textgolden.UpdateEnv) == "1" {
		section = section[:start] + want + section[end:]
		if err := os.WriteFile(path, []byte(before+"\n## Environment variables\n"+section+"\n## "+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's Environment variables table differs from config.EnvTable() (%s=1 rewrites it):\n%s", textgolden.UpdateEnv, textgolden.Diff(table, want))
}
