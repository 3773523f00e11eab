package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/suite"
	"github.com/meshcheck/meshcheck/timeouts"
)

// runSuite brings the mesh up with every folder's base objects, walks each
// folder's steps, runs the checks and returns the report and the exit code.
func runSuite(ctx context.Context, s streams, b backend.Backend, cfg config.Run, c *fixtures.Catalog, folders []folder) (*runReport, int) {
	start := now()
	rep := &runReport{APIVersion: expect.APIVersion, Kind: "RunReport", Backend: b.Name(), Results: []checks.Result{}, Evidence: map[string]string{}}
	var bases []suite.Fixture
	for _, f := range folders {
		rep.Fixtures = append(rep.Fixtures, f.name+" ("+f.dir+")")
		bases = append(bases, suite.Fixture{Name: f.name})
	}
	st, err := suite.New(suite.Options{Backend: b, Timeouts: timeouts.Default(), Reports: cfg.ReportDir, Fixtures: bases, Catalog: c, Log: s.Err})
	if err != nil {
		rep.Setup = err.Error()
		return rep, exitFail
	}
	defer func() {
		// A fresh context: the run's may be interrupted, and the mesh must go.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := st.Down(dctx); err != nil {
			fmt.Fprintf(s.Err, "meshcheck run: tearing the mesh down: %v\n", err)
		}
	}()
	st.Logf("meshcheck run: bringing up the %s mesh with %s", b.Name(), strings.Join(rep.Fixtures, ", "))
	if err := st.Up(ctx); err != nil {
		rep.Setup = err.Error()
		rep.Evidence["setup"] = st.EvidenceDir("run-setup")
		_ = st.Failed(context.WithoutCancel(ctx), "run-setup", err.Error())
		return rep, exitFail
	}
	rep.Versions = st.Versions
	runner := &checks.Runner{Backend: b, Timeouts: st.Timeouts, IstioVersion: st.Versions.Istio}
	for _, f := range folders {
		runFolder(ctx, st, runner, c, f, rep)
	}
	rep.Summary = checks.Summary(rep.Results)
	rep.Seconds = now().Sub(start).Seconds()
	return rep, exitFor(rep.Summary)
}

// runFolder checks a folder's base objects (applied by Up), then applies
// each step and checks it. A step marked broken (wrong on purpose, for a
// check to catch) is not walked.
func runFolder(ctx context.Context, st *suite.Suite, runner *checks.Runner, c *fixtures.Catalog, f folder, rep *runReport) {
	fixture, _ := c.Get(f.name)
	steps := []string{""}
	for _, s := range fixture.Steps {
		if s.Broken {
			st.Logf("meshcheck run: %s@%s is broken on purpose; not walked", f.name, s.Name)
			continue
		}
		steps = append(steps, s.Name)
	}
	for _, step := range steps {
		state := f.name + "@" + step
		if step == "" {
			state = f.name + "@base"
		}
		phase := progress.FromContext(ctx).Start(state)
		set, err := st.Load(f.name, step)
		var fx expect.Fixture
		if err == nil && step != "" {
			if err = st.Backend.Apply(ctx, set); err == nil {
				err = st.Backend.WaitReady(ctx)
			}
		}
		if err == nil {
			fx, err = expect.FixtureOf(c, f.name, fixtures.Options{Namespace: set.Namespace, Vars: set.Vars})
		}
		if err != nil {
			res := checks.Result{Fixture: f.name, Step: step, Kind: "apply", Name: "apply " + state, Source: f.dir, Status: checks.Fail, LastError: err.Error()}
			rep.Results = append(rep.Results, res)
			evidence(ctx, st, rep, state, []checks.Result{res})
			phase.Done(err)
			return
		}
		st.Logf("meshcheck run: %s applied and ready; checking", state)
		results := runner.Run(ctx, f.name, fx, f.expect, step)
		rep.Results = append(rep.Results, results...)
		evidence(ctx, st, rep, state, results)
		phase.Done(notPassed(results))
	}
}

// evidence writes the evidence of a state with a failed or undecided check.
func evidence(ctx context.Context, st *suite.Suite, rep *runReport, state string, results []checks.Result) {
	var bad []string
	for _, r := range results {
		if r.Status != checks.Pass {
			bad = append(bad, r.String())
		}
	}
	if len(bad) == 0 {
		return
	}
	name := "run-" + state
	rep.Evidence[state] = st.EvidenceDir(name)
	if err := st.Failed(ctx, name, strings.Join(bad, "\n\n")); err != nil {
		st.Logf("meshcheck run: evidence of %s: %v", state, err)
	}
}

// exitFor is 1 when a check failed, 4 when one was undecided, else 0.
func exitFor(sum map[checks.Status]int) int {
	switch {
	case sum[checks.Fail] > 0:
		return exitFail
	case sum[checks.Undecided] > 0:
		return exitUndecided
	}
	return exitOK
}

// printRun prints every result and the summary.
func printRun(s streams, rep *runReport) {
	if rep.Setup != "" {
		fmt.Fprintf(s.Out, "SETUP FAILED: %s\n", rep.Setup)
	}
	for _, r := range rep.Results {
		step := r.Step
		if step == "" {
			step = "base"
		}
		fmt.Fprintf(s.Out, "[%s@%s] %s\n", r.Fixture, step, r)
	}
	for _, state := range sortedKeys(rep.Evidence) {
		fmt.Fprintf(s.Out, "evidence of %s: %s\n", state, rep.Evidence[state])
	}
	sum := rep.Summary
	fmt.Fprintf(s.Out, "%d passed, %d failed, %d undecided (%s backend, %.1fs)\n", sum[checks.Pass], sum[checks.Fail], sum[checks.Undecided], rep.Backend, rep.Seconds)
}

// notPassed is an error counting the results that did not pass; nil when
// all passed.
func notPassed(results []checks.Result) error {
	n := 0
	for _, r := range results {
		if r.Status != checks.Pass {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d checks did not pass", n, len(results))
}
