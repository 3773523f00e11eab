package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/open"
	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/mutate"
	"github.com/meshcheck/meshcheck/suite"
)

// mutateOptions are the flags of meshcheck mutate.
type mutateOptions struct {
	only   []string
	suites bool
	cfg    config.Run
	envErr error
	output outputFormat
}

func newMutateCmd(s streams) *cobra.Command {
	o := &mutateOptions{}
	o.cfg, o.envErr = config.FromEnv(os.Getenv)
	c := &cobra.Command{
		Use:   "mutate [--only NAME ...] [flags]",
		Short: "apply each catalogued regression to a copy of a bundled fixture, run its checks, and score the catch strictly",
		Long: `For each configuration mutation of the catalog (mutate/catalog.yaml): copies
the bundled fixture folder it names, applies its edit, and runs the copy as
meshcheck run --fixtures does (a mesh of its own; run as root for the
embedded mesh). An interception mutation runs its fixture unchanged with
istio-iptables' configuration changed for the pods it selects, and one
with ingressTargetPort changes the gateway Service's targetPort: the
embedded backend makes those changes (kind refuses them). A mutation is
caught only when a check of a kind it names
failed with a message holding every word it names. Each bundled fixture the
catalog uses also runs once unmutated (a failure there is a false alarm).
A control-plane mutation applies its patch (mutate/patches/) to a fresh
copy of the pinned istio.io/istio module under the cache
(~/.cache/meshcheck/mutate/<name>/istio), builds the control plane from it
(only the changed packages recompile) and runs every bundled fixture on it;
a version-skew one runs them with its Envoy declaring its newer Istio.
Both also run every suite (hack/e2e-local.sh, so run it from this
repository; --suites=false skips them), and a spec the entry names must
fail with the cause named too. The bundled fixtures also run unmutated on
the pinned control plane, and on each skew Envoy declaring its own release.
The matrix goes to <report-dir>/detection.json and detection.md, each run's
report and evidence under <report-dir>/mutate/<name>/.

Exit codes: 0 every mutation run was caught and the clean runs passed, 1
otherwise, 64 usage, 65 a bad catalog or an unknown --only name.`,
		Example: `  meshcheck mutate
  meshcheck mutate --only weights-flipped -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMutate(cmd.Context(), s, o) },
	}
	c.Flags().StringArrayVar(&o.only, "only", nil, "run only this mutation (repeatable)")
	c.Flags().BoolVar(&o.suites, "suites", true, "also run every suite against each control-plane and version-skew mutation (hack/e2e-local.sh: run from this repository)")
	o.cfg.AddFlags(c.Flags())
	addOutputFlag(c, &o.output)
	return c
}

func runMutate(ctx context.Context, s streams, o *mutateOptions) error {
	if o.envErr != nil {
		return usageErr("%v", o.envErr)
	}
	selected, err := selectMutations(o.only)
	if err != nil {
		return err
	}
	if o.cfg.Backend == config.Embedded && o.cfg.Binary == "" {
		if o.cfg.Binary, err = os.Executable(); err != nil {
			return exitWith(exitFail, fmt.Errorf("the meshcheck binary for the pods: %w", err))
		}
	}
	rep := mutate.Report{Mutations: []mutate.Outcome{}}
	for _, c := range cleanRuns(o.cfg, selected) {
		res, err := runMutated(ctx, s, c.cfg, c.name, c.prepare, embedded.Changes{})
		rep.Clean.Runs++
		if err != nil || checks.Summary(res)[checks.Fail] > 0 {
			rep.Clean.Failures++
			fmt.Fprintf(s.Out, "%s: FAILED (a false alarm) %v\n", c.name, err)
		}
	}
	for _, m := range selected {
		rep.Mutations = append(rep.Mutations, scoreMutation(ctx, s, o, m))
	}
	return writeDetection(s, o.cfg.ReportDir, rep, o.output.json())
}

// selectMutations reads the catalog and keeps the --only names (all when
// none is given).
func selectMutations(only []string) ([]mutate.Mutation, error) {
	all, err := mutate.Default()
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	if len(only) == 0 {
		return all, nil
	}
	var out []mutate.Mutation
	var names []string
	for _, m := range all {
		names = append(names, m.Name)
		if slices.Contains(only, m.Name) {
			out = append(out, m)
		}
	}
	for _, n := range only {
		if !slices.Contains(names, n) {
			return nil, exitWith(exitBadInput, fmt.Errorf("--only %q: no such mutation in %s (have %v)", n, mutate.CatalogFile, names))
		}
	}
	return out, nil
}

// cleanRun is an unmutated run the mutations are measured against: a
// failure there is a false alarm.
type cleanRun struct {
	name    string
	cfg     config.Run
	prepare func(dir string) ([]string, error)
}

// cleanRuns are, for the selected mutations that run: each fixture a
// configuration mutation patches, once; every bundled fixture on the
// pinned control plane when a control-plane or version-skew one runs;
// and for each version-skew Envoy, every bundled fixture with the proxies
// declaring the Istio release that ships it (the skew alone is the cause).
func cleanRuns(cfg config.Run, ms []mutate.Mutation) []cleanRun {
	var out []cleanRun
	seen := map[string]bool{}
	add := func(name string, cfg config.Run, prepare func(dir string) ([]string, error)) {
		if !seen[name] {
			seen[name] = true
			out = append(out, cleanRun{name, cfg, prepare})
		}
	}
	for _, m := range ms {
		switch {
		case m.Pending != "":
		case m.Kind == mutate.Configuration || m.Kind == mutate.Interception:
			fixture := m.Fixture
			add("clean-"+fixture, cfg, oneFolder(func(dir string) error { return mutate.CopyFixture(fixtures.Embedded(), fixture, dir) }))
		case m.Kind == mutate.ControlPlane:
			add("clean-bundled", cfg, bundledFolders)
		case m.Kind == mutate.VersionSkew:
			add("clean-bundled", cfg, bundledFolders)
			envoy := cfg
			envoy.Envoy, envoy.ProxyVersion = m.Envoy, ""
			add("clean-bundled-envoy-"+m.Envoy, envoy, bundledFolders)
		}
	}
	return out
}

// scoreMutation runs one mutation and scores it; a kind that is not
// applied yet is reported as a miss saying so.
func scoreMutation(ctx context.Context, s streams, o *mutateOptions, m mutate.Mutation) mutate.Outcome {
	start := now()
	var out mutate.Outcome
	switch {
	case m.Pending != "":
		return mutate.Outcome{Name: m.Name, Kind: m.Kind, CaughtBy: []string{}, Message: "not run: " + m.Pending}
	case m.Kind == mutate.Configuration || m.Kind == mutate.Interception:
		changes, err := changesOf(m)
		var res []checks.Result
		if err == nil {
			res, err = runMutated(ctx, s, o.cfg, m.Name, oneFolder(func(dir string) error { return mutate.Apply(m, fixtures.Embedded(), dir) }), changes)
		}
		out = mutate.Score(m, res)
		if err != nil {
			out.Message = err.Error()
		}
	default:
		out = scoreMesh(ctx, s, o, m)
	}
	out.Seconds = now().Sub(start).Seconds()
	verdict := "MISSED"
	if out.Caught {
		verdict = "caught"
	}
	fmt.Fprintf(s.Out, "%-30s %-13s %s (%.0f s)\n", m.Name, m.Kind, verdict, out.Seconds)
	return out
}

// changesOf are a mutation's changes of what the embedded backend
// declares or installs itself: its pods' rules, the gateway Service.
func changesOf(m mutate.Mutation) (embedded.Changes, error) {
	c := embedded.Changes{IngressTargetPort: m.IngressTargetPort}
	if m.Interception == nil {
		return c, nil
	}
	changes, err := m.Interception.Changes()
	if err != nil {
		return c, err
	}
	c.Interception = []embedded.PodInterception{{Pod: m.Interception.Pod, Changes: changes}}
	return c, nil
}

// oneFolder is a runMutated prepare step that fills one folder.
func oneFolder(fill func(dir string) error) func(dir string) ([]string, error) {
	return func(dir string) ([]string, error) { return []string{dir}, fill(dir) }
}

// runMutated prepares the fixture folders under dir with prepare and runs
// them as meshcheck run --fixtures does, on a mesh of its own (with what
// the backend declares changed as changes say); its report
// and evidence go under <report-dir>/mutate/<name>/, its log to log.txt
// there. A mesh that did not come up is an error and, when the readiness
// check failed on it, a failed check of kind sync (mutate.Sync).
func runMutated(ctx context.Context, s streams, cfg config.Run, name string, prepare func(dir string) ([]string, error), changes embedded.Changes) ([]checks.Result, error) {
	out := filepath.Join(cfg.ReportDir, "mutate", name)
	if err := os.RemoveAll(out); err != nil {
		return nil, err
	}
	dirs, err := prepare(filepath.Join(out, "fixture"))
	if err != nil {
		return nil, err
	}
	catalog, folders, err := readFolders(dirs, runVars(cfg))
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(out, "log.txt"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cfg.ReportDir = out
	b, err := open.WithChanges(ctx, cfg, log, changes)
	if err != nil {
		return nil, err
	}
	rep, _ := runSuite(ctx, streams{Out: log, Err: log}, b, cfg, catalog, folders)
	if err := suite.WriteJSON(filepath.Join(out, "run-"+b.Name()+".json"), rep); err != nil {
		return nil, err
	}
	if rep.Setup != "" {
		return append(rep.Results, setupResult(rep.Setup)), fmt.Errorf("the mesh did not come up: %s", rep.Setup)
	}
	return rep.Results, nil
}

// setupResult is a mesh's failed bring-up as the readiness check that
// failed: every proxy must ACK the control plane's current push.
func setupResult(setup string) checks.Result {
	return checks.Result{Fixture: "mesh", Kind: mutate.Sync, Name: "every proxy ACKs the control plane's current push (the mesh's readiness)",
		Source: "setup", Status: checks.Fail, Expected: "every proxy synced, no NACK", Actual: setup}
}

// writeDetection writes the matrix and prints it (Markdown, or JSON with
// -o json); exit 1 when a mutation run was missed or a clean run failed.
func writeDetection(s streams, dir string, rep mutate.Report, asJSON bool) error {
	if err := suite.WriteJSON(filepath.Join(dir, "detection.json"), rep); err != nil {
		return exitWith(exitFail, err)
	}
	md := rep.Markdown()
	if err := os.WriteFile(filepath.Join(dir, "detection.md"), []byte(md), 0o644); err != nil {
		return exitWith(exitFail, err)
	}
	if asJSON {
		if err := writeJSON(s.Out, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(s.Out, md)
	}
	for _, m := range rep.Mutations {
		if !m.Caught && !strings.HasPrefix(m.Message, "not run: ") {
			return exitCode(exitFail)
		}
	}
	if rep.Clean.Failures > 0 {
		return exitCode(exitFail)
	}
	return nil
}
