package trace_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

var (
	dumpsMu sync.Mutex
	dumps   = map[string]*xds.Dump{}
)

func load(t *testing.T, rel string, lazy bool) *xds.Dump {
	t.Helper()
	dumpsMu.Lock()
	defer dumpsMu.Unlock()
	key := rel + map[bool]string{true: " (lazy)"}[lazy]
	if d, ok := dumps[key]; ok {
		return d
	}
	d, err := xds.ParseFile(filepath.Join("..", "testdata", rel), xds.Options{Lazy: lazy})
	if err != nil {
		t.Fatal(err)
	}
	dumps[key] = d
	return d
}

const (
	gw       = "samples/gateway-config_dump.json"
	gwMin    = "samples/gateway-config_dump.minimal.json"
	pp       = "samples/productpage-config_dump.json"
	ppMin    = "samples/productpage-config_dump.minimal.json"
	pilotGW  = "pilot/gateway-config_dump.json"
	pilotSlp = "pilot/sleep-config_dump.json"
)

type want struct {
	listener, handoff, routeConfig, vhost, route string
	clusters                                     map[string]uint32 // name -> weight
	endpoints                                    map[string]int    // cluster -> count
	noRoute                                      []string          // substrings of NoRoute
	unsupported                                  string
	protocol                                     string
}

// traceCase is a request through a dump and what Envoy does with it.
type traceCase struct {
	name string
	dump string
	req  trace.Request
	want want
}

var traceCases = []traceCase{
	{
		name: "gateway productpage",
		dump: gw,
		req:  trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "bookinfo.example.com", Path: "/productpage"},
		want: want{listener: "0.0.0.0_8080", routeConfig: "http.8080", vhost: "*:8080", protocol: "http",
			clusters:  map[string]uint32{"outbound|9080||productpage.default.svc.cluster.local": 1},
			endpoints: map[string]int{"outbound|9080||productpage.default.svc.cluster.local": 1}},
	},
	{
		name: "gateway static prefix, minimal variant",
		dump: gwMin,
		req:  trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "x", Path: "/static/css/style.css?v=1"},
		want: want{listener: "0.0.0.0_8080", routeConfig: "http.8080", vhost: "*:8080", protocol: "http",
			clusters: map[string]uint32{"outbound|9080||productpage.default.svc.cluster.local": 1}},
	},
	{
		name: "gateway path no VirtualService matches",
		dump: gw,
		req:  trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "x", Path: "/admin"},
		want: want{listener: "0.0.0.0_8080", routeConfig: "http.8080", vhost: "*:8080", protocol: "http",
			noRoute: []string{"no route", `"*:8080"`, "/admin", "404"}},
	},
	{
		name: "gateway service port instead of target port",
		dump: gw,
		req:  trace.Request{Role: trace.RoleGateway, Port: 80, Host: "x", Path: "/productpage"},
		want: want{noRoute: []string{"no listener on 0.0.0.0:80", "0.0.0.0_8080"}},
	},
	{
		name: "sidecar outbound to reviews: 90/10",
		dump: pp,
		req:  trace.Request{Role: trace.RoleSidecarOutbound, Address: "10.96.0.99", Port: 9080, Host: "reviews:9080", Path: "/reviews/0"},
		want: want{listener: "0.0.0.0_9080", handoff: "virtualOutbound", routeConfig: "9080", protocol: "http",
			vhost: "reviews.default.svc.cluster.local:9080",
			clusters: map[string]uint32{
				"outbound|9080|v1|reviews.default.svc.cluster.local": 90,
				"outbound|9080|v2|reviews.default.svc.cluster.local": 10,
			},
			endpoints: map[string]int{
				"outbound|9080|v1|reviews.default.svc.cluster.local": 1,
				"outbound|9080|v2|reviews.default.svc.cluster.local": 1,
			}},
	},
	{
		name: "sidecar outbound to ratings by FQDN",
		dump: ppMin,
		req:  trace.Request{Role: trace.RoleSidecarOutbound, Address: "10.96.0.98", Port: 9080, Host: "ratings.default.svc.cluster.local", Path: "/ratings/0"},
		want: want{listener: "0.0.0.0_9080", handoff: "virtualOutbound", routeConfig: "9080", protocol: "http",
			vhost:    "ratings.default.svc.cluster.local:9080",
			clusters: map[string]uint32{"outbound|9080||ratings.default.svc.cluster.local": 1}},
	},
	{
		name: "sidecar inbound plaintext",
		dump: pp,
		req:  trace.Request{Role: trace.RoleSidecarInbound, Address: "10.244.0.10", Port: 9080, Host: "productpage:9080", Path: "/productpage"},
		want: want{listener: "virtualInbound", protocol: "http",
			clusters: map[string]uint32{"inbound|9080||": 1}},
	},
	{
		name: "sidecar inbound mTLS from a sidecar",
		dump: pp,
		req:  trace.Request{Role: trace.RoleSidecarInbound, Address: "10.244.0.10", Port: 9080, TLS: true, Host: "productpage:9080", Path: "/"},
		want: want{listener: "virtualInbound", protocol: "http",
			clusters: map[string]uint32{"inbound|9080||": 1}},
	},
	{
		name: "pilot gateway whoami 90/10",
		dump: pilotGW,
		req:  trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "whoami.example.com", Path: "/"},
		want: want{listener: "0.0.0.0_8080", routeConfig: "http.8080", vhost: "*:8080", route: "whoami-split", protocol: "http",
			clusters: map[string]uint32{
				"outbound|80|v1|whoami.default.svc.cluster.local": 90,
				"outbound|80|v2|whoami.default.svc.cluster.local": 10,
			},
			endpoints: map[string]int{
				"outbound|80|v1|whoami.default.svc.cluster.local": 1,
				"outbound|80|v2|whoami.default.svc.cluster.local": 1,
			}},
	},
	{
		name: "pilot sidecar to ServiceEntry VM migration 50/50",
		dump: pilotSlp,
		req:  trace.Request{Role: trace.RoleSidecarOutbound, Address: "240.240.0.1", Port: 80, Host: "hello.example.com", Path: "/"},
		want: want{listener: "0.0.0.0_80", handoff: "virtualOutbound", routeConfig: "80", vhost: "hello.example.com:80", route: "hello-migration", protocol: "http",
			clusters: map[string]uint32{
				"outbound|80|vm|hello.example.com":     50,
				"outbound|80|docker|hello.example.com": 50,
			},
			endpoints: map[string]int{
				"outbound|80|vm|hello.example.com":     1,
				"outbound|80|docker|hello.example.com": 1,
			}},
	},
	{
		name: "pilot sidecar unknown host goes to passthrough",
		dump: pilotSlp,
		req:  trace.Request{Role: trace.RoleSidecarOutbound, Address: "93.184.216.34", Port: 80, Host: "example.org", Path: "/"},
		want: want{listener: "0.0.0.0_80", handoff: "virtualOutbound", routeConfig: "80", vhost: "allow_any", protocol: "http",
			clusters: map[string]uint32{"PassthroughCluster": 1}},
	},
	{
		name: "pilot sidecar TCP to an unknown port stays on virtualOutbound",
		dump: pilotSlp,
		req:  trace.Request{Role: trace.RoleSidecarOutbound, Address: "93.184.216.34", Port: 3306},
		want: want{listener: "virtualOutbound", protocol: "tcp",
			clusters: map[string]uint32{"PassthroughCluster": 1}},
	},
}

