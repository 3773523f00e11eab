// Package xdsmatchers holds Gomega matchers over config dumps for the suites:
//
//	Expect(dump).To(HaveListener("0.0.0.0_8080"))
//	Expect(dump).To(HaveRouteConfig("http.8080"))
//	Expect(dump).To(HaveCluster("outbound|9080||reviews.default.svc.cluster.local"))
//	Expect(dump).To(HaveHealthyEndpoints("outbound|9080||reviews.default.svc.cluster.local", 3))
//	Expect(dump).To(RouteRequest(req).ToCluster("outbound|9080||productpage.default.svc.cluster.local"))
//	Expect(dump).To(RouteRequest(req).ToWeightedClusters(map[string]uint32{"...|v1|...": 90, "...|v2|...": 10}))
//	Expect(dump).To(RouteRequest(req).ToRedirect("https://secure.example.com/a"))
//	Expect(dump).To(RouteRequest(req).WithUpstream("http://backend/v2/x").WithPolicy("timeout", "3s").ToCluster("..."))
//	Expect(dump).To(BeLintClean())
//
// The actual value must be a *xds.Dump; anything else is an error (misuse),
// not a mismatch; so is a dump that lacks the type a matcher asks about
// (HaveCluster on istioctl's routes output, HaveHealthyEndpoints without
// include_eds), which cannot show presence or absence. Failure messages carry the evidence: what the dump holds
// instead, the closest names, and for requests the whole trace.
package xdsmatchers
