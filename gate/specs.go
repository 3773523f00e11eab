package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// SuiteChecks runs the Ginkgo suites (hack/e2e-local.sh in repo) against
// one side's control plane and returns every spec's outcome, its failure
// as the evidence. A run that fails is not an error: its specs say so;
// a run that leaves no report is.
func SuiteChecks(ctx context.Context, repo, source, name string, envoy string, log io.Writer) ([]Check, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "hack", "e2e-local.sh"))
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "ISTIO_SRC="+source, "SUITES_NAME="+name, "LABELS=")
	if envoy != "" {
		cmd.Env = append(cmd.Env, "ENVOY="+envoy)
	}
	cmd.Stdout, cmd.Stderr = log, log
	runErr := cmd.Run()
	report := filepath.Join(repo, "reports", name+".json")
	checks, err := SpecOutcomes(report)
	if err != nil {
		return nil, fmt.Errorf("the suites against %s (%v): %w", source, runErr, err)
	}
	return checks, nil
}

// SpecOutcomes reads a Ginkgo JSON report: one Check per It.
func SpecOutcomes(path string) ([]Check, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Check
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				if s.State.Is(types.SpecStateFailureStates) {
					out = append(out, Check{Name: "suite " + s.LeafNodeType.String(), Outcome: Failed, Evidence: s.Failure.Message})
				}
				continue
			}
			c := Check{Name: "spec " + s.LeafNodeText, Outcome: Skipped}
			switch {
			case s.State.Is(types.SpecStateFailureStates):
				c.Outcome, c.Evidence = Failed, strings.TrimSpace(s.Failure.Message)
			case s.State == types.SpecStatePassed:
				c.Outcome = Passed
			}
			out = append(out, c)
		}
	}
	return out, nil
}
