package suite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/fixtures"
)

// fakeBackend records what the harness asks of it; methods the harness
// does not call are the nil interface's (they panic).
type fakeBackend struct {
	backend.Backend
	features []backend.Feature
	calls    []string
	proxies  []backend.Proxy
	failSync error
	vars     map[string]string
}

func (f *fakeBackend) Name() string                   { return "fake" }
func (f *fakeBackend) Namespace(ns string) string     { return ns }
func (f *fakeBackend) Features() []backend.Feature    { return f.features }
func (f *fakeBackend) FixtureVars() map[string]string { return f.vars }
func (f *fakeBackend) Up(context.Context) error       { f.calls = append(f.calls, "up"); return nil }
func (f *fakeBackend) WaitReady(context.Context) error {
	f.calls = append(f.calls, "ready")
	return nil
}
func (f *fakeBackend) Apply(_ context.Context, set *fixtures.Set) error {
	f.calls = append(f.calls, "apply "+setName(set))
	return nil
}
func (f *fakeBackend) Delete(_ context.Context, set *fixtures.Set) error {
	var names []string
	for _, c := range set.Configs {
		names = append(names, c.Kind+"/"+c.Name)
	}
	for _, r := range set.HTTPRoutes {
		names = append(names, "HTTPRoute/"+r.Name)
	}
	f.calls = append(f.calls, "delete "+strings.Join(names, ","))
	return nil
}
func (f *fakeBackend) StartVM(_ context.Context, ns, name string) (backend.Workload, error) {
	f.calls = append(f.calls, "vm")
	return backend.Workload{Namespace: ns, Name: name, IP: "10.1.2.3"}, nil
}
func (f *fakeBackend) Versions(context.Context) (backend.Versions, error) {
	return backend.Versions{Istio: "1.31.1", Envoy: "1.40.0"}, nil
}
func (f *fakeBackend) Mark(context.Context) (backend.Mark, error) { return backend.Mark{}, nil }
func (f *fakeBackend) Proxies(context.Context) ([]backend.Proxy, error) {
	return f.proxies, nil
}
func (f *fakeBackend) Workloads(context.Context) ([]backend.Workload, error) {
	var out []backend.Workload
	for _, p := range f.proxies {
		out = append(out, p.Workload)
	}
	return out, nil
}
func (f *fakeBackend) Sync(context.Context) ([]backend.ProxySync, error) { return nil, f.failSync }
func (f *fakeBackend) ConfigDump(_ context.Context, p backend.Proxy) ([]byte, error) {
	return []byte(`{"configs":[]}`), nil
}
func (f *fakeBackend) AccessLogs(context.Context, backend.Proxy, backend.Mark) ([]byte, error) {
	return []byte("log line\n"), nil
}
func (f *fakeBackend) InterceptionRules(context.Context, backend.Workload) ([]byte, error) {
	return nil, errors.New("no iptables-save here")
}

func setName(set *fixtures.Set) string {
	if set.Step == "" {
		return set.Fixture.Name
	}
	return set.Fixture.Name + "@" + set.Step
}

// upSuite is a suite over a fake backend, up with the default fixtures.
func upSuite(t *testing.T, testdata string) (*Suite, *fakeBackend) {
	t.Helper()
	f := &fakeBackend{features: []backend.Feature{backend.FeatureVM, backend.FeatureAccessLogs}}
	s, err := New(Options{Backend: f, Reports: t.TempDir(), TestData: testdata})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"up", "vm", "apply bookinfo", "apply whoami@90-10", "apply vm@100-0", "ready"}; !reflect.DeepEqual(f.calls, want) {
		t.Fatalf("Up called %v, want %v", f.calls, want)
	}
	if s.Versions.Istio != "1.31.1" {
		t.Errorf("Versions = %v, want the backend's", s.Versions)
	}
	if _, err := os.Stat(filepath.Join(s.Reports, "e2e-fake.timing.json")); err != nil {
		t.Errorf("no report: %v", err)
	}
	f.calls = nil
	return s, f
}

