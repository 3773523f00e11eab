package ginkgoreport

import (
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestCountsAndOutcome(t *testing.T) {
	for _, tc := range []struct {
		node    types.NodeType
		state   types.SpecState
		counts  bool
		outcome Outcome
	}{
		{types.NodeTypeIt, types.SpecStatePassed, true, Passed},
		{types.NodeTypeIt, types.SpecStateSkipped, true, Skipped},
		{types.NodeTypeIt, types.SpecStatePending, true, Skipped},
		{types.NodeTypeIt, types.SpecStateFailed, true, Failed},
		{types.NodeTypeIt, types.SpecStateInterrupted, true, Failed},
		{types.NodeTypeIt, types.SpecStateInvalid, true, Failed},
		{types.NodeTypeBeforeSuite, types.SpecStatePassed, false, Passed},
		{types.NodeTypeBeforeSuite, types.SpecStatePanicked, true, Failed},
	} {
		s := types.SpecReport{LeafNodeType: tc.node, State: tc.state}
		if got := Counts(s); got != tc.counts {
			t.Errorf("Counts(%s %s) = %v", tc.node, tc.state, got)
		}
		if got := OutcomeOf(s); got != tc.outcome {
			t.Errorf("OutcomeOf(%s %s) = %s, want %s", tc.node, tc.state, got, tc.outcome)
		}
	}
	if _, err := Parse([]byte("{")); err == nil {
		t.Error("a broken report parsed")
	}
}
