package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

// whoami's subset clusters and the requests the whoami tests send.
const (
	whoamiV1   = "outbound|80|v1|whoami.whoami.svc.cluster.local"
	whoamiV2   = "outbound|80|v2|whoami.whoami.svc.cluster.local"
	whoamiHost = "whoami.example.com"
)

// whoamiTrace is a request to whoami as the gateway's config sees it.
func whoamiTrace() trace.Request {
	return trace.Request{Role: trace.RoleGateway, Port: 8080, Host: whoamiHost, Path: "/"}
}

// sampleWhoami runs the split test for weights on whoami through the
// ingress.
func sampleWhoami(ctx context.Context, s *suite.Suite, weights string) {
	ingress, err := s.Backend.Ingress(ctx)
	Expect(err).NotTo(HaveOccurred())
	res, err := s.SampleSplit(ctx, ingress, traffic.Request{Host: whoamiHost, Path: "/"}, traffic.Whoami{}, weights)
	Expect(err).NotTo(HaveOccurred())
	Expect(res.Decision).To(Equal(split.Pass), "%s", res.Reason)
	s.Logf("%s decided after %d requests: %v", weights, res.Samples, res.Counts)
}

func whoami9010XDS() suite.Test {
	return suite.Test{
		ShortName:   "whoami-90-10-xds",
		Description: "has the 90/10 weighted route in the gateway's config",
		Fixtures:    []suite.Fixture{{Name: "whoami", Step: "90-10"}},
		Labels:      []string{"xds"},
		Test: func(ctx context.Context, s *suite.Suite) {
			gw := dump(ctx, s, "istio-system", "istio-ingressgateway")
			Expect(gw).To(RouteRequest(whoamiTrace()).ToWeightedClusters(map[string]uint32{whoamiV1: 90, whoamiV2: 10}))
			Expect(gw).To(HaveHealthyEndpoints(whoamiV1, 1))
			Expect(gw).To(HaveHealthyEndpoints(whoamiV2, 1))
		},
	}
}