func TestSetupAppliesAndRestores(t *testing.T) {
	data := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(data, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("canary.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: canary\n  namespace: {{ .Namespace }}\nspec:\n  hosts: [canary.example.com]\n")
	write("pod.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: {{ .Namespace }}\n")
	for _, tc := range []struct {
		name               string
		test               Test
		wantSetup, wantEnd []string
		wantErr            string
	}{
		{name: "a step, put back after", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "whoami", Step: "50-50"}}},
			wantSetup: []string{"apply whoami@50-50", "ready"}, wantEnd: []string{"apply whoami@90-10", "ready"}},
		{name: "the step in place: nothing to do", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "whoami", Step: "90-10"}, {Name: "bookinfo"}}}},
		{name: "a step that replaces a config by name deletes nothing", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "vm", Step: "short-host"}}},
			wantSetup: []string{"apply vm@short-host", "ready"}, wantEnd: []string{"apply vm@100-0", "ready"}},
		{name: "a step adding a config: deleted after", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "bookinfo", Step: "reviews-90-10"}}},
			wantSetup: []string{"apply bookinfo@reviews-90-10", "ready"}, wantEnd: []string{"apply bookinfo", "delete VirtualService/reviews", "ready"}},
		{name: "a manifest, deleted after; steps undone last", test: Test{ShortName: "t", Namespace: "whoami", Manifests: []string{"canary.yaml"}, Fixtures: []Fixture{{Name: "whoami", Step: "50-50"}}},
			wantSetup: []string{"apply whoami@50-50", "apply .", "ready"}, wantEnd: []string{"delete VirtualService/canary", "apply whoami@90-10", "ready"}},
		{name: "a fixture the suite does not hold", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "nope", Step: "x"}}},
			wantErr: "test t: suite: fixture nope is not one of the suite's base fixtures [bookinfo whoami@90-10 vm@100-0]"},
		{name: "an unknown step", test: Test{ShortName: "t", Fixtures: []Fixture{{Name: "whoami", Step: "70-30"}}},
			wantErr: `unknown step "70-30" (have [90-10 50-50])`},
		{name: "a manifest with Kubernetes objects, after a step: the step is undone",
			test:      Test{ShortName: "t", Fixtures: []Fixture{{Name: "whoami", Step: "50-50"}}, Manifests: []string{"pod.yaml"}},
			wantSetup: []string{"apply whoami@50-50"}, wantEnd: []string{"apply whoami@90-10", "ready"},
			wantErr: "manifest pod.yaml (in " + data + ") holds Kubernetes objects [ServiceAccount default/sa (line 1)]"},
		{name: "a missing manifest", test: Test{ShortName: "t", Manifests: []string{"none.yaml"}}, wantErr: "manifest none.yaml (in " + data + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := upSuite(t, data)
			restore, err := s.Setup(context.Background(), tc.test)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Setup: error %v, want one containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.calls, tc.wantSetup) && len(f.calls)+len(tc.wantSetup) > 0 {
				t.Errorf("Setup called %v, want %v", f.calls, tc.wantSetup)
			}
			f.calls = nil
			if err := restore(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.calls, tc.wantEnd) && len(f.calls)+len(tc.wantEnd) > 0 {
				t.Errorf("restore called %v, want %v", f.calls, tc.wantEnd)
			}
			if got := s.state["whoami"]; got != "90-10" {
				t.Errorf("after restore whoami is at %q, want 90-10", got)
			}
		})
	}
}

func TestSkipReasonNamesTheFeature(t *testing.T) {
	s, _ := upSuite(t, "")
	for _, tc := range []struct {
		features []backend.Feature
		want     string
	}{
		{nil, ""},
		{[]backend.Feature{backend.FeatureVM}, ""},
		{[]backend.Feature{backend.FeatureVM, backend.FeatureMultiNode, backend.FeatureEvidence},
			"the fake backend lacks feature multi-node, evidence (it has [vm access-logs])"},
	} {
		if got := s.SkipReason(Test{Features: tc.features}); got != tc.want {
			t.Errorf("SkipReason(%v) = %q, want %q", tc.features, got, tc.want)
		}
	}
}

