package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/suite"
)

func bookinfoCrossNode() suite.Test {
	return suite.Test{
		ShortName:   "bookinfo-cross-node",
		Description: "crosses nodes: on a multi-node cluster its pods spread, and productpage reaches a reviews pod on another node",
		Features:    []backend.Feature{backend.FeatureMultiNode},
		Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			ws, err := s.Backend.Workloads(ctx)
			Expect(err).NotTo(HaveOccurred())
			nodes := map[string][]string{}
			for _, w := range ws {
				if w.Namespace == s.NS("default") && w.Node != "" {
					nodes[w.Node] = append(nodes[w.Node], w.Name)
				}
			}
			Expect(len(nodes)).To(BeNumerically(">=", 2), "the %s backend is multi-node, yet Bookinfo's pods by node are %v", s.Backend.Name(), nodes)
			pp := workload(ctx, s, "default", "productpage-v1")
			cross := ""
			for _, v := range []string{"v1", "v2", "v3"} {
				if r := workload(ctx, s, "default", "reviews-"+v); r.Node != pp.Node {
					cross = v
					break
				}
			}
			Expect(cross).NotTo(BeEmpty(), "productpage on %s and every reviews pod on the same node; pods by node: %v", pp.Node, nodes)
			crossNode := workload(ctx, s, "default", "reviews-"+cross).Node
			ingress, err := s.Backend.Ingress(ctx)
			Expect(err).NotTo(HaveOccurred())
			var last traffic.Result
			Eventually(func() string {
				last = traffic.Do(ctx, ingress, productpage(s), s.Timeouts.Request, traffic.BookinfoPage{})
				return last.Version
			}).WithContext(ctx).WithTimeout(s.Timeouts.Convergence).Should(Equal(cross),
				"productpage (node %s) never showed reviews %s (node %s); last: %s", pp.Node, cross, crossNode, &last)
			Expect(last.Status).To(Equal(200))
			s.Logf("cross-node path: productpage on %s -> reviews-%s on %s; pods by node: %v", pp.Node, cross, crossNode, nodes)
		},
	}
}
