package tests

import (
	"context"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/suite"
)

// whoami's subset clusters; %s is the run's namespace of the fixture's whoami (s.NS).
const (
	whoamiV1 = "outbound|80|v1|whoami.%s.svc.cluster.local"
	whoamiV2 = "outbound|80|v2|whoami.%s.svc.cluster.local"
)

// whoamiStep runs the checks fixtures/whoami/expect.yaml carries for a step
// (the gateway's route weights and endpoints, the interception rules, one
// request's path in the access logs, the split through the ingress), as
// meshcheck run does.
func whoamiStep(step, description string, labels ...string) suite.Test {
	return fixtureStep("whoami", step, description, labels...)
}

// fixtureStep runs the checks a fixture's expect.yaml carries for one of
// its steps, with the run's fixture variables (through the Gateway API its
// when: {ingress: gateway-api} entries), as meshcheck run does.
func fixtureStep(fixture, step, description string, labels ...string) suite.Test {
	return suite.Test{
		ShortName:   fixture + "-" + step,
		Description: description,
		Fixtures:    []suite.Fixture{{Name: fixture, Step: step}},
		Labels:      labels,
		Test: func(ctx context.Context, s *suite.Suite) {
			set, err := s.Load(fixture, step)
			Expect(err).NotTo(HaveOccurred())
			c, err := fixtures.Default()
			Expect(err).NotTo(HaveOccurred())
			spec, fx, err := expect.LoadFixture(c, fixture, fixtures.Options{Namespace: set.Namespace, Vars: set.Vars})
			Expect(err).NotTo(HaveOccurred())
			r := &checks.Runner{Backend: s.Backend, Timeouts: s.Timeouts, IstioVersion: s.Versions.Istio}
			results := r.Run(ctx, fixture, fx, spec, step)
			Expect(results).NotTo(BeEmpty())
			for _, res := range results {
				s.Logf("%s", res)
				recordResult(s, res)
				Expect(res.Status).To(Equal(checks.Pass), "%s", res)
			}
		},
	}
}

// recordResult hands a check's split decision, the flow it followed and
// the interception behaviours it simulated to the run's report.
func recordResult(s *suite.Suite, res checks.Result) {
	if res.Split != nil {
		s.Record(suite.RecordSplit, suite.SplitRecord{Name: res.Name, Fixture: res.Fixture, Step: res.Step, Result: *res.Split})
	}
	if res.Flow != nil {
		s.Record(suite.RecordPath, suite.PathRecord{Name: res.Name, Fixture: res.Fixture, Step: res.Step, Flow: *res.Flow})
	}
	if in := res.Interception; in != nil {
		s.Record(suite.RecordInterception, suite.InterceptionRecord{Workload: in.Workload, Istio: in.Istio, Fixture: res.Fixture, Step: res.Step, Behaviours: in.Behaviours})
	}
}
