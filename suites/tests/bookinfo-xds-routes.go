package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

func bookinfoXDSRoutes() suite.Test {
	return suite.Test{
		ShortName:   "bookinfo-xds-routes",
		Vars:        istioIngress, // it traces istio-ingressgateway on 8080
		Description: "routes in xDS the way the logs show: gateway to productpage, productpage to reviews",
		Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
		Labels:      []string{"xds"},
		Test: func(ctx context.Context, s *suite.Suite) {
			gw := dump(ctx, s, "istio-system", "istio-ingressgateway")
			Expect(gw).To(RouteRequest(trace.Request{Role: trace.RoleGateway, Port: 8080, Host: s.Host("bookinfo.example.com"), Path: "/productpage"}).
				ToCluster("outbound|9080||" + fqdn(s, "productpage", "default")))
			pp := dump(ctx, s, "default", "productpage-v1")
			ip := serviceIP(ctx, s, "default", "reviews", 9080)
			Expect(pp).To(RouteRequest(trace.Request{Role: trace.RoleSidecarOutbound, Address: ip, Port: 9080, Host: "reviews:9080", Path: "/reviews/0"}).
				ToCluster("outbound|9080||" + fqdn(s, "reviews", "default")))
			Expect(pp).To(HaveHealthyEndpoints("outbound|9080||"+fqdn(s, "reviews", "default"), 3))
		},
	}
}
