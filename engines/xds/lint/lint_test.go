package lint_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
)

func sample(name string) string { return filepath.Join("..", "testdata", name) }

// Dumps Istio generated: no errors. Bookinfo's destination-rule-all.yaml
// declares subsets no pod carries (details v2, ratings v2, v2-mysql,
// v2-mysql-vm): exactly those are flagged, as warnings.
func TestIstioDumps(t *testing.T) {
	emptySubsets := []string{
		"cluster outbound|9080|v2-mysql-vm|ratings.default.svc.cluster.local",
		"cluster outbound|9080|v2-mysql|ratings.default.svc.cluster.local",
		"cluster outbound|9080|v2|details.default.svc.cluster.local",
		"cluster outbound|9080|v2|ratings.default.svc.cluster.local",
	}
	cases := map[string][]string{
		"samples/gateway-config_dump.json":             emptySubsets,
		"samples/gateway-config_dump.minimal.json":     emptySubsets,
		"samples/productpage-config_dump.json":         emptySubsets,
		"samples/productpage-config_dump.minimal.json": emptySubsets,
		"pilot/gateway-config_dump.json":               nil,
		"pilot/sleep-config_dump.json":                 nil,
	}
	for f, wantWarned := range cases {
		t.Run(f, func(t *testing.T) {
			d, err := xds.ParseFile(sample(f), xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fs := lint.Lint(d)
			var warned []string
			for _, f := range fs {
				if f.Severity != lint.Warning || f.Rule != lint.NoHealthyEndpoint {
					t.Errorf("unexpected finding: %v", f)
					continue
				}
				warned = append(warned, f.Resource)
			}
			sort.Strings(warned)
			if strings.Join(warned, "\n") != strings.Join(wantWarned, "\n") {
				t.Errorf("no-healthy-endpoint warnings for\n%s\nwant\n%s", strings.Join(warned, "\n"), strings.Join(wantWarned, "\n"))
			}
		})
	}
}

func TestFindings(t *testing.T) {
	const gw = "samples/gateway-config_dump.json"
	const pp = "samples/productpage-config_dump.json"
	cases := []struct {
		name   string
		file   string
		edit   func(t *testing.T, d xdstest.Doc)
		sev    lint.Severity
		rule   lint.Rule
		substr []string
	}{
		{
			name: "listener references a route config the dump lacks",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				xdstest.Filter(d.Section(t, "RoutesConfigDump"), "dynamic_route_configs", func(m map[string]any) bool { return xdstest.RouteName(m) != "http.8080" })
			},
			sev: lint.Error, rule: lint.MissingRouteConfig,
			substr: []string{`"http.8080"`, "listener 0.0.0.0_8080", "404"},
		},
		{
			name: "route references a cluster CDS lacks",
			file: pp,
			edit: func(t *testing.T, d xdstest.Doc) {
				xdstest.Filter(d.Section(t, "ClustersConfigDump"), "dynamic_active_clusters", func(m map[string]any) bool {
					return xdstest.ClusterName(m) != "outbound|9080|v2|reviews.default.svc.cluster.local"
				})
			},
			sev: lint.Error, rule: lint.MissingCluster,
			substr: []string{"outbound|9080|v2|reviews", "503", "have outbound|9080|v"},
		},
		{
			name: "EDS cluster without assignment",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				xdstest.Filter(d.Section(t, "EndpointsConfigDump"), "dynamic_endpoint_configs", func(m map[string]any) bool {
					return xdstest.EndpointCluster(m) != "outbound|9080||details.default.svc.cluster.local"
				})
			},
			sev: lint.Error, rule: lint.NoAssignment,
			substr: []string{"outbound|9080||details"},
		},
		{
			name: "EDS cluster with only unhealthy endpoints",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				for _, e := range xdstest.List(d.Section(t, "EndpointsConfigDump"), "dynamic_endpoint_configs") {
					if xdstest.EndpointCluster(e.(map[string]any)) == "outbound|9080|v3|reviews.default.svc.cluster.local" {
						lb := xdstest.Get(e, "endpoint_config", "endpoints", 0, "lb_endpoints", 0).(map[string]any)
						lb["health_status"] = "UNHEALTHY"
					}
				}
			},
			sev: lint.Warning, rule: lint.NoHealthyEndpoint,
			substr: []string{"v3|reviews", "1 endpoints in all"},
		},
		{
			name: "NACKed route config",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				r := xdstest.List(d.Section(t, "RoutesConfigDump"), "dynamic_route_configs")[0].(map[string]any)
				r["error_state"] = map[string]any{"details": "duplicate domain *", "version_info": "2026-11-21T06:00:00Z/7"}
			},
			sev: lint.Error, rule: lint.Rejected,
			substr: []string{"route config http.8080", "duplicate domain *", "2026-11-21T06:00:00Z/7"},
		},
		{
			name: "warming cluster",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				s := d.Section(t, "ClustersConfigDump")
				active := xdstest.List(s, "dynamic_active_clusters")
				s["dynamic_warming_clusters"] = []any{active[0]}
				s["dynamic_active_clusters"] = active[1:]
			},
			sev: lint.Warning, rule: lint.Warming,
			substr: []string{"warming"},
		},
		{
			name: "duplicate domain across virtual hosts",
			file: pp,
			edit: func(t *testing.T, d xdstest.Doc) {
				vhs := xdstest.Get(xdstest.List(d.Section(t, "RoutesConfigDump"), "dynamic_route_configs")[0], "route_config", "virtual_hosts").([]any)
				doms := vhs[1].(map[string]any)["domains"].([]any)
				vhs[1].(map[string]any)["domains"] = append(doms, xdstest.Get(vhs[0], "domains", 0))
			},
			sev: lint.Warning, rule: lint.DuplicateDomain,
			substr: []string{"is in virtual hosts"},
		},
		{
			name: "unknown filter type",
			file: gw,
			edit: func(t *testing.T, d xdstest.Doc) {
				l := xdstest.List(d.Section(t, "ListenersConfigDump"), "dynamic_listeners")[0]
				fc := xdstest.Get(l, "active_state", "listener", "filter_chains", 0).(map[string]any)
				filters := fc["filters"].([]any)
				fc["filters"] = append([]any{map[string]any{"name": "acme.waf", "typed_config": map[string]any{
					"@type": "type.googleapis.com/acme.waf.v1.Config", "mode": "block"}}}, filters...)
			},
			sev: lint.Info, rule: lint.UnknownType,
			substr: []string{"acme.waf.v1.Config"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := xdstest.Load(t, sample(tc.file))
			tc.edit(t, doc)
			fs := lint.Lint(doc.Parse(t))
			var hit *lint.Finding
			for i := range fs {
				if fs[i].Rule == tc.rule {
					hit = &fs[i]
				}
			}
			if hit == nil {
				t.Fatalf("no %s finding; got %v", tc.rule, fs)
			}
			if hit.Severity != tc.sev {
				t.Errorf("severity = %s, want %s", hit.Severity, tc.sev)
			}
			for _, s := range tc.substr {
				if !strings.Contains(hit.String(), s) {
					t.Errorf("finding %q does not contain %q", hit, s)
				}
			}
			if got := lint.HasErrors(fs); got != (tc.sev == lint.Error) {
				t.Errorf("HasErrors = %v with findings %v", got, fs)
			}
		})
	}
}

