package golden_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
)

func td(p string) string { return filepath.Join("..", "testdata", p) }

func TestGolden(t *testing.T) {
	for _, tc := range []struct{ dump, golden string }{
		{"pilot/gateway-config_dump.json", "golden/pilot-gateway.json"},
		{"pilot/sleep-config_dump.json", "golden/pilot-sleep.json"},
		{"samples/productpage-config_dump.minimal.json", "golden/productpage-minimal.json"},
	} {
		t.Run(tc.dump, func(t *testing.T) {
			d, err := xds.ParseFile(td(tc.dump), xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, td(tc.golden), d, golden.Options{RedactEndpointIPs: true})
		})
	}
}

// What changes between runs without changing behaviour leaves no diff.
func TestNormalizeIgnoresNoise(t *testing.T) {
	a := xdstest.Load(t, td("samples/productpage-config_dump.json"))
	b := xdstest.Load(t, td("samples/productpage-config_dump.json"))
	cl := b.Section(t, "ClustersConfigDump")
	list := xdstest.List(cl, "dynamic_active_clusters")
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	for _, c := range list {
		c.(map[string]any)["version_info"] = "2027-01-01T00:00:00Z/99"
		c.(map[string]any)["last_updated"] = "2027-01-01T00:00:00Z"
	}
	ep := xdstest.List(b.Section(t, "EndpointsConfigDump"), "dynamic_endpoint_configs")
	for _, e := range ep {
		lbs, _ := xdstest.Get(e, "endpoint_config", "endpoints").([]any)
		for _, le := range lbs {
			l, _ := le.(map[string]any)["lb_endpoints"].([]any)
			for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
				l[i], l[j] = l[j], l[i]
			}
		}
	}
	na, err := golden.Normalize(a.Parse(t), golden.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := golden.Normalize(b.Parse(t), golden.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cs := golden.Diff(na, nb); len(cs) > 0 {
		t.Errorf("noise produced a diff:\n%s", golden.Format(cs))
	}
}

func TestDiff(t *testing.T) {
	base := func(t *testing.T) xdstest.Doc { return xdstest.Load(t, td("samples/productpage-config_dump.json")) }
	cases := []struct {
		name string
		edit func(t *testing.T, d xdstest.Doc)
		want []string
	}{
		{
			name: "weight step",
			edit: func(t *testing.T, d xdstest.Doc) {
				for _, r := range xdstest.List(d.Section(t, "RoutesConfigDump"), "dynamic_route_configs") {
					for _, vh := range xdstest.Get(r, "route_config", "virtual_hosts").([]any) {
						if vh.(map[string]any)["name"] != "reviews.default.svc.cluster.local:9080" {
							continue
						}
						wcs := xdstest.Get(vh, "routes", 0, "route", "weighted_clusters", "clusters").([]any)
						wcs[0].(map[string]any)["weight"] = 50
						wcs[1].(map[string]any)["weight"] = 50
					}
				}
			},
			want: []string{
				"~ route 9080: virtual_hosts[reviews.default.svc.cluster.local:9080].routes[0].route.weighted_clusters.clusters[outbound|9080|v1|reviews.default.svc.cluster.local].weight: 90 -> 50",
				"~ route 9080: virtual_hosts[reviews.default.svc.cluster.local:9080].routes[0].route.weighted_clusters.clusters[outbound|9080|v2|reviews.default.svc.cluster.local].weight: 10 -> 50",
			},
		},
		{
			name: "cluster removed, endpoints gone",
			edit: func(t *testing.T, d xdstest.Doc) {
				xdstest.Filter(d.Section(t, "ClustersConfigDump"), "dynamic_active_clusters", func(m map[string]any) bool {
					return xdstest.ClusterName(m) != "outbound|9080|v3|reviews.default.svc.cluster.local"
				})
				xdstest.Filter(d.Section(t, "EndpointsConfigDump"), "dynamic_endpoint_configs", func(m map[string]any) bool {
					return xdstest.EndpointCluster(m) != "outbound|9080|v3|reviews.default.svc.cluster.local"
				})
			},
			want: []string{
				"- cluster outbound|9080|v3|reviews.default.svc.cluster.local",
				"- endpoint outbound|9080|v3|reviews.default.svc.cluster.local",
			},
		},
		{
			name: "connect timeout changed",
			edit: func(t *testing.T, d xdstest.Doc) {
				for _, c := range xdstest.List(d.Section(t, "ClustersConfigDump"), "dynamic_active_clusters") {
					if xdstest.ClusterName(c.(map[string]any)) == "outbound|9080||ratings.default.svc.cluster.local" {
						xdstest.Get(c, "cluster").(map[string]any)["connect_timeout"] = "5s"
					}
				}
			},
			want: []string{`~ cluster outbound|9080||ratings.default.svc.cluster.local: connect_timeout: "10s" -> unset (Envoy's default "5s")`},
		},
		{
			name: "use_remote_address false made unset: Envoy reads both alike",
			edit: func(t *testing.T, d xdstest.Doc) {
				everyObject(d, func(m map[string]any) {
					if m["use_remote_address"] == false {
						delete(m, "use_remote_address")
					}
				})
			},
			want: nil,
		},
		{
			name: "empty healthy panic threshold (0%, panic mode off) made unset (50%)",
			edit: func(t *testing.T, d xdstest.Doc) {
				for _, c := range xdstest.List(d.Section(t, "ClustersConfigDump"), "dynamic_active_clusters") {
					if xdstest.ClusterName(c.(map[string]any)) == "outbound|9080||ratings.default.svc.cluster.local" {
						delete(xdstest.Get(c, "cluster", "common_lb_config").(map[string]any), "healthy_panic_threshold")
					}
				}
			},
			want: []string{`~ cluster outbound|9080||ratings.default.svc.cluster.local: common_lb_config.healthy_panic_threshold: {} -> unset (Envoy's default {"value":50})`},
		},
		{
			name: "overall sampling 100% (the default) made an empty Percent (0%)",
			edit: func(t *testing.T, d xdstest.Doc) {
				l := xdstest.List(d.Section(t, "ListenersConfigDump"), "dynamic_listeners")
				for _, x := range l {
					if xdstest.Get(x, "name") == "0.0.0.0_9080" {
						everyObject(x, func(m map[string]any) {
							if _, ok := m["overall_sampling"]; ok {
								m["overall_sampling"] = map[string]any{}
							}
						})
					}
				}
			},
			want: []string{`~ listener 0.0.0.0_9080: filter_chains[0].filters[0].typed_config.tracing.overall_sampling: unset (Envoy's default {"value":100}) -> {}`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := base(t), base(t)
			tc.edit(t, b)
			na, err := golden.Normalize(a.Parse(t), golden.Options{})
			if err != nil {
				t.Fatal(err)
			}
			nb, err := golden.Normalize(b.Parse(t), golden.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.TrimSpace(golden.Format(golden.Diff(na, nb)))
			if got != strings.Join(tc.want, "\n") {
				t.Errorf("diff:\n%s\nwant:\n%s", got, strings.Join(tc.want, "\n"))
			}
		})
	}
}

type fakeTB struct{ errs []string }

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Errorf(format string, a ...any) { f.errs = append(f.errs, fmt.Sprintf(format, a...)) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.errs = append(f.errs, fmt.Sprintf(format, a...)) }
func (f *fakeTB) Logf(string, ...any)            {}

// A changed dump against an existing golden fails with the semantic diff.
func TestAssertReportsDiff(t *testing.T) {
	if golden.Updating() {
		t.Skip("goldens are being refreshed")
	}
	d := xdstest.Load(t, td("pilot/gateway-config_dump.json"))
	xdstest.Filter(d.Section(t, "ClustersConfigDump"), "dynamic_active_clusters", func(m map[string]any) bool {
		return xdstest.ClusterName(m) != "outbound|80|v2|whoami.default.svc.cluster.local"
	})
	tb := &fakeTB{}
	golden.Assert(tb, td("golden/pilot-gateway.json"), d.Parse(t), golden.Options{RedactEndpointIPs: true})
	if len(tb.errs) != 1 {
		t.Fatalf("errors = %q, want one", tb.errs)
	}
	for _, want := range []string{"golden ../testdata/golden/pilot-gateway.json differs (1 changes", golden.UpdateEnv, "- cluster outbound|80|v2|whoami.default.svc.cluster.local"} {
		if !strings.Contains(tb.errs[0], want) {
			t.Errorf("message %q does not contain %q", tb.errs[0], want)
		}
	}
	tb = &fakeTB{}
	golden.Assert(tb, td("golden/does-not-exist.json"), d.Parse(t), golden.Options{})
	if len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "make golden") {
		t.Errorf("missing golden: %q", tb.errs)
	}
}

// DynamicOnly keeps what the control plane sent and drops the bootstrap's.
func TestDynamicOnly(t *testing.T) {
	d, err := xds.Parse([]byte(`{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
  "static_clusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "xds-grpc"}}],
  "dynamic_active_clusters": [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "outbound|80||a"}}]}]}`), xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dynamicOnly bool
		want        int
	}{{false, 2}, {true, 1}} {
		doc, err := golden.Normalize(d, golden.Options{DynamicOnly: tc.dynamicOnly})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(doc["clusters"]); got != tc.want {
			t.Errorf("DynamicOnly=%v: %d clusters, want %d: %v", tc.dynamicOnly, got, tc.want, doc["clusters"])
		}
	}
}

// everyObject calls fn for every JSON object in v.
func everyObject(v any, fn func(map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(t)
		for _, x := range t {
			everyObject(x, fn)
		}
	case []any:
		for _, x := range t {
			everyObject(x, fn)
		}
	case xdstest.Doc:
		everyObject(map[string]any(t), fn)
	}
}
