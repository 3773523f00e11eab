package gate

import (
	"context"
	"errors"
	"io/fs"
	"strings"

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
		out = append(out, byCheck(r.Run(ctx, f.Name, fx, spec, f.Step))...)
	}
	return out, nil
}

// byCheck makes one Check per expect.yaml check, named the same on both
// sides whatever results it gave (its file, kind and subject: the part of
// a result's name before the first ": ", since a failure adds what failed
// and may point at a nested line): the worst outcome, and the evidence of
// every result that did not pass.
func byCheck(rs []checks.Result) []Check {
	var out []Check
	at := map[string]int{}
	rank := map[string]int{Passed: 0, UndecidedOutcome: 1, Failed: 2}
	for _, r := range rs {
		file, _, _ := strings.Cut(r.Source, ":")
		subject, _, _ := strings.Cut(r.Name, ": ")
		name := "expect " + file + " " + string(r.Kind) + " " + subject
		i, ok := at[name]
		if !ok {
			at[name] = len(out)
			i = len(out)
			out = append(out, Check{Name: name, Outcome: Passed})
		}
		outcome := Passed
		switch r.Status {
		case checks.Fail:
			outcome = Failed
		case checks.Undecided:
			outcome = UndecidedOutcome
		}
		if outcome == Passed {
			continue
		}
		if rank[outcome] > rank[out[i].Outcome] {
			out[i].Outcome = outcome
		}
		out[i].Evidence = strings.TrimSpace(out[i].Evidence + "\n" + r.String())
	}
	return out
}
