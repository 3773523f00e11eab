package suites

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/xds/expect"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
)

// goldenPath is a golden of the backend in use: the embedded mesh's at the
// top of testdata/golden, each other backend's in a directory of its name
// (a real istio-agent bootstrap and Istio build differ from the embedded
// mesh's).
func goldenPath(file string) string {
	if mesh.Name() == "embedded" {
		return filepath.Join("testdata", "golden", file)
	}
	return filepath.Join("testdata", "golden", mesh.Name(), file)
}

var _ = Describe("xDS", Label("xds"), func() {
	It("has every proxy lint-clean and holding the control plane's current config (ACKed, no NACK)", func(ctx SpecContext) {
		Expect(mesh.WaitReady(ctx)).To(Succeed())
		proxies, err := mesh.Proxies(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(proxies)).To(BeNumerically(">=", 9))
		for _, p := range proxies {
			Expect(dump(ctx, p)).To(BeLintClean())
		}
		syncs, err := mesh.Sync(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(syncs).To(HaveLen(len(proxies)))
		for _, s := range syncs {
			Expect(s.Synced()).To(BeTrue(), "%s: %+v", s, s.Types)
		}
	})

	DescribeTable("meets the expectations for",
		func(ctx SpecContext, namespace, prefix, spec string) {
			p := proxy(ctx, namespace, prefix)
			s, err := expect.LoadFile(filepath.Join("testdata", "expect", spec))
			Expect(err).NotTo(HaveOccurred())
			rep, err := expect.Check(dump(ctx, p), s, expect.Options{IstioVersion: "1.31.0", Vars: map[string]string{"podIP": p.IP}})
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.Failures).To(BeEmpty())
			Expect(rep.Checked).To(BeNumerically(">", 5))
		},
		Entry("the ingress gateway", "istio-system", "istio-ingressgateway", "gateway.yaml"),
		Entry("productpage's sidecar", "default", "productpage-v1", "productpage.yaml"),
	)

	DescribeTable("matches its normalized golden (refresh: MESHCHECK_UPDATE_GOLDEN=1 make e2e-local LABELS=xds)",
		func(ctx SpecContext, namespace, prefix, file string) {
			opts := golden.Options{RedactEndpointIPs: true, DynamicOnly: true}
			if v, ok := mesh.(vipNamer); ok {
				vips, err := v.ServiceVIPs(ctx)
				Expect(err).NotTo(HaveOccurred())
				opts.RenameIPs = vips
			}
			doc, err := golden.Normalize(dump(ctx, proxy(ctx, namespace, prefix)), opts)
			Expect(err).NotTo(HaveOccurred())
			delete(doc, "secrets") // certificates are made per run
			Expect(golden.Compare(goldenPath(file), doc)).To(Succeed())
		},
		Entry("the ingress gateway", "istio-system", "istio-ingressgateway", "gateway.json"),
		Entry("productpage's sidecar", "default", "productpage-v1", "productpage.json"),
	)
})
