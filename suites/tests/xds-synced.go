package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/xds/lint"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

func xdsSynced() suite.Test {
	return suite.Test{
		ShortName:   "xds-synced",
		Description: "has every proxy lint-clean and holding the control plane's current config (ACKed, no NACK)",
		Labels:      []string{"xds"},
		Test: func(ctx context.Context, s *suite.Suite) {
			Expect(s.Backend.WaitReady(ctx)).To(Succeed())
			proxies, err := s.Backend.Proxies(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(len(proxies)).To(BeNumerically(">=", 9))
			for _, p := range proxies {
				d, err := s.Dump(ctx, p)
				Expect(err).NotTo(HaveOccurred())
				s.Record(suite.RecordLint, suite.LintRecord{Proxy: p.String(), Findings: lint.Lint(d)})
				Expect(d).To(BeLintClean())
			}
			syncs, err := s.Backend.Sync(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(syncs).To(HaveLen(len(proxies)))
			for _, sy := range syncs {
				Expect(sy.Synced()).To(BeTrue(), "%s: %+v", sy, sy.Types)
			}
		},
	}
}
