package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/review"
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

// reviewedDifferences takes out of a golden mismatch the changes the
// version under test is known to make (testdata/golden/differences/
// istio-<control plane release>.yaml, an accepted-changes file, each
// change with its reason): the goldens are the pinned Istio's, and
// another Istio build legitimately differs only where a reviewed file
// says so. What is left fails as before.
func reviewedDifferences(s *suite.Suite, proxy string, err error) error {
	var mm *golden.MismatchError
	if !errors.As(err, &mm) || golden.Updating() {
		return err
	}
	path := filepath.Join(s.TestData, "golden", "differences", "istio-"+s.Versions.Istio+".yaml")
	if _, statErr := os.Stat(path); statErr != nil {
		return err
	}
	acc, loadErr := review.LoadAccepted(path)
	if loadErr != nil {
		return loadErr
	}
	var left []golden.Change
	for _, c := range mm.Changes {
		if _, _, ok := acc.Match(proxy, c); !ok {
			left = append(left, c)
		}
	}
	if len(left) == 0 {
		fmt.Fprintf(s.Log, "%s: %d changes from the golden, each reviewed in %s\n", mm.Path, len(mm.Changes), path)
		return nil
	}
	return &golden.MismatchError{Path: mm.Path + " (beside the reviewed differences of " + path + ")", Changes: left}
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
			ShortName: "xds-golden-" + e.short,
			// The goldens are of the Istio ingress's Bookinfo (the Gateway
			// API variant adds Services, so clusters, everywhere).
			Vars:        istioIngress,
			Description: "matches the normalized golden of " + e.what + " (refresh: MESHCHECK_UPDATE_GOLDEN=1 make e2e-local LABELS=xds)",
			Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
			Features:    []backend.Feature{backend.FeatureGoldens},
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
				err = reviewedDifferences(s, e.namespace+"/"+e.prefix, golden.Compare(goldenPath(s, e.file), doc))
				var mm *golden.MismatchError
				if errors.As(err, &mm) {
					s.Record(suite.RecordDiff, suite.DiffRecord{Proxy: e.namespace + "/" + e.prefix, Golden: mm.Path, Changes: mm.Changes})
				}
				Expect(err).To(Succeed())
			},
		})
	}
	return out
}
