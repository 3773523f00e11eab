package gate

import (
	"context"
	"errors"
	"io/fs"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/suite"
)

// UndecidedOutcome is a check that could not decide on a side.
const UndecidedOutcome = "undecided"

// ExpectChecks runs the expect.yaml checks the fixtures carry: at the base
// state every base fixture's for its base step, at a step the stepped
// fixture's for that step. A fixture without expect.yaml has none.
func ExpectChecks(ctx context.Context, s *suite.Suite, step suite.Fixture) ([]Check, error) {
	targets := s.BaseFixtures()
	if step.Name != "" {
		targets = []suite.Fixture{step}
	}
	r := &checks.Runner{Backend: s.Backend, Timeouts: s.Timeouts, IstioVersion: s.Versions.Istio}
	var out []Check
	for _, f := range targets {
		set, err := s.Load(f.Name, f.Step)
		if err != nil {
			return nil, err
		}
		spec, fx, err := expect.LoadFixture(s.Catalog(), f.Name, fixtures.Options{Vars: set.Vars})
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, res := range r.Run(ctx, f.Name, fx, spec, f.Step) {
			out = append(out, checkOf(res))
		}
	}
	return out, nil
}

func checkOf(r checks.Result) Check {
	c := Check{Name: "expect " + r.Source + " " + string(r.Kind) + " " + r.Name, Outcome: Passed}
	switch r.Status {
	case checks.Fail:
		c.Outcome, c.Evidence = Failed, r.String()
	case checks.Undecided:
		c.Outcome, c.Evidence = UndecidedOutcome, r.String()
	}
	return c
}