func TestFindersListCandidates(t *testing.T) {
	s, f := upSuite(t, "")
	f.proxies = []backend.Proxy{
		{Workload: backend.Workload{Namespace: "default", Name: "productpage-v1-abc", Proxy: backend.Sidecar}},
		{Workload: backend.Workload{Namespace: "istio-system", Name: "istio-ingressgateway-1", Proxy: backend.Gateway}},
	}
	ctx := context.Background()
	if p, err := s.Proxy(ctx, "default", "productpage"); err != nil || p.Name != "productpage-v1-abc" {
		t.Errorf("Proxy = %v, %v", p, err)
	}
	_, err := s.Proxy(ctx, "default", "reviews")
	if want := "suite: no proxy default/reviews*; have [default/productpage-v1-abc istio-system/istio-ingressgateway-1]"; err == nil || err.Error() != want {
		t.Errorf("Proxy: error %v, want %q", err, want)
	}
	_, err = s.Workload(ctx, "istio-system", "istiod")
	if err == nil || !strings.Contains(err.Error(), "no workload istio-system/istiod*; have [default/productpage-v1-abc") {
		t.Errorf("Workload: error %v", err)
	}
}

func TestFailedWritesEvidenceAndNamesWhatIsMissing(t *testing.T) {
	s, f := upSuite(t, "")
	f.features = append(f.features, backend.FeatureInterceptionRules)
	f.proxies = []backend.Proxy{{Workload: backend.Workload{Namespace: "default", Name: "productpage-v1", Proxy: backend.Sidecar}}}
	f.failSync = errors.New("syncz unreachable")
	err := s.Failed(context.Background(), "[It] whoami: splits 90/10", "expected 90/10, got 80/20")
	if err == nil || !strings.Contains(err.Error(), "sync.json: syncz unreachable") || !strings.Contains(err.Error(), "default.productpage-v1.iptables: no iptables-save here") {
		t.Fatalf("Failed: error %v, want the sync and rules failures named", err)
	}
	dir := filepath.Join(s.Reports, "evidence", "fake", "It-whoami-splits-90-10")
	for _, name := range []string{"failure.txt", "default.productpage-v1.config_dump.json", "default.productpage-v1.access.log", "evidence-errors.txt"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("evidence: %v", err)
		}
	}
}

