package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/open"
	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/suite"
)

// runOptions are the flags of meshcheck run.
type runOptions struct {
	dirs   []string
	cfg    config.Run
	envErr error // from the environment, reported when the command runs
	output outputFormat
}

func newRunCmd(s streams) *cobra.Command {
	o := &runOptions{}
	o.cfg, o.envErr = config.FromEnv(os.Getenv)
	c := &cobra.Command{
		Use:   "run --fixtures DIR [--fixtures DIR ...] [--backend embedded|kind|kube] [flags]",
		Short: "bring up a mesh, apply fixture folders step by step and run the checks they carry (expect.yaml)",
		Long: `Brings up the mesh (the embedded mesh by default: run as root; its control
plane is a process of its own, started with pilot's environment), applies each fixture folder's base objects, runs
its expect.yaml checks, then applies each step in order and runs the checks
that apply to it (docs/fixtures.md, "Checks a fixture carries"). Every result
is printed; the report goes to <report-dir>/run-<backend>.json and the
evidence of every state with a failure under
<report-dir>/evidence/<backend>/run-<fixture>-<step>/.

With --backend kube the mesh is any cluster a kubeconfig reaches: Istio
installed by istioctl (--istio install) or the one it runs (--istio
existing: detected, and refused before anything is created when the
suites' needs are missing). Every fixture goes into a namespace of the
run's own, <namespace>-<run ID>, labelled meshcheck.dev/run=<run ID>, and
those are deleted at the end; --dry-run prints what would be created
(docs/cluster.md).

Exit codes: 0 every check holds, 1 a check failed (or the mesh did not come
up), 4 a check could not be decided (and none failed), 64 usage, 65 bad
input (the message names file, line and field), 66 cannot read input.`,
		Example: `  meshcheck run --fixtures fixtures/whoami
  meshcheck run --fixtures fixtures/whoami --report-dir /tmp/meshcheck-reports -o json
  meshcheck run --backend kube --kubeconfig kubeconfig --istio existing --run-id 4f2a9c1e --dry-run --fixtures fixtures/whoami`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFixtures(cmd.Context(), s, o) },
	}
	c.Flags().StringArrayVar(&o.dirs, "fixtures", nil, "a fixture folder (fixture.yaml, its files and steps, expect.yaml); repeatable")
	o.cfg.AddFlags(c.Flags())
	addOutputFlag(c, &o.output)
	completeFlag(c, "backend", string(config.Embedded), string(config.Kind), string(config.Kube))
	completeFlag(c, "istio", "install", "existing")
	return c
}

// folder is one --fixtures folder, read and checked before the mesh is up.
type folder struct {
	dir    string
	name   string
	expect *expect.Expect
}

// runReport is what meshcheck run writes to <report-dir>/run-<backend>.json.
type runReport struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Backend    string                `json:"backend"`
	Versions   backend.Versions      `json:"versions"`
	Fixtures   []string              `json:"fixtures"`
	Seconds    float64               `json:"seconds"`
	Summary    map[checks.Status]int `json:"summary"`
	Results    []checks.Result       `json:"results"`
	Evidence   map[string]string     `json:"evidence,omitempty"`
	Setup      string                `json:"setupError,omitempty"`
}

func runFixtures(ctx context.Context, s streams, o *runOptions) error {
	if o.envErr != nil {
		return usageErr("%v", o.envErr)
	}
	if len(o.dirs) == 0 {
		return usageErr("no --fixtures folder given")
	}
	catalog, folders, err := readFolders(o.dirs, runVars(o.cfg))
	if err != nil {
		return err
	}
	if o.cfg.Backend == config.Embedded {
		if o.cfg.Binary == "" {
			if o.cfg.Binary, err = os.Executable(); err != nil {
				return exitWith(exitFail, fmt.Errorf("the meshcheck binary for the pods: %w", err))
			}
		}
	}
	b, err := open.New(ctx, o.cfg, s.Err)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.cfg.Kube.DryRun {
		return dryRun(s, b, o.cfg, catalog, folders)
	}
	// The mesh's phases and each fixture state on stderr: a live line on a
	// terminal, GitHub groups otherwise.
	ctx = progress.WithContext(ctx, progress.For(s.Err))
	rep, code := runSuite(ctx, s, b, o.cfg, catalog, folders)
	if err := suite.WriteJSON(filepath.Join(o.cfg.ReportDir, "run-"+b.Name()+".json"), rep); err != nil {
		fmt.Fprintf(s.Err, "meshcheck run: %v\n", err)
	}
	if o.output.json() {
		if err := writeJSON(s.Out, rep); err != nil {
			return err
		}
	} else {
		printRun(s, rep)
	}
	return exitCode(code)
}

// runVars are the fixture variables a run's configuration sets (the
// backend hands them to the fixtures): the ingress API.
func runVars(cfg config.Run) map[string]string {
	if cfg.Ingress == "" {
		return nil
	}
	return map[string]string{"ingress": cfg.Ingress}
}

// readFolders reads every folder into one catalog, and each expect.yaml,
// strictly, before anything starts; vars are the run's fixture variables
// (an expect.yaml entry whose when they contradict is dropped).
func readFolders(dirs []string, vars map[string]string) (*fixtures.Catalog, []folder, error) {
	c, names, err := fixtures.OpenDirs(dirs...)
	if err != nil {
		return nil, nil, inputErr(err)
	}
	var out []folder
	for i, name := range names {
		e, _, err := expect.LoadFixture(c, name, placeholderOptions(c, name, vars))
		if err != nil {
			return nil, nil, inputErr(err)
		}
		out = append(out, folder{dir: dirs[i], name: name, expect: e})
	}
	return c, out, nil
}

// placeholderOptions give a required variable of type ip an address of
// TEST-NET-1, so that names can be checked before the mesh (and its VM) is
// up; the checks run with the real values.
func placeholderOptions(c *fixtures.Catalog, name string, vars map[string]string) fixtures.Options {
	opts := fixtures.Options{Vars: map[string]string{}}
	f, _ := c.Get(name)
	for _, v := range f.Vars {
		if val, ok := vars[v.Name]; ok {
			opts.Vars[v.Name] = val
		} else if v.Required && v.Type == "ip" {
			opts.Vars[v.Name] = "192.0.2.1"
		}
	}
	return opts
}

// inputErr is exit 66 for a file that cannot be read, 65 otherwise.
func inputErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return exitWith(exitNoInput, err)
	}
	return exitWith(exitBadInput, err)
}

// now is the clock of the run's report.
var now = time.Now
