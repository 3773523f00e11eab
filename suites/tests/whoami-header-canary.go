package tests

import (
	"context"
	"fmt"
	"net/http"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

// whoamiHeaderCanary applies its manifest (testdata/whoami-header-canary.yaml,
// rendered in namespace whoami) before it runs; the harness deletes it after.
func whoamiHeaderCanary() suite.Test {
	return suite.Test{
		ShortName:   "whoami-header-canary",
		Vars:        istioIngress, // its VirtualService binds to the Istio Gateway
		Description: "routes requests with x-canary: always to whoami v2 and the rest to v1, in the gateway's xDS and in traffic",
		Fixtures:    []suite.Fixture{{Name: "whoami"}, {Name: "bookinfo"}},
		Manifests:   []string{"whoami-header-canary.yaml"},
		Namespace:   "whoami",
		Test: func(ctx context.Context, s *suite.Suite) {
			stable := trace.Request{Role: trace.RoleGateway, Port: 8080, Host: s.Host("canary.example.com"), Path: "/"}
			canary := stable
			canary.Headers = map[string]string{"x-canary": "always"}
			gw := dump(ctx, s, "istio-system", "istio-ingressgateway")
			Expect(gw).To(RouteRequest(canary).ToCluster(fmt.Sprintf(whoamiV2, s.NS("whoami"))))
			Expect(gw).To(RouteRequest(stable).ToCluster(fmt.Sprintf(whoamiV1, s.NS("whoami"))))

			ingress, err := s.Backend.Ingress(ctx)
			Expect(err).NotTo(HaveOccurred())
			for _, c := range []struct {
				headers http.Header
				weights string
			}{{http.Header{"X-Canary": {"always"}}, "v1=0,v2=100"}, {nil, "v1=100,v2=0"}} {
				req := traffic.Request{Host: s.Host("canary.example.com"), Path: "/", Headers: c.headers}
				res, err := s.SampleSplit(ctx, ingress, req, traffic.Whoami{}, c.weights)
				Expect(err).NotTo(HaveOccurred())
				Expect(res.Decision).To(Equal(split.Pass), "%s with headers %v: %s", req, c.headers, res.Reason)
				s.Logf("%s with headers %v: %s decided after %d requests: %v", req, c.headers, c.weights, res.Samples, res.Counts)
			}
		},
	}
}
