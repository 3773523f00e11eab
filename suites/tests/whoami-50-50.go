package tests

import (
	"context"

	. "github.com/onsi/gomega"

	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

func whoami5050() suite.Test {
	return suite.Test{
		ShortName:   "whoami-50-50",
		Description: "follows a VirtualService step to 50/50, in config and in traffic",
		Fixtures:    []suite.Fixture{{Name: "whoami", Step: "50-50"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			gw := dump(ctx, s, "istio-system", "istio-ingressgateway")
			Expect(gw).To(RouteRequest(whoamiTrace()).ToWeightedClusters(map[string]uint32{whoamiV1: 50, whoamiV2: 50}))
			sampleWhoami(ctx, s, "v1=50,v2=50")
		},
	}
}
