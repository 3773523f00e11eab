package gate

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/internal/ginkgoreport"
)

// SuiteRun says how the suites run against one side: a script of this
// repository (hack/e2e-local.sh for the embedded mesh, hack/run-suites.sh
// for kind) with the side's environment.
type SuiteRun struct {
	// Repo is this repository's root; Script is relative to it and
	// takes Args.
	Repo, Script string
	Args         []string
	// Name names the run's reports (reports/<Name>.json).
	Name string
	// Source is the side's Istio source, for messages.
	Source string
	// Env is added to this process's environment.
	Env []string
	Log io.Writer
}

// EmbeddedSuites runs the suites on the embedded mesh with the source's
// control plane (and envoy, a binary or a release, when given).
func EmbeddedSuites(repo, source, name, envoy string, log io.Writer) SuiteRun {
	r := SuiteRun{Repo: repo, Script: "hack/e2e-local.sh", Name: name, Source: source, Log: log,
		Env: []string{"ISTIO_SRC=" + source, "SUITES_NAME=" + name, "LABELS="}}
	if envoy != "" {
		r.Env = append(r.Env, "ENVOY="+envoy)
	}
	return r
}

// KindSuites runs the suites on a fresh kind cluster with the images
// (hub, tag) and the istioctl built for the side; the rest of the run's
// configuration (IMAGE_REGISTRY, node image, fixture images) comes from
// this process's environment, as make e2e-airgap sets it.
func KindSuites(repo, source, name, hub, tag, istioctl string, log io.Writer) SuiteRun {
	return SuiteRun{Repo: repo, Script: "hack/run-suites.sh", Args: []string{name, ""}, Name: name, Source: source, Log: log,
		Env: []string{"MESHCHECK_BACKEND=kind", "ISTIO_HUB=" + hub, "ISTIO_TAG=" + tag, "ISTIOCTL=" + istioctl, "ISTIO_SRC=" + source, "LABELS=", "SUITE_TIMEOUT=40m"}}
}

// SuiteChecks runs the Ginkgo suites as r says and returns every spec's
// outcome, its failure as the evidence. A run that fails is not an error:
// its specs say so; a run that leaves no report is.
func SuiteChecks(ctx context.Context, r SuiteRun) ([]Check, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.Repo, r.Script), r.Args...)
	cmd.Dir = r.Repo
	cmd.Env = append(os.Environ(), r.Env...)
	cmd.Stdout, cmd.Stderr = r.Log, r.Log
	runErr := cmd.Run()
	report := filepath.Join(r.Repo, "reports", r.Name+".json")
	checks, err := SpecOutcomes(report)
	if err != nil {
		return nil, fmt.Errorf("the suites against %s (%v): %w", r.Source, runErr, err)
	}
	return checks, nil
}

// SpecOutcomes reads a Ginkgo JSON report: one Check per It.
func SpecOutcomes(path string) ([]Check, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	reports, err := ginkgoreport.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Check
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if !ginkgoreport.Counts(s) {
				continue
			}
			c := Check{Name: "spec " + s.LeafNodeText, Outcome: Skipped}
			if s.LeafNodeType != types.NodeTypeIt {
				c.Name = "suite " + s.LeafNodeType.String()
			}
			switch ginkgoreport.OutcomeOf(s) {
			case ginkgoreport.Failed:
				c.Outcome, c.Evidence = Failed, strings.TrimSpace(s.Failure.Message)
			case ginkgoreport.Passed:
				c.Outcome = Passed
			}
			out = append(out, c)
		}
	}
	return out, nil
}