func TestTrace(t *testing.T) {
	cases := traceCases
	for _, lazy := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/lazy=%v", tc.name, lazy), func(t *testing.T) {
				d := load(t, tc.dump, lazy)
				res, err := trace.Trace(d, tc.req)
				if err != nil {
					t.Fatal(err)
				}
				check(t, res, tc.want)
				if errs := d.LoadErrors(); len(errs) > 0 {
					t.Errorf("lazy load errors: %v", errs)
				}
			})
		}
	}
}

func check(t *testing.T, res *trace.Result, w want) {
	t.Helper()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Errorf(format+"\ntrace:\n%s", append(a, res.Text())...)
	}
	if w.unsupported != "" {
		if !strings.Contains(strings.Join(res.Unsupported, "; "), w.unsupported) {
			fail("unsupported = %v, want one containing %q", res.Unsupported, w.unsupported)
		}
		return
	}
	if len(res.Unsupported) > 0 {
		fail("unexpected unsupported: %v", res.Unsupported)
	}
	for _, s := range w.noRoute {
		if !strings.Contains(res.NoRoute, s) {
			fail("NoRoute = %q, want it to contain %q", res.NoRoute, s)
		}
	}
	if len(w.noRoute) == 0 && res.NoRoute != "" {
		fail("unexpected NoRoute: %s", res.NoRoute)
	}
	for _, f := range []struct{ name, got, want string }{
		{"listener", res.Listener, w.listener},
		{"handedOffFrom", res.HandedOffFrom, w.handoff},
		{"routeConfig", res.RouteConfig, w.routeConfig},
		{"virtualHost", res.VirtualHost, w.vhost},
		{"route", res.Route, w.route},
		{"protocol", res.Protocol, w.protocol},
	} {
		if f.want != "" && f.got != f.want {
			fail("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if w.clusters != nil {
		got := map[string]uint32{}
		for _, c := range res.Clusters {
			got[c.Name] = c.Weight
		}
		if len(got) != len(w.clusters) {
			fail("clusters = %v, want %v", got, w.clusters)
		}
		for n, wt := range w.clusters {
			if g, ok := got[n]; !ok || g != wt {
				fail("cluster %s weight = %d (present %v), want %d", n, g, ok, wt)
			}
		}
	}
	for c, n := range w.endpoints {
		if got := len(res.Endpoints[c]); got != n {
			fail("endpoints of %s = %d, want %d", c, got, n)
		}
	}
}
