package xds_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
)

func mustParse(t testing.TB, path string) *xds.Dump {
	t.Helper()
	d, err := xds.ParseFile(path, xds.Options{})
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return d
}

// The samples are dumps Istio's real pilot generated for Bookinfo (see
// testdata/samples/README.md).
func TestParseSamples(t *testing.T) {
	cases := []struct {
		file                        string
		listeners, clusters, routes int
		endpoints                   int
		wantListener, wantRoute     string
		wantCluster                 string
		unknown                     int
	}{
		{"productpage-config_dump.json", 3, 18, 1, 14, "virtualOutbound", "9080", "outbound|9080|v1|reviews.default.svc.cluster.local", 0},
		{"productpage-config_dump.fakedefault.json", 3, 18, 1, 14, "virtualInbound", "9080", "outbound|9080||reviews.default.svc.cluster.local", 0},
		{"productpage-config_dump.minimal.json", 3, 18, 1, 14, "0.0.0.0_9080", "9080", "inbound|9080||", 0},
		{"gateway-config_dump.json", 1, 18, 1, 17, "0.0.0.0_8080", "http.8080", "outbound|9080||productpage.default.svc.cluster.local", 0},
		{"gateway-config_dump.minimal.json", 1, 18, 1, 17, "0.0.0.0_8080", "http.8080", "outbound|9080|v3|reviews.default.svc.cluster.local", 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			d := mustParse(t, filepath.Join("testdata", "samples", tc.file))
			if d.Shape != xds.ShapeAdmin {
				t.Errorf("shape = %q, want admin", d.Shape)
			}
			if !d.HasEndpoints {
				t.Errorf("HasEndpoints = false, want true (the samples include EDS)")
			}
			if _, ok := d.Listener(tc.wantListener); !ok {
				t.Errorf("listener %q not found; have %v", tc.wantListener, d.ListenerNames())
			}
			if _, ok := d.RouteConfig(tc.wantRoute); !ok {
				t.Errorf("route config %q not found; have %v", tc.wantRoute, d.RouteConfigNames())
			}
			if _, ok := d.Cluster(tc.wantCluster); !ok {
				t.Errorf("cluster %q not found; have %v", tc.wantCluster, d.ClusterNames())
			}
			t.Logf("listeners=%d clusters=%d routes=%d endpoints=%d unknown=%d warnings=%v",
				len(d.Listeners), len(d.Clusters), len(d.Routes), len(d.Endpoints), len(d.Unknown), d.Warnings)
			if got := [4]int{len(d.Listeners), len(d.Clusters), len(d.Routes), len(d.Endpoints)}; got != [4]int{tc.listeners, tc.clusters, tc.routes, tc.endpoints} {
				t.Errorf("listeners, clusters, routes, endpoints = %v, want %v", got, [4]int{tc.listeners, tc.clusters, tc.routes, tc.endpoints})
			}
			if len(d.Warnings) != 0 {
				t.Errorf("warnings on a clean dump: %v", d.Warnings)
			}
			if len(d.Unknown) != tc.unknown {
				t.Errorf("unknown payloads = %d, want %d: %+v", len(d.Unknown), tc.unknown, d.Unknown)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "samples", "gateway-config_dump.minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		in      string
		is      error
		wantSub []string
	}{
		{"empty", "", xds.ErrNotConfigDump, []string{"empty"}},
		{"spaces", "  \n ", xds.ErrNotConfigDump, []string{"empty"}},
		{"yaml", "configs:\n- foo: bar\n", xds.ErrNotConfigDump, []string{"YAML"}},
		{"truncated", string(valid[:len(valid)/2]), nil, []string{"truncated", "offset"}},
		{"other json", `{"kind": "Pod", "apiVersion": "v1"}`, xds.ErrNotConfigDump, []string{`no "configs"`, "kind"}},
		{"configs not array", `{"configs": {}}`, xds.ErrNotConfigDump, []string{"not an array"}},
		{"config without type", `{"configs": [{"foo": 1}]}`, xds.ErrNotConfigDump, []string{"configs[0]", "@type"}},
		{"bad field value", `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "version_info": 7}]}`, nil, []string{"configs[0].version_info", "expected a string", "1:"}},
		{"bad resource field", `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
 "dynamic_active_clusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c",
   "connect_timeout": "soon"}}]}]}`, nil, []string{"dump.json:3:", "dynamic_active_clusters[0].cluster", "not a valid envoy.config.cluster.v3.Cluster: invalid google.protobuf.Duration value \"soon\""}},
		{"resource of the wrong type", `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
 "dynamic_active_clusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "c"}}]}]}`, nil, []string{"expected envoy.config.cluster.v3.Cluster, found type.googleapis.com/envoy.config.listener.v3.Listener"}},
		{"truncated inside a resource", `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [{"cluster": {"name": "c`, nil, []string{"truncated"}},
		{"v2", `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v2alpha.ListenersConfigDump"}]}`, xds.ErrV2, []string{"v3"}},
		{"v2 listener", `[{"@type": "type.googleapis.com/envoy.api.v2.Listener", "name": "x"}]`, xds.ErrV2, []string{"v3"}},
		{"array of numbers", `[1, 2]`, xds.ErrNotConfigDump, []string{"objects"}},
		{"array of strangers", `[{"kind": "Pod"}]`, xds.ErrNotConfigDump, []string{"cannot tell"}},
		{"trailing data", `{"configs": []} {"configs": []}`, nil, []string{"after the document"}},
		{"number", `42`, xds.ErrNotConfigDump, []string{"not JSON"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xds.Parse([]byte(tc.in), xds.Options{Source: "dump.json"})
			if err == nil {
				t.Fatal("no error")
			}
			var pe *xds.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError: %v", err, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v: %v", tc.is, err)
			}
			if !strings.HasPrefix(err.Error(), "dump.json") {
				t.Errorf("error does not name the file: %v", err)
			}
			for _, s := range tc.wantSub {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// A lazy dump decodes on lookup: same answers as an eager one, safe for
// concurrent lookups, and a resource that does not decode is reported.
func TestLazy(t *testing.T) {
	path := filepath.Join("testdata", "samples", "productpage-config_dump.json")
	eager := mustParse(t, path)
	lazy, err := xds.ParseFile(path, xds.Options{Lazy: true})
	if err != nil {
		t.Fatal(err)
	}
	if !lazy.Lazy() || eager.Lazy() {
		t.Fatal("Lazy() does not say how the dump was parsed")
	}
	if got, want := strings.Join(lazy.ClusterNames(), ","), strings.Join(eager.ClusterNames(), ","); got != want {
		t.Errorf("lazy cluster names\n%s\nwant\n%s", got, want)
	}
	done := make(chan bool)
	for i := 0; i < 4; i++ {
		go func() {
			for _, n := range eager.ClusterNames() {
				if _, ok := lazy.Cluster(n); !ok {
					t.Errorf("lazy dump lost cluster %s", n)
				}
				lazy.EndpointsFor(n)
			}
			done <- true
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
	if len(lazy.Clusters) != 0 {
		t.Errorf("a lazy dump fills its slices: %d clusters", len(lazy.Clusters))
	}

	bad := `{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [
  {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c", "connect_timeout": "soon"}}]}]}`
	d, err := xds.Parse([]byte(bad), xds.Options{Lazy: true, Source: "bad.json"})
	if err != nil {
		t.Fatalf("a lazy parse decodes clusters on lookup, not now: %v", err)
	}
	if _, ok := d.Cluster("c"); ok {
		t.Error("a cluster that does not decode is found")
	}
	if errs := d.LoadErrors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "bad.json:2:") {
		t.Errorf("load errors = %v", errs)
	}
}

// Fields meshcheck's Envoy API does not know (a newer Envoy): named in a
// warning by default, an error with Strict; never dropped silently.
func TestUnknownFields(t *testing.T) {
	cases := map[string]struct{ doc, want string }{
		"section field": {`{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "future_clusters": []}]}`,
			`unknown field "future_clusters" in envoy.admin.v3.ClustersConfigDump`},
		"resource field": {`{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [
  {"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c", "warp_drive": true}}]}]}`,
			`warp_drive`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := xds.Parse([]byte(tc.doc), xds.Options{Source: "new.json"})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], tc.want) {
				t.Errorf("warnings = %q, want one naming %s", d.Warnings, tc.want)
			}
			if _, err := xds.Parse([]byte(tc.doc), xds.Options{Source: "new.json", Strict: true}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("strict: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