// Every shape istioctl prints, made from the committed dumps: no error, and
// a reference into a type the shape lacks is named as not checked, never
// as missing.
func TestPartialDumps(t *testing.T) {
	mustNotCheck := map[string]xds.Type{
		"admin without include_eds": xds.TypeEndpoints,
		"listeners -o json":         xds.TypeRoutes,
		"routes -o json":            xds.TypeClusters,
		"clusters -o json":          xds.TypeEndpoints,
	}
	files := []string{"samples/gateway-config_dump.json", "samples/productpage-config_dump.minimal.json",
		"pilot/gateway-config_dump.json", "pilot/sleep-config_dump.json", "envoy/config_dump.eds.json"}
	for _, f := range files {
		for _, s := range xdstest.Shapes(t, sample(f)) {
			t.Run(f+"/"+s.Name, func(t *testing.T) {
				d, err := xds.Parse(s.Doc, xds.Options{Source: s.Name})
				if err != nil {
					t.Fatal(err)
				}
				notChecked := map[xds.Type]bool{}
				for _, fd := range lint.Lint(d) {
					switch {
					case fd.Rule == lint.NotChecked:
						typ := notCheckedType(t, d, fd)
						notChecked[typ] = true
					case fd.Rule == lint.NoHealthyEndpoint && d.Has(xds.TypeClusters) && d.Has(xds.TypeEndpoints):
					default:
						t.Errorf("false alarm on a dump holding %v: %v", d.Types(), fd)
					}
				}
				if want, ok := mustNotCheck[s.Name]; ok && !notChecked[want] {
					t.Errorf("no %s finding for %s; the dump holds %v", lint.NotChecked, want, d.Types())
				}
			})
		}
	}
}

// notCheckedType returns the type a not-checked finding names, which the
// dump must lack.
func notCheckedType(t *testing.T, d *xds.Dump, fd lint.Finding) xds.Type {
	t.Helper()
	for _, typ := range d.Lacks() {
		if strings.Contains(fd.Message, "lacks "+typ.XDS()+" ") && strings.Contains(fd.Message, "into "+string(typ)+" ") {
			if fd.Severity != lint.Info {
				t.Errorf("severity %s, want info: %v", fd.Severity, fd)
			}
			return typ
		}
	}
	t.Errorf("finding names no type the dump lacks (%v): %v", d.Lacks(), fd)
	return ""
}

// A real Envoy's dump (testdata/envoy): clean with include_eds; without it,
// only the note that its three EDS clusters' assignments were not checked.
func TestRealEnvoy(t *testing.T) {
	for file, want := range map[string][]string{
		"envoy/config_dump.eds.json": nil,
		"envoy/config_dump.json": {"info [not-checked] dump ../testdata/envoy/config_dump.json: the dump lacks EDS " +
			"(it holds bootstrap, LDS, RDS, SRDS, CDS, SDS): 3 references into endpoints not checked, e.g. api-v1, api-v2, web"},
	} {
		d, err := xds.ParseFile(sample(file), xds.Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range lint.Lint(d) {
			got = append(got, f.String())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: findings\n%s\nwant\n%s", file, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
