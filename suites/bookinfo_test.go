package suites

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
)

// dump parses a proxy's config dump, named for messages.
func dump(ctx context.Context, p backend.Proxy) *xds.Dump {
	b, err := mesh.ConfigDump(ctx, p)
	Expect(err).NotTo(HaveOccurred())
	d, err := xds.Parse(b, xds.Options{Source: p.String()})
	Expect(err).NotTo(HaveOccurred())
	return d
}

// logs parses what a proxy logged since a mark. It takes the Gomega of the
// Eventually it runs in, so a read that fails is retried, not fatal.
func logs(ctx context.Context, g Gomega, p backend.Proxy, since backend.Mark) []accesslog.Record {
	b, err := mesh.AccessLogs(ctx, p, since)
	g.Expect(err).NotTo(HaveOccurred())
	res, err := accesslog.Read(bytes.NewReader(b), accesslog.ReadOptions{Source: p.String(), Proxy: p.Name})
	g.Expect(err).NotTo(HaveOccurred())
	return res.Records
}

var _ = Describe("Bookinfo", Label("bookinfo"), func() {
	productpage := traffic.Request{Host: "bookinfo.example.com", Path: "/productpage"}

	It("serves /productpage through the ingress with reviews", func(ctx SpecContext) {
		ingress, err := mesh.Ingress(ctx)
		Expect(err).NotTo(HaveOccurred())
		res, err := traffic.Converge(ctx, ingress, traffic.ConvergeOptions{Request: productpage, Classifier: traffic.BookinfoPage{}, Timeouts: tmo})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Version).To(BeElementOf("v1", "v2", "v3"), "reviews version on the page: %s", res)
	})

	It("crosses nodes: on a multi-node cluster its pods spread, and productpage reaches a reviews pod on another node", Label("multinode"), func(ctx SpecContext) {
		ws, err := mesh.Workloads(ctx)
		Expect(err).NotTo(HaveOccurred())
		nodes := map[string][]string{}
		for _, w := range ws {
			if w.Namespace == "default" && w.Node != "" {
				nodes[w.Node] = append(nodes[w.Node], w.Name)
			}
		}
		if len(nodes) < 2 {
			Skip(fmt.Sprintf("Bookinfo runs on %d node(s) on this backend: nothing crosses nodes", len(nodes)))
		}
		pp := workload(ctx, "default", "productpage-v1")
		cross := ""
		for _, v := range []string{"v1", "v2", "v3"} {
			if r := workload(ctx, "default", "reviews-"+v); r.Node != pp.Node {
				cross = v
				break
			}
		}
		Expect(cross).NotTo(BeEmpty(), "productpage on %s and every reviews pod on the same node; pods by node: %v", pp.Node, nodes)
		ingress, err := mesh.Ingress(ctx)
		Expect(err).NotTo(HaveOccurred())
		var last traffic.Result
		Eventually(func() string {
			last = traffic.Do(ctx, ingress, productpage, tmo.Request, traffic.BookinfoPage{})
			return last.Version
		}).WithContext(ctx).WithTimeout(tmo.Convergence).Should(Equal(cross),
			"productpage (node %s) never showed reviews %s (node %s); last: %s", pp.Node, cross, workload(ctx, "default", "reviews-"+cross).Node, &last)
		Expect(last.Status).To(Equal(200))
		GinkgoWriter.Printf("cross-node path: productpage on %s -> reviews-%s on %s; pods by node: %v\n", pp.Node, cross, workload(ctx, "default", "reviews-"+cross).Node, nodes)
	})

	It("proves the path three ways: one request's hops in the access logs, each hop's cluster in the xDS trace, and the live response", Label("accesslog"), func(ctx SpecContext) {
		ingress, err := mesh.Ingress(ctx)
		Expect(err).NotTo(HaveOccurred())
		before, err := mesh.Mark(ctx)
		Expect(err).NotTo(HaveOccurred())
		// The ingress is an edge proxy: it replaces an external request's
		// x-request-id. Tag the request to find the gateway's record, then
		// follow the id the gateway gave it through the mesh.
		tag := "meshcheck-" + traffic.NewRequestID()
		req := productpage
		req.Headers = http.Header{"User-Agent": {tag}}
		res := traffic.Do(ctx, ingress, req, tmo.Request, traffic.BookinfoPage{})
		Expect(res.Err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal(200), "%s", res)

		gw := proxy(ctx, "istio-system", "istio-ingressgateway")
		pp := proxy(ctx, "default", "productpage-v1")
		reviews := proxy(ctx, "default", "reviews-"+res.Version)
		var records []accesslog.Record
		Eventually(func(g Gomega) {
			records = nil
			for _, p := range []backend.Proxy{gw, pp, reviews} {
				records = append(records, logs(ctx, g, p, before)...)
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
			path := []accesslog.Step{
				{Proxy: "istio-ingressgateway", Cluster: "outbound|9080||productpage.default.svc.cluster.local", Status: 200},
				{Proxy: "productpage", Direction: accesslog.Inbound, Status: 200},
				{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|details.default.svc.cluster.local", Status: 200},
				{Proxy: "productpage", Direction: accesslog.Outbound, Cluster: "outbound|9080|*|reviews.default.svc.cluster.local", Status: 200},
				{Proxy: "reviews-" + res.Version, Direction: accesslog.Inbound, Status: 200},
			}
			if res.Version != "v1" { // v2 and v3 ask ratings for the stars
				path = append(path, accesslog.Step{Proxy: "reviews-" + res.Version, Direction: accesslog.Outbound,
					Cluster: "outbound|9080|*|ratings.default.svc.cluster.local", Status: 200})
			}
			g.Expect(accesslog.All(accesslog.ExpectPath(path...), accesslog.NoResponseFlags()).Check(flow)).To(Succeed())

			// The third way: the xDS trace through each hop's proxy goes to
			// the cluster that hop logged.
			for _, h := range flow.Hops {
				var p backend.Proxy
				var req trace.Request
				switch {
				case strings.HasPrefix(h.Proxy, "istio-ingressgateway"):
					p, req = gw, trace.Request{Role: trace.RoleGateway, Port: 8080, Host: productpage.Host, Path: productpage.Path}
				case strings.HasPrefix(h.Proxy, "productpage") && h.Cluster.Direction == accesslog.Outbound && h.Cluster.Host == "reviews.default.svc.cluster.local":
					addr, err := mesh.ServiceAddress(ctx, "default", "reviews", 9080)
					g.Expect(err).NotTo(HaveOccurred())
					p, req = pp, trace.Request{Role: trace.RoleSidecarOutbound, Address: strings.TrimSuffix(addr, ":9080"), Port: 9080, Host: "reviews:9080", Path: "/reviews/0"}
				default:
					continue
				}
				res, err := trace.Trace(dump(ctx, p), req)
				g.Expect(err).NotTo(HaveOccurred())
				var clusters []string
				for _, c := range res.Clusters {
					clusters = append(clusters, c.Name)
				}
				g.Expect(clusters).To(ContainElement(h.UpstreamCluster), "hop %s logged cluster %s; the xDS trace gives %v\n%s", h.Proxy, h.UpstreamCluster, clusters, res.Text())
			}
		}).WithContext(ctx).WithTimeout(tmo.Convergence).Should(Succeed())
	})

	It("routes in xDS the way the logs show: gateway to productpage, productpage to reviews", Label("xds"), func(ctx SpecContext) {
		gw := dump(ctx, proxy(ctx, "istio-system", "istio-ingressgateway"))
		Expect(gw).To(RouteRequest(trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "bookinfo.example.com", Path: "/productpage"}).
			ToCluster("outbound|9080||productpage.default.svc.cluster.local"))
		pp := dump(ctx, proxy(ctx, "default", "productpage-v1"))
		addr, err := mesh.ServiceAddress(ctx, "default", "reviews", 9080)
		Expect(err).NotTo(HaveOccurred())
		ip := addr[:len(addr)-len(":9080")]
		Expect(pp).To(RouteRequest(trace.Request{Role: trace.RoleSidecarOutbound, Address: ip, Port: 9080, Host: "reviews:9080", Path: "/reviews/0"}).
			ToCluster("outbound|9080||reviews.default.svc.cluster.local"))
		Expect(pp).To(HaveHealthyEndpoints("outbound|9080||reviews.default.svc.cluster.local", 3))
	})
})
