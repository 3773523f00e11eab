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

// SuiteChecks runs the Ginkgo suites (hack/e2e-local.sh in repo) against
// one side's control plane and returns every spec's outcome, its failure
// as the evidence. A run that fails is not an error: its specs say so;
// a run that leaves no report is.
func SuiteChecks(ctx context.Context, repo, source, name string, envoy string, log io.Writer) ([]Check, error) {
	env := []string{"ISTIO_SRC=" + source}
	if envoy != "" {
		env = append(env, "ENVOY="+envoy)
	}
	checks, err := RunSuites(ctx, repo, name, env, log)
	if err != nil {
		return nil, fmt.Errorf("the suites against %s: %w", source, err)
	}
	return checks, nil
}

// RunSuites runs every spec of the suites (hack/e2e-local.sh in repo, its
// reports as reports/NAME.json) with env added to this process's
// environment (ISTIO_SRC, ENVOY, MESHCHECK_PROXY_VERSION) and returns
// every spec's outcome, as SuiteChecks.
func RunSuites(ctx context.Context, repo, name string, env []string, log io.Writer) ([]Check, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "hack", "e2e-local.sh"))
	cmd.Dir = repo
	cmd.Env = append(append(os.Environ(), "SUITES_NAME="+name, "LABELS="), env...)
	cmd.Stdout, cmd.Stderr = log, log
	runErr := cmd.Run()
	report := filepath.Join(repo, "reports", name+".json")
	checks, err := SpecOutcomes(report)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", runErr, err)
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
