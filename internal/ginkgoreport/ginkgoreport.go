// Package ginkgoreport reads a Ginkgo JSON report (-ginkgo.json-report)
// the one way meshcheck counts it: every It, and any other node (a
// BeforeSuite, a cleanup) that failed; each passed, skipped (skipped or
// pending) or failed (any other state, so a state Ginkgo adds later is not
// taken for a pass).
package ginkgoreport

import (
	"encoding/json"
	"fmt"

	"github.com/onsi/ginkgo/v2/types"
)

// Outcome is what a spec gave.
type Outcome string

// Outcomes.
const (
	Passed  Outcome = "passed"
	Skipped Outcome = "skipped"
	Failed  Outcome = "failed"
)

// Parse reads a Ginkgo JSON report.
func Parse(data []byte) ([]types.Report, error) {
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, fmt.Errorf("a Ginkgo JSON report: %w", err)
	}
	return reports, nil
}

// Counts is whether a spec report is one meshcheck counts: an It, or a
// setup or cleanup node that failed.
func Counts(s types.SpecReport) bool {
	return s.LeafNodeType == types.NodeTypeIt || s.State.Is(types.SpecStateFailureStates)
}

// OutcomeOf is a spec report's outcome.
func OutcomeOf(s types.SpecReport) Outcome {
	switch {
	case s.State == types.SpecStatePassed:
		return Passed
	case s.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		return Skipped
	}
	return Failed
}
