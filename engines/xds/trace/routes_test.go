package trace_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// routeSuite is one testdata/routes file: a route configuration served by
// an HTTP connection manager on 0.0.0.0:8080, the clusters it names, and
// requests with the answer Envoy gives (from Envoy's documentation and
// source; see each file's comments).
type routeSuite struct {
	// HCM holds extra HttpConnectionManager fields (use_remote_address...).
	HCM map[string]any `yaml:"hcm"`
	// TLS makes the filter chain terminate TLS.
	TLS bool `yaml:"tls"`
	// Clusters are STATIC clusters with one endpoint each; DNSClusters are
	// STRICT_DNS clusters: name -> the endpoint's DNS name.
	Clusters    []string          `yaml:"clusters"`
	DNSClusters map[string]string `yaml:"dnsClusters"`
	RouteConfig map[string]any    `yaml:"route_config"`
	Cases       []routeCase       `yaml:"cases"`
}

type routeCase struct {
	Name    string `yaml:"name"`
	Request struct {
		Host    string            `yaml:"host"`
		Path    string            `yaml:"path"`
		Method  string            `yaml:"method"`
		Scheme  string            `yaml:"scheme"`
		Source  string            `yaml:"source"`
		Headers map[string]string `yaml:"headers"`
	} `yaml:"request"`
	Expect struct {
		Cluster  string            `yaml:"cluster"`
		Clusters map[string]uint32 `yaml:"clusters"`
		// Missing are clusters Envoy does not find (it answers 503 or the
		// route's cluster_not_found_response_code).
		Missing  []string `yaml:"missing"`
		Upstream string   `yaml:"upstream"`
		Redirect string   `yaml:"redirect"`
		// Location is a direct response's Location header.
		Location    string `yaml:"location"`
		Status      int    `yaml:"status"`
		NoRoute     bool   `yaml:"noRoute"`
		Unsupported string `yaml:"unsupported"`
		// Text is a line the text output must hold.
		Text string `yaml:"text"`
		// Policy is a subset of the JSON policy: each key given must equal.
		Policy map[string]any `yaml:"policy"`
	} `yaml:"expect"`
}

