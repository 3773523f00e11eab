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
	req := productpage()
	req.Headers = http.Header{"User-Agent": {tag}}
	res := traffic.Do(ctx, ingress, req, s.Timeouts.Request, traffic.BookinfoPage{})
	Expect(res.Err).NotTo(HaveOccurred())
	Expect(res.Status).To(Equal(200), "%s", res)

	gw := proxy(ctx, s, "istio-system", "istio-ingressgateway")
	pp := proxy(ctx, s, "default", "productpage-v1")
	reviews := proxy(ctx, s, "default", "reviews-"+res.Version)
	Eventually(func(g Gomega) {
		var records []accesslog.Record
		for _, p := range []backend.Proxy{gw, pp, reviews} {
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
		g.Expect(accesslog.All(accesslog.ExpectPath(bookinfoPath(res.Version)...), accesslog.NoResponseFlags()).Check(flow)).To(Succeed())
		// The third way: the xDS trace through each hop's proxy goes to
		// the cluster that hop logged.
		for _, h := range flow.Hops {
			traceHop(ctx, g, s, h, gw, pp)
		}
	}).WithContext(ctx).WithTimeout(s.Timeouts.Convergence).Should(Succeed())
}

// bookinfoPath is the path of /productpage showing reviews of version.
func bookinfoPath(version string) []accesslog.Step {
	path := []accesslog.Step{
		{Proxy: "istio-ingressgateway", Cluster: "outbound|9080||productpage.default.svc.cluster.local", Status: 200},
		{Proxy: "productpage", Direction: accesslog.Inbound, Status: 200},
		{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|details.default.svc.cluster.local", Status: 200},
		{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|reviews.default.svc.cluster.local", Status: 200},
		{Proxy: "reviews-" + version, Direction: accesslog.Inbound, Status: 200},
	}
	if version != "v1" { // v2 and v3 ask ratings for the stars
		path = append(path, accesslog.Step{Proxy: "reviews-" + version, Direction: accesslog.Outbound,
			Cluster: "outbound|9080|*|ratings.default.svc.cluster.local", Status: 200})
	}
	return path
}

// traceHop checks that the xDS trace of a gateway hop, or of productpage's
// call to reviews, gives the cluster the hop logged; other hops are not
// traced.
func traceHop(ctx context.Context, g Gomega, s *suite.Suite, h accesslog.Hop, gw, pp backend.Proxy) {
	var p backend.Proxy
	var req trace.Request
	switch {
	case strings.HasPrefix(h.Proxy, "istio-ingressgateway"):
		p, req = gw, trace.Request{Role: trace.RoleGateway, Port: 8080, Host: productpage().Host, Path: productpage().Path}
	case strings.HasPrefix(h.Proxy, "productpage") && h.Cluster.Direction == accesslog.Outbound && h.Cluster.Host == "reviews.default.svc.cluster.local":
		addr, err := s.Backend.ServiceAddress(ctx, "default", "reviews", 9080)
		g.Expect(err).NotTo(HaveOccurred())
		p, req = pp, trace.Request{Role: trace.RoleSidecarOutbound, Address: strings.TrimSuffix(addr, ":9080"), Port: 9080, Host: "reviews:9080", Path: "/reviews/0"}
	default:
		return
	}
	d, err := s.Dump(ctx, p)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := trace.Trace(d, req)
	g.Expect(err).NotTo(HaveOccurred())
	var clusters []string
	for _, c := range res.Clusters {
		clusters = append(clusters, c.Name)
	}
	g.Expect(clusters).To(ContainElement(h.UpstreamCluster), "hop %s logged cluster %s; the xDS trace gives %v\n%s", h.Proxy, h.UpstreamCluster, clusters, res.Text())
}
