package xdsmatchers_test

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
)

func load(t *testing.T, rel string) *xds.Dump {
	t.Helper()
	d, err := xds.ParseFile(filepath.Join("..", "testdata", rel), xds.Options{Source: filepath.Base(rel)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var gwReq = trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "whoami.example.com", Path: "/"}

const (
	v1 = "outbound|80|v1|whoami.default.svc.cluster.local"
	v2 = "outbound|80|v2|whoami.default.svc.cluster.local"
)

func TestMatchersPass(t *testing.T) {
	g := NewWithT(t)
	gw := load(t, "pilot/gateway-config_dump.json")
	g.Expect(gw).To(HaveListener("0.0.0.0_8080"))
	g.Expect(gw).NotTo(HaveListener("0.0.0.0_80"))
	g.Expect(gw).To(HaveRouteConfig("http.8080"))
	g.Expect(gw).To(HaveCluster(v1))
	g.Expect(gw).To(HaveHealthyEndpoints(v1, 1))
	g.Expect(gw).To(HaveHealthyEndpoints("outbound|80||whoami.default.svc.cluster.local"))
	g.Expect(gw).To(RouteRequest(gwReq).ToWeightedClusters(map[string]uint32{v1: 90, v2: 10}))
	g.Expect(gw).To(RouteRequest(trace.Request{Role: trace.RoleGateway, Port: 80, Host: "x"}).ToNoRoute())
	g.Expect(gw).To(RouteRequest(gwReq).WithUpstream("http://whoami.example.com/").
		WithPolicy("name", "whoami-split").WithPolicy("timeout", "0s").WithPolicy("retry.numRetries", "2").
		ToWeightedClusters(map[string]uint32{v1: 90, v2: 10}))
	g.Expect(gw).NotTo(RouteRequest(gwReq).ToRedirect("https://whoami.example.com/"))
	g.Expect(gw).To(BeLintClean())
	pp := load(t, "samples/productpage-config_dump.json")
	g.Expect(pp).To(RouteRequest(trace.Request{Role: trace.RoleSidecarInbound, Address: "10.244.0.10", Port: 9080, Host: "productpage"}).ToCluster("inbound|9080||"))
}

// The failure text is part of the contract: it must carry the evidence.
func TestFailureMessages(t *testing.T) {
	RegisterTestingT(t)
	gw := load(t, "pilot/gateway-config_dump.json")
	broken := xdstest.Load(t, filepath.Join("..", "testdata", "samples/gateway-config_dump.json"))
	xdstest.Filter(broken.Section(t, "RoutesConfigDump"), "dynamic_route_configs", func(map[string]any) bool { return false })
	brokenDump := broken.Parse(t)

	cases := []struct {
		name   string
		assert func()
		want   []string
	}{
		{"listener", func() { Expect(gw).To(HaveListener("0.0.0.0_80")) },
			[]string{`Expected config dump gateway-config_dump.json to have listener "0.0.0.0_80"; it has 1: closest 0.0.0.0_8080`}},
		{"route config", func() { Expect(gw).To(HaveRouteConfig("http.80")) },
			[]string{`to have route config "http.80"; it has 1: closest http.8080`}},
		{"negated cluster", func() { Expect(gw).NotTo(HaveCluster(v1)) },
			[]string{`not to have cluster "outbound|80|v1|whoami.default.svc.cluster.local", but it does`}},
		{"endpoints", func() { Expect(gw).To(HaveHealthyEndpoints(v1, 3)) },
			[]string{`to have 3 healthy endpoints; it has 1 healthy of 1: [10.244.0.11:80 HEALTHY]`}},
		{"endpoints of a missing cluster", func() {
			Expect(gw).To(HaveHealthyEndpoints("outbound|80|v3|whoami.default.svc.cluster.local"))
		},
			[]string{"it has no load assignment (closest clusters: outbound|80|v1|whoami.default.svc.cluster.local"}},
		{"weights", func() {
			Expect(gw).To(RouteRequest(gwReq).ToWeightedClusters(map[string]uint32{v1: 50, v2: 50}))
		}, []string{
			"Expected gateway *:8080 GET whoami.example.com/ to go to weighted clusters " + v1 + "=50, " + v2 + "=50; it goes to " + v1 + "=90, " + v2 + "=10",
			"trace:\nrequest   gateway *:8080", "route     whoami-split (routes[0]): prefix \"/\" matches path \"/\"",
		}},
		{"no route", func() {
			Expect(gw).To(RouteRequest(trace.Request{Role: trace.RoleGateway, Port: 80, Host: "x"}).ToCluster(v1))
		}, []string{"it goes to no route (no listener on 0.0.0.0:80; have 0.0.0.0_8080 (0.0.0.0:8080))"}},
		{"upstream and policy", func() {
			Expect(gw).To(RouteRequest(gwReq).WithUpstream("http://other/").WithPolicy("timeout", "15s").WithPolicy("fault.abortPercent", "100").ToCluster(v1))
		}, []string{
			"to go to cluster " + v1 + ", the upstream receiving http://other/, policy fault.abortPercent = 100, policy timeout = 15s; " +
				"it goes to " + v1 + "=90, " + v2 + "=10; the upstream receives http://whoami.example.com/, not http://other/; " +
				"policy fault.abortPercent is (unset), not 100; policy timeout is 0s, not 15s",
		}},
		{"redirect", func() {
			Expect(gw).To(RouteRequest(gwReq).ToRedirect("https://whoami.example.com/"))
		}, []string{"to go to a redirect to https://whoami.example.com/; it goes to " + v1 + "=90, " + v2 + "=10"}},
		{"lint", func() { Expect(brokenDump).To(BeLintClean()) },
			[]string{"Expected config dump edited.json to be lint-clean (no errors); findings:\n  error [missing-route-config] listener 0.0.0.0_8080"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := InterceptGomegaFailures(tc.assert)
			if len(got) != 1 {
				t.Fatalf("failures = %q, want one", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0], w) {
					t.Errorf("message:\n%s\ndoes not contain:\n%s", got[0], w)
				}
			}
		})
	}
}

// Misuse is an error, not a mismatch.
func TestMisuse(t *testing.T) {
	for name, m := range map[string]interface{ Match(any) (bool, error) }{
		"listener":      HaveListener("x"),
		"lint":          BeLintClean(),
		"endpoints":     HaveHealthyEndpoints("x"),
		"unfinished":    RouteRequest(gwReq),
		"policy only":   RouteRequest(gwReq).WithPolicy("timeout", "0s"),
		"route request": RouteRequest(gwReq).ToCluster("x"),
	} {
		if _, err := m.Match("not a dump"); err == nil {
			t.Errorf("%s: no error for a string", name)
		}
	}
	gw := load(t, "pilot/gateway-config_dump.json")
	if _, err := RouteRequest(gwReq).Match(gw); err == nil || !strings.Contains(err.Error(), "ToCluster") {
		t.Errorf("unfinished RouteRequest: %v", err)
	}
}

// On a dump that lacks the type, a presence matcher errs (it cannot tell)
// instead of failing or passing.
func TestPartialDumpIsMisuse(t *testing.T) {
	shapes := map[string][]byte{}
	for _, s := range xdstest.Shapes(t, filepath.Join("..", "testdata", "pilot/gateway-config_dump.json")) {
		shapes[s.Name] = s.Doc
	}
	for _, tc := range []struct {
		shape string
		m     interface{ Match(any) (bool, error) }
		want  string
	}{
		{"routes -o json", HaveCluster(v1), `the dump lacks CDS (it holds RDS): it cannot show whether there is cluster "` + v1 + `"`},
		{"clusters -o json", HaveListener("0.0.0.0_8080"), "the dump lacks LDS (it holds CDS)"},
		{"listeners -o json", HaveRouteConfig("http.8080"), "the dump lacks RDS (it holds LDS)"},
		{"admin without include_eds", HaveHealthyEndpoints(v1), "the dump lacks EDS (it holds LDS, RDS, CDS): take it with config_dump?include_eds"},
	} {
		d, err := xds.Parse(shapes[tc.shape], xds.Options{Source: tc.shape})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := tc.m.Match(d); ok || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Match = %v, %v; want an error with %q", tc.shape, ok, err, tc.want)
		}
	}
}
