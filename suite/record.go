package suite

import "github.com/meshcheck/meshcheck/engines/split"

// RecordSplit names a SplitRecord a test hands to Options.Record; package
// report reads it back from the Ginkgo report's entries.
const RecordSplit = "meshcheck.split"

// SplitRecord is a split decided during a test, for the run's report.
type SplitRecord struct {
	// Name says which split, in words.
	Name string `json:"name"`
	// Fixture and Step are the fixture state it was decided in (empty
	// where the test did not say).
	Fixture string       `json:"fixture,omitempty"`
	Step    string       `json:"step,omitempty"`
	Result  split.Result `json:"result"`
}

// Record hands a result to Options.Record under name (RecordSplit); without
// Options.Record it is dropped.
func (s *Suite) Record(name string, v any) {
	if s.record != nil {
		s.record(name, v)
	}
}
