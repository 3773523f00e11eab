package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/meshlint"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

func vmShortHost() suite.Test {
	return suite.Test{
		ShortName:   "vm-short-host",
		Description: "catches a VirtualService written with the short host, and shows it silently does nothing once applied",
		Features:    []backend.Feature{backend.FeatureVM},
		// Applied anyway by the harness, it silently does nothing.
		Fixtures: []suite.Fixture{{Name: "vm", Step: "short-host"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			set, err := s.Load("vm", "short-host")
			Expect(err).NotTo(HaveOccurred())
			findings := meshlint.VirtualServiceHosts(set.Configs, set.Domain, nil)
			Expect(findings).To(HaveLen(1))
			Expect(findings[0].String()).To(ContainSubstring(`host "hello" resolves to hello.vm.svc.cluster.local, which no Service or ServiceEntry declares`))
			Expect(findings[0].String()).To(ContainSubstring("did you mean hello.example.com?"))

			// The client's route for the ServiceEntry's host carries no
			// 0/100 split.
			req := helloTrace(ctx, s)
			d := dump(ctx, s, "vm", "sleep")
			Expect(d).NotTo(RouteRequest(req).ToCluster(helloDocker))
			Expect(d).NotTo(RouteRequest(req).ToWeightedClusters(map[string]uint32{helloDocker: 100}))
		},
	}
}
