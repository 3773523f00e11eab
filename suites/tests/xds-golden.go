package tests

import (
	"context"
	"path/filepath"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/suite"
)

// goldenPath is a golden of the backend in use: the embedded mesh's at the
// top of testdata/golden, each other backend's in a directory of its name
// (a real istio-agent bootstrap and Istio build differ from the embedded
// mesh's).
func goldenPath(s *suite.Suite, file string) string {
	if s.Backend.Name() == "embedded" {
		return filepath.Join(s.TestData, "golden", file)
	}
	return filepath.Join(s.TestData, "golden", s.Backend.Name(), file)
}

// xdsGolden compares two proxies' normalized config with their goldens
// (refresh: MESHCHECK_UPDATE_GOLDEN=1 make e2e-local LABELS=xds).
func xdsGolden() []suite.Test {
	var out []suite.Test
	for _, e := range []struct{ short, what, namespace, prefix, file string }{
		{"gateway", "the ingress gateway", "istio-system", "istio-ingressgateway", "gateway.json"},
		{"productpage", "productpage's sidecar", "default", "productpage-v1", "productpage.json"},
	} {
		out = append(out, suite.Test{
			ShortName:   "xds-golden-" + e.short,
			Description: "matches the normalized golden of " + e.what + " (refresh: MESHCHECK_UPDATE_GOLDEN=1 make e2e-local LABELS=xds)",
			Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
			Labels:      []string{"xds"},
			Test: func(ctx context.Context, s *suite.Suite) {
				opts := golden.Options{RedactEndpointIPs: true, DynamicOnly: true}
				if backend.Has(s.Backend, backend.FeatureServiceVIPs) {
					vips, err := s.Backend.ServiceVIPs(ctx)
					Expect(err).NotTo(HaveOccurred())
					opts.RenameIPs = vips
				}
				doc, err := golden.Normalize(dump(ctx, s, e.namespace, e.prefix), opts)
				Expect(err).NotTo(HaveOccurred())
				delete(doc, "secrets") // certificates are made per run
				Expect(golden.Compare(goldenPath(s, e.file), doc)).To(Succeed())
			},
		})
	}
	return out
}
