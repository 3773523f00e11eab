package tests

import (
	"context"
	"path/filepath"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/xds/expect"
	"github.com/meshcheck/meshcheck/suite"
)

// xdsExpect checks two proxies against the expect specs in
// testdata/expect, with the Istio version under test.
func xdsExpect() []suite.Test {
	var out []suite.Test
	for _, e := range []struct {
		short, what, namespace, prefix, spec string
		vars                                 map[string]string
	}{
		{"gateway", "the ingress gateway", "istio-system", "istio-ingressgateway", "gateway.yaml", istioIngress},
		{"productpage", "productpage's sidecar", "default", "productpage-v1", "productpage.yaml", nil},
	} {
		out = append(out, suite.Test{
			ShortName:   "xds-expect-" + e.short,
			Vars:        e.vars,
			Description: "meets the expectations for " + e.what + " (testdata/expect/" + e.spec + ")",
			Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
			Labels:      []string{"xds"},
			Test: func(ctx context.Context, s *suite.Suite) {
				p := proxy(ctx, s, e.namespace, e.prefix)
				spec, err := expect.LoadFile(filepath.Join(s.TestData, "expect", e.spec))
				Expect(err).NotTo(HaveOccurred())
				d, err := s.Dump(ctx, p)
				Expect(err).NotTo(HaveOccurred())
				rep, err := expect.Check(d, spec, expect.Options{IstioVersion: s.Versions.Istio, Vars: expectVars(s, p)})
				Expect(err).NotTo(HaveOccurred())
				Expect(rep.Failures).To(BeEmpty())
				Expect(rep.Checked).To(BeNumerically(">", 5))
			},
		})
	}
	return out
}

// expectVars are the variables of testdata/expect: the proxy's IP, and
// the namespaces and hosts the run gives Bookinfo and whoami.
func expectVars(s *suite.Suite, p backend.Proxy) map[string]string {
	bookinfo, err := s.Load("bookinfo", "")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	whoami, err := s.Load("whoami", "")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return map[string]string{
		"podIP": p.IP, "namespace": s.NS("default"), "whoamiNamespace": s.NS("whoami"),
		"bookinfoHost": bookinfo.Vars[suite.HostVar], "bookinfoRequest": s.Host("bookinfo.example.com"), "whoamiHost": whoami.Vars[suite.HostVar],
	}
}
