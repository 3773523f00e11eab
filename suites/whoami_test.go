package suites

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
)

const (
	whoamiV1 = "outbound|80|v1|whoami.whoami.svc.cluster.local"
	whoamiV2 = "outbound|80|v2|whoami.whoami.svc.cluster.local"
)

var whoamiReq = trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "whoami.example.com", Path: "/"}

// sampleSplit drives the statistical split test through the ingress.
func sampleSplit(ctx context.Context, weights string) split.Result {
	w, err := split.ParseWeights(weights)
	Expect(err).NotTo(HaveOccurred())
	test, err := split.New(w, split.Options{})
	Expect(err).NotTo(HaveOccurred())
	ingress, err := mesh.Ingress(ctx)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithTimeout(ctx, tmo.SplitSampling)
	defer cancel()
	res, err := split.Sampler{Test: test, Sample: traffic.SampleFunc(ingress, traffic.Request{Host: "whoami.example.com", Path: "/"}, tmo.Request, traffic.Whoami{})}.Run(ctx)
	Expect(err).NotTo(HaveOccurred())
	return res
}

var _ = Describe("whoami", Label("whoami"), Ordered, func() {
	AfterAll(func(ctx SpecContext) {
		Expect(mesh.Apply(ctx, load("whoami", "90-10"))).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
	})
	It("has the 90/10 weighted route in the gateway's config", Label("xds"), func(ctx SpecContext) {
		gw := dump(ctx, proxy(ctx, "istio-system", "istio-ingressgateway"))
		Expect(gw).To(RouteRequest(whoamiReq).ToWeightedClusters(map[string]uint32{whoamiV1: 90, whoamiV2: 10}))
		Expect(gw).To(HaveHealthyEndpoints(whoamiV1, 1))
		Expect(gw).To(HaveHealthyEndpoints(whoamiV2, 1))
	})

	It("splits traffic through the ingress 90/10 (sequential test, false-fail 1e-6, power 0.999)", func(ctx SpecContext) {
		res := sampleSplit(ctx, "v1=90,v2=10")
		Expect(res.Decision).To(Equal(split.Pass), "%s", res.Reason)
		GinkgoWriter.Printf("90/10 decided after %d requests: %v\n", res.Samples, res.Counts)
	})

	It("follows a VirtualService step to 50/50, in config and in traffic", func(ctx SpecContext) {
		Expect(mesh.Apply(ctx, load("whoami", "50-50"))).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
		gw := dump(ctx, proxy(ctx, "istio-system", "istio-ingressgateway"))
		Expect(gw).To(RouteRequest(whoamiReq).ToWeightedClusters(map[string]uint32{whoamiV1: 50, whoamiV2: 50}))
		res := sampleSplit(ctx, "v1=50,v2=50")
		Expect(res.Decision).To(Equal(split.Pass), "%s", res.Reason)
		GinkgoWriter.Printf("50/50 decided after %d requests: %v\n", res.Samples, res.Counts)
	})
})
