package suites

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/fixtures/expect"
)

// The whoami specs run the checks the fixture carries, fixtures/whoami/
// expect.yaml (the gateway's route weights and endpoints, the interception
// rules, one request's path in the access logs, the split through the
// ingress), as meshcheck run does.
var _ = Describe("whoami", Label("whoami"), Ordered, func() {
	var (
		spec *expect.Expect
		fx   expect.Fixture
	)
	BeforeAll(func() {
		c, err := fixtures.Default()
		Expect(err).NotTo(HaveOccurred())
		fx, err = expect.FixtureOf(c, "whoami", fixtures.Options{Vars: load("whoami", "").Vars})
		Expect(err).NotTo(HaveOccurred())
		data, file, err := c.ReadFile("whoami", fixtures.ExpectFile)
		Expect(err).NotTo(HaveOccurred())
		spec, err = expect.Load(data, file, fx)
		Expect(err).NotTo(HaveOccurred())
	})
	AfterAll(func(ctx SpecContext) {
		Expect(mesh.Apply(ctx, load("whoami", "90-10"))).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
	})
	holds := func(ctx context.Context, step string) {
		// No Istio version: whoami's checks carry no version constraint
		// (an item with one would be skipped and listed).
		r := &checks.Runner{Backend: mesh, Timeouts: tmo}
		results := r.Run(ctx, "whoami", fx, spec, step)
		Expect(results).NotTo(BeEmpty())
		for _, res := range results {
			GinkgoWriter.Println(res.String())
			Expect(res.Status).To(Equal(checks.Pass), "%s", res)
		}
	}

	It("holds its expect.yaml at step 90-10: the gateway routes 90/10 and traffic through the ingress splits so (sequential test)", Label("xds"), func(ctx SpecContext) {
		holds(ctx, "90-10")
	})

	It("follows a VirtualService step to 50/50, in config and in traffic", func(ctx SpecContext) {
		Expect(mesh.Apply(ctx, load("whoami", "50-50"))).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
		holds(ctx, "50-50")
	})
})
