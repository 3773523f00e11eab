package tests

import (
	"context"
	"net/http"
	"strings"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	"github.com/meshcheck/meshcheck/suite"
)

func bookinfoPathThreeWays() suite.Test {
	return suite.Test{
		ShortName:   "bookinfo-path-three-ways",
		Vars:        istioIngress, // it names istio-ingressgateway's hops
		Description: "proves the path three ways: one request's hops in the access logs, each hop's cluster in the xDS trace, and the live response",
		Features:    []backend.Feature{backend.FeatureAccessLogs},
		Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
		Test:        pathThreeWays,
	}
}

func pathThreeWays(ctx context.Context, s *suite.Suite) {
	ingress, err := s.Backend.Ingress(ctx)
	Expect(err).NotTo(HaveOccurred())
	before, err := s.Backend.Mark(ctx)
	Expect(err).NotTo(HaveOccurred())
	// The ingress is an edge proxy: it replaces an external request's
	// x-request-id. Tag the request to find the gateway's record, then
	// follow the id the gateway gave it through the mesh.
	tag := "meshcheck-" + traffic.NewRequestID()
	req := productpage(s)
	req.Headers = http.Header{"User-Agent": {tag}}
	res := traffic.Do(ctx, ingress, req, s.Timeouts.Request, traffic.BookinfoPage{})
	Expect(res.Err).NotTo(HaveOccurred())
	Expect(res.Status).To(Equal(200), "%s", res)

	proxies := pathProxies(ctx, s, res.Version)
	// The last attempt's path goes to the report, also when the test
	// fails: the page shows the hop where logs and xDS disagree.
	var rec suite.PathRecord
	defer func() {
		if len(rec.Flow.Hops) > 0 {
			s.Record(suite.RecordPath, rec)
		}
	}()
	Eventually(func(g Gomega) {
		var records []accesslog.Record
		for _, p := range proxies {
			rs, err := s.AccessLog(ctx, p, before)
			g.Expect(err).NotTo(HaveOccurred())
			records = append(records, rs...)
		}
		id := ""
		for _, r := range records {
			if r.UserAgent == tag && strings.HasPrefix(r.Proxy, "istio-ingressgateway") {
				id = r.RequestID
			}
		}
		g.Expect(id).NotTo(BeEmpty(), "the gateway has not logged the request tagged %s yet", tag)
		flow, err := accesslog.FindFlow(accesslog.Flows(records), id)
		g.Expect(err).NotTo(HaveOccurred())
		rec = suite.PathRecord{Name: "/productpage through the ingress (reviews " + res.Version + ")", Fixture: "bookinfo", Flow: flow.Brief()}
		g.Expect(accesslog.All(accesslog.ExpectPath(bookinfoPath(s, res.Version)...), accesslog.NoResponseFlags()).Check(flow)).To(Succeed())
		// The third way: the xDS trace through each outbound hop's proxy
		// goes to the cluster that hop logged.
		for i, h := range flow.Hops {
			if t, ok := traceHop(ctx, g, s, h, proxies); ok {
				t.Hop = i
				rec.Traces = append(rec.Traces, t)
			}
		}
		for _, t := range rec.Traces {
			h := flow.Hops[t.Hop]
			g.Expect(t.Clusters).To(ContainElement(h.UpstreamCluster), "hop %s logged cluster %s; the xDS trace gives %v\n%s", h.Proxy, h.UpstreamCluster, t.Clusters, t.Text)
		}
	}).WithContext(ctx).WithTimeout(s.Timeouts.Convergence).Should(Succeed())
}

// pathProxies are the proxies /productpage showing reviews of version goes
// through, by name.
func pathProxies(ctx context.Context, s *suite.Suite, version string) map[string]backend.Proxy {
	out := map[string]backend.Proxy{}
	for _, p := range []struct{ namespace, prefix string }{
		{"istio-system", "istio-ingressgateway"}, {"default", "productpage-v1"}, {"default", "details-v1"}, {"default", "reviews-" + version},
	} {
		pr := proxy(ctx, s, p.namespace, p.prefix)
		out[pr.Name] = pr
	}
	if version != "v1" {
		pr := proxy(ctx, s, "default", "ratings-v1")
		out[pr.Name] = pr
	}
	return out
}

// bookinfoPath is the path of /productpage showing reviews of version.
func bookinfoPath(s *suite.Suite, version string) []accesslog.Step {
	path := []accesslog.Step{
		{Proxy: "istio-ingressgateway", Cluster: "outbound|9080||" + fqdn(s, "productpage", "default"), Status: 200},
		{Proxy: "productpage", Direction: accesslog.Inbound, Status: 200},
		{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|" + fqdn(s, "details", "default"), Status: 200},
		{Proxy: "details", Direction: accesslog.Inbound, Status: 200},
		{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|" + fqdn(s, "reviews", "default"), Status: 200},
		{Proxy: "reviews-" + version, Direction: accesslog.Inbound, Status: 200},
	}
	if version != "v1" { // v2 and v3 ask ratings for the stars
		path = append(path,
			accesslog.Step{Proxy: "reviews-" + version, Direction: accesslog.Outbound, Cluster: "outbound|9080|*|" + fqdn(s, "ratings", "default"), Status: 200},
			accesslog.Step{Proxy: "ratings", Direction: accesslog.Inbound, Status: 200})
	}
	return path
}

// meshDomain is the suffix of the bookinfo services' cluster hosts (the
// run's namespace for Bookinfo's "default").
func meshDomain(s *suite.Suite) string { return fqdn(s, "", "default") }

// traceHop traces a gateway hop, or a sidecar's outbound call to a
// bookinfo service, through the config of the proxy that logged it: the
// clusters the trace chose. Inbound hops are not traced (ok false).
func traceHop(ctx context.Context, g Gomega, s *suite.Suite, h accesslog.Hop, proxies map[string]backend.Proxy) (suite.HopTrace, bool) {
	p, ok := proxies[h.Proxy]
	if !ok || h.Cluster.Direction != accesslog.Outbound {
		return suite.HopTrace{}, false
	}
	var req trace.Request
	switch {
	case strings.HasPrefix(h.Proxy, "istio-ingressgateway"):
		req = trace.Request{Role: trace.RoleGateway, Port: 8080, Host: productpage(s).Host, Path: productpage(s).Path}
	case strings.HasSuffix(h.Cluster.Host, meshDomain(s)):
		svc := strings.TrimSuffix(h.Cluster.Host, meshDomain(s))
		addr, err := s.Backend.ServiceAddress(ctx, s.NS("default"), svc, 9080)
		g.Expect(err).NotTo(HaveOccurred())
		req = trace.Request{Role: trace.RoleSidecarOutbound, Address: strings.TrimSuffix(addr, ":9080"), Port: 9080, Host: svc + ":9080", Path: "/" + svc + "/0"}
	default:
		return suite.HopTrace{}, false
	}
	d, err := s.Dump(ctx, p)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := trace.Trace(d, req)
	g.Expect(err).NotTo(HaveOccurred())
	t := suite.HopTrace{Text: res.Text()}
	for _, c := range res.Clusters {
		t.Clusters = append(t.Clusters, c.Name)
	}
	return t, true
}
