package envoylab

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"no name", "route_config: {}\nrequests: [{path: /}]", "name: missing"},
		{"no route config", "name: x\nrequests: [{path: /}]", "route_config: give exactly one"},
		{"both route configs", "name: x\nroute_config: {}\nroute_config_from: {dump: d, route: r}\nrequests: [{path: /}]", "route_config: give exactly one"},
		{"no requests", "name: x\nroute_config: {}", "requests: none"},
		{"bad kind", "name: x\nroute_config: {}\nclusters: [{name: a, kind: dynamic}]\nrequests: [{path: /}]", `clusters[0].kind: "dynamic"`},
		{"relative path", "name: x\nroute_config: {}\nrequests: [{path: x}]", `requests[0].path: "x"`},
		{"unknown field", "name: x\nroute_config: {}\nrequests: [{path: /, hdrs: {}}]", "hdrs"},
		{"missing dump", "name: x\nroute_config_from: {dump: nope.json, route: r}\nrequests: [{path: /}]", "route_config_from: parse dump"},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "case.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("Load error = %v, want one naming %s and containing %q", err, p, tc.want)
			}
		})
	}
}

func TestClusterSpecs(t *testing.T) {
	c := &Case{
		RouteConfig: map[string]any{"virtual_hosts": []any{map[string]any{"routes": []any{
			map[string]any{"route": map[string]any{"cluster": "a", "request_mirror_policies": []any{map[string]any{"cluster": "m"}}}},
			map[string]any{"route": map[string]any{"weighted_clusters": map[string]any{"clusters": []any{
				map[string]any{"name": "b", "weight": 1}, map[string]any{"name": "g", "weight": 1}}}}},
			map[string]any{"name": "not-a-cluster", "direct_response": map[string]any{"status": 200}},
		}}}},
		Clusters: []ClusterSpec{{Name: "g", Kind: KindMissing}, {Name: "x", Kind: KindDNS}},
	}
	want := []ClusterSpec{{Name: "a", Kind: KindEcho}, {Name: "b", Kind: KindEcho}, {Name: "g", Kind: KindMissing}, {Name: "m", Kind: KindEcho}, {Name: "x", Kind: KindDNS}}
	if got := c.clusterSpecs(); !reflect.DeepEqual(got, want) {
		t.Errorf("clusterSpecs() = %v, want %v", got, want)
	}
}