// suiteDump builds the config dump of a suite.
func suiteDump(t *testing.T, s *routeSuite, source string) *xds.Dump {
	t.Helper()
	hcm := map[string]any{
		"@type":        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
		"stat_prefix":  "test",
		"route_config": s.RouteConfig,
		"http_filters": []any{
			map[string]any{"name": "envoy.filters.http.fault", "typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault"}},
			map[string]any{"name": "envoy.filters.http.cors", "typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}},
			map[string]any{"name": "envoy.filters.http.router", "typed_config": map[string]any{"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
		},
	}
	for k, v := range s.HCM {
		hcm[k] = v
	}
	chain := map[string]any{"filters": []any{map[string]any{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}}}
	if s.TLS {
		chain["transport_socket"] = map[string]any{"name": "envoy.transport_sockets.tls", "typed_config": map[string]any{
			"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"}}
	}
	listener := map[string]any{
		"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "listener_8080",
		"address":       map[string]any{"socket_address": map[string]any{"address": "0.0.0.0", "port_value": 8080}},
		"filter_chains": []any{chain},
	}
	var clusters []any
	cluster := func(name, typ, addr string) {
		clusters = append(clusters, map[string]any{"cluster": map[string]any{
			"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": name, "type": typ,
			"load_assignment": map[string]any{"cluster_name": name, "endpoints": []any{map[string]any{"lb_endpoints": []any{
				map[string]any{"endpoint": map[string]any{"address": map[string]any{"socket_address": map[string]any{"address": addr, "port_value": 80}}}},
			}}}},
		}})
	}
	for n, c := range s.Clusters {
		cluster(c, "STATIC", fmt.Sprintf("10.0.0.%d", n+1))
	}
	for c, host := range s.DNSClusters {
		cluster(c, "STRICT_DNS", host)
	}
	doc := map[string]any{"configs": []any{
		map[string]any{"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "static_clusters": clusters},
		map[string]any{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "static_listeners": []any{map[string]any{"listener": listener}}},
	}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := xds.Parse(b, xds.Options{Source: source, Strict: true})
	if err != nil {
		t.Fatalf("%s: %v", source, err)
	}
	return d
}

// TestRouteSuites runs every testdata/routes file.
func TestRouteSuites(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "routes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no route suites: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s routeSuite
		if err := yaml.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		d := suiteDump(t, &s, f)
		for _, c := range s.Cases {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml")+"/"+c.Name, func(t *testing.T) {
				req := trace.Request{Role: trace.RoleGateway, Port: 8080, TLS: s.TLS, Host: c.Request.Host, Path: c.Request.Path,
					Method: c.Request.Method, Scheme: c.Request.Scheme, SourceAddress: c.Request.Source, Headers: c.Request.Headers}
				res, err := trace.Trace(d, req)
				if err != nil {
					t.Fatal(err)
				}
				checkCase(t, res, c)
			})
		}
	}
}

func checkCase(t *testing.T, res *trace.Result, c routeCase) {
	t.Helper()
	e := c.Expect
	fail := func(format string, a ...any) {
		t.Helper()
		t.Errorf(format+"\ntrace:\n%s", append(a, res.Text())...)
	}
	if e.Text != "" && !strings.Contains(res.Text(), e.Text+"\n") {
		fail("the text output lacks the line %q", e.Text)
	}
	if e.Unsupported != "" {
		if !strings.Contains(strings.Join(res.Unsupported, "; "), e.Unsupported) {
			fail("unsupported = %q, want one containing %q", res.Unsupported, e.Unsupported)
		}
		return
	}
	if res.Undecided() {
		fail("undecided: %v", res.Unsupported)
		return
	}
	if e.NoRoute != (res.NoRoute != "") {
		fail("noRoute = %q, want noRoute %v", res.NoRoute, e.NoRoute)
	}
	want := e.Clusters
	if e.Cluster != "" {
		want = map[string]uint32{e.Cluster: 1}
	}
	got := map[string]uint32{}
	for _, cl := range res.Clusters {
		got[cl.Name] = cl.Weight
	}
	if want != nil && !reflect.DeepEqual(got, want) {
		fail("clusters = %v, want %v", got, want)
	}
	missing := []string{}
	for _, cl := range res.Clusters {
		if cl.Missing {
			missing = append(missing, cl.Name)
		}
	}
	if len(e.Missing) > 0 && !reflect.DeepEqual(missing, e.Missing) {
		fail("missing clusters = %q, want %q", missing, e.Missing)
	}
	checkOutcome(fail, res, c)
}

func checkOutcome(fail func(string, ...any), res *trace.Result, c routeCase) {
	e := c.Expect
	gotUp := ""
	if u := res.UpstreamRequest; u != nil {
		gotUp = u.Scheme + "://" + u.Host + u.Path
	}
	if e.Upstream != gotUp && (e.Upstream != "" || e.Redirect != "") {
		fail("upstream = %q, want %q", gotUp, e.Upstream)
	}
	gotLoc, gotStatus := "", 0
	if r := res.Redirect; r != nil {
		gotLoc, gotStatus = r.Location, r.ResponseCode
	}
	if d := res.DirectResponse; d != nil {
		gotStatus = d.Status
		if d.Location != e.Location {
			fail("direct response location = %q, want %q", d.Location, e.Location)
		}
	}
	if e.Redirect != gotLoc {
		fail("redirect = %q, want %q", gotLoc, e.Redirect)
	}
	if e.Status != 0 && e.Status != gotStatus {
		fail("status = %d, want %d", gotStatus, e.Status)
	}
	if len(e.Policy) == 0 {
		return
	}
	var pol map[string]any
	b, _ := json.Marshal(res.Policy)
	_ = json.Unmarshal(b, &pol)
	for k, v := range e.Policy {
		wb, _ := json.Marshal(v)
		gb, _ := json.Marshal(pol[k])
		if string(wb) != string(gb) {
			fail("policy.%s = %s, want %s", k, gb, wb)
		}
	}
}
