package main

import (
	"fmt"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/suite"
	"github.com/meshcheck/meshcheck/timeouts"
)

// planner is a backend that can say what a run would create (the kube
// backend, whose cluster is not meshcheck's own).
type planner interface {
	RunID() string
	PlanUp() []string
	Plan(set *fixtures.Set) ([]string, error)
}

// dryRun prints what meshcheck run would create: Istio's install (or its
// detection), then every folder's base objects and each step's, in the
// run's namespaces with its label; nothing is created.
func dryRun(s streams, b backend.Backend, cfg config.Run, c *fixtures.Catalog, folders []folder) error {
	p, ok := b.(planner)
	if !ok {
		return usageErr("--dry-run: the %s backend creates its own mesh; only the kube backend (a cluster meshcheck does not own) plans", b.Name())
	}
	var bases []suite.Fixture
	for _, f := range folders {
		bases = append(bases, suite.Fixture{Name: f.name})
	}
	st, err := suite.New(suite.Options{Backend: b, Timeouts: timeouts.Default(), Reports: cfg.ReportDir, Fixtures: bases, Catalog: c, Log: s.Err})
	if err != nil {
		return exitWith(exitFail, err)
	}
	fmt.Fprintf(s.Out, "run %s (dry run: nothing is created)\n", p.RunID())
	for _, l := range p.PlanUp() {
		fmt.Fprintln(s.Out, l)
	}
	for _, f := range folders {
		fx, _ := c.Get(f.name)
		steps := []string{""}
		for _, st := range fx.Steps {
			if !st.Broken {
				steps = append(steps, st.Name)
			}
		}
		for _, step := range steps {
			if err := planStep(s, st, p, f.name, step); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(s.Out, "at the end: delete every namespace labelled %s=%s\n", "meshcheck.dev/run", p.RunID())
	return nil
}

// planStep prints one fixture state's objects.
func planStep(s streams, st *suite.Suite, p planner, name, step string) error {
	set, err := st.Load(name, step)
	if err != nil {
		return inputErr(err)
	}
	lines, err := p.Plan(set)
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	state := name + "@base"
	if step != "" {
		state = name + "@" + step
	}
	fmt.Fprintf(s.Out, "%s:\n", state)
	for _, l := range lines {
		fmt.Fprintln(s.Out, "  "+l)
	}
	return nil
}