func TestLoadFromACatalogWithTheBackendsVarsAndTheVM(t *testing.T) {
	fsys := fstest.MapFS{
		"demo/fixture.yaml": {Data: []byte("name: demo\ndescription: a demo\nlabels: [demo]\nnamespace: demo\nfiles: [vs.yaml]\n" +
			"vars:\n  vmAddress:\n    type: ip\n    description: the VM\n  tag:\n    default: v0\n    description: a tag\n")},
		"demo/vs.yaml": {Data: []byte("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: vm\n  namespace: {{ .Namespace }}\n" +
			"  labels:\n    tag: {{ .Vars.tag }}\nspec:\n  hosts: [vm.example.com]\n  endpoints:\n  - address: {{ .Vars.vmAddress }}\n")},
	}
	c, err := fixtures.NewCatalog(fsys)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{vars: map[string]string{"tag": "v9", "bookinfoTag": "not demo's"}}
	s, err := New(Options{Backend: f, Reports: t.TempDir(), Catalog: c, Fixtures: []Fixture{{Name: "demo"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("demo", ""); err == nil || !strings.Contains(err.Error(), `feature "vm"`) {
		t.Errorf("Load without a VM: error %v, want one naming the vm feature", err)
	}
	s.VM = backend.Workload{IP: "10.1.2.3"}
	set, err := s.Load("demo", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Vars; got["tag"] != "v9" || got["vmAddress"] != "10.1.2.3" {
		t.Errorf("vars %v, want tag v9 from the backend and the VM's address", got)
	}
	if _, err := s.Load("bookinfo", ""); err == nil || !strings.Contains(err.Error(), `unknown fixture "bookinfo" (have [demo])`) {
		t.Errorf("Load of a fixture outside the catalog: error %v", err)
	}
}

// suffixed is a backend whose namespaces are the run's own.
type suffixed struct{ fakeBackend }

func (suffixed) Namespace(ns string) string { return ns + "-4f2a" }

func TestRunNamespacesAndHosts(t *testing.T) {
	for _, tc := range []struct {
		name          string
		b             backend.Backend
		ns, host, gw  string
		bookinfoHost  string
		whoamiHost    string
		whoamiService string
	}{
		{"the run's own mesh", &fakeBackend{}, "default", "bookinfo.example.com", "default/bookinfo-gateway", "*", "whoami.example.com", "whoami.whoami.svc.cluster.local"},
		{"a shared cluster", &suffixed{}, "default-4f2a", "bookinfo-4f2a.example.com", "default-4f2a/bookinfo-gateway", "bookinfo-4f2a.example.com", "whoami-4f2a.example.com", "whoami.whoami-4f2a.svc.cluster.local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Backend: tc.b, Reports: t.TempDir(), TestData: filepath.Join("..", "suites", "tests", "testdata")})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.NS("default"); got != tc.ns {
				t.Errorf("NS: %q, want %q", got, tc.ns)
			}
			if got := s.Host("bookinfo.example.com"); got != tc.host {
				t.Errorf("Host: %q, want %q", got, tc.host)
			}
			bookinfo, err := s.Load("bookinfo", "")
			if err != nil {
				t.Fatal(err)
			}
			whoami, err := s.Load("whoami", "")
			if err != nil {
				t.Fatal(err)
			}
			if bookinfo.Namespace != tc.ns || bookinfo.Vars[HostVar] != tc.bookinfoHost || whoami.Vars[HostVar] != tc.whoamiHost {
				t.Errorf("bookinfo in %s on %q, whoami on %q", bookinfo.Namespace, bookinfo.Vars[HostVar], whoami.Vars[HostVar])
			}
			m, err := s.LoadManifest(Test{ShortName: "canary", Namespace: "whoami"}, "whoami-header-canary.yaml")
			if err != nil {
				t.Fatal(err)
			}
			c := m.Configs[0]
			if g, _ := c.Spec["gateways"].([]any); len(g) != 1 || g[0] != tc.gw {
				t.Errorf("gateways %v, want [%s]", c.Spec["gateways"], tc.gw)
			}
			if !strings.Contains(string(m.Documents[0].YAML), tc.whoamiService) || !strings.Contains(string(m.Documents[0].YAML), s.Host("canary.example.com")) {
				t.Errorf("manifest:\n%s\nwant %s and host %s", m.Documents[0].YAML, tc.whoamiService, s.Host("canary.example.com"))
			}
		})
	}
}

// Through the Gateway API, the step that adds reviews' GAMMA HTTPRoute
// deletes it when put back; a test written for the Istio ingress is
// skipped, the variable named.
func TestGatewayAPIRun(t *testing.T) {
	s, f := upSuite(t, "")
	f.vars = map[string]string{"ingress": "gateway-api"}
	restore, err := s.Setup(context.Background(), Test{ShortName: "t", Fixtures: []Fixture{{Name: "bookinfo", Step: "reviews-90-10"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.calls = nil
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"apply bookinfo", "delete HTTPRoute/reviews", "ready"}; !reflect.DeepEqual(f.calls, want) {
		t.Errorf("restore called %v, want %v", f.calls, want)
	}
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"ingress": "istio"}, "written for the fixtures' ingress=istio; this run's is ingress=gateway-api"},
		{map[string]string{"ingress": "gateway-api"}, ""},
		{map[string]string{"other": "x"}, ""},
	} {
		if got := s.SkipReason(Test{Vars: tc.vars}); got != tc.want {
			t.Errorf("SkipReason(%v) = %q, want %q", tc.vars, got, tc.want)
		}
	}
}
