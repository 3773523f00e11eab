package suite

import (
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
)

// Names of the records a test hands to Options.Record; package report
// reads them back from the Ginkgo report's entries.
const (
	// RecordSplit names a SplitRecord.
	RecordSplit = "meshcheck.split"
	// RecordPath names a PathRecord.
	RecordPath = "meshcheck.path"
	// RecordDiff names a DiffRecord.
	RecordDiff = "meshcheck.xds-diff"
	// RecordInterception names an InterceptionRecord.
	RecordInterception = "meshcheck.interception"
	// RecordLint names a LintRecord.
	RecordLint = "meshcheck.lint"
)

// DiffRecord is a proxy's config against its golden, change by change.
type DiffRecord struct {
	// Proxy is namespace/name-prefix of the proxy.
	Proxy string `json:"proxy"`
	// Golden is the golden file compared against.
	Golden  string          `json:"golden"`
	Changes []golden.Change `json:"changes"`
}

// InterceptionRecord is a workload's interception rules checked, behaviour
// by behaviour, by the iptables simulator.
type InterceptionRecord struct {
	Workload string `json:"workload"`
	// Istio is the istio-iptables release whose behaviours were checked.
	Istio      string             `json:"istio"`
	Fixture    string             `json:"fixture,omitempty"`
	Step       string             `json:"step,omitempty"`
	Behaviours []iptables.Checked `json:"behaviours"`
}

// LintRecord is a proxy's config linted: every finding (none when clean).
type LintRecord struct {
	Proxy    string         `json:"proxy"`
	Findings []lint.Finding `json:"findings"`
}

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

// PathRecord is one request's hops as the access logs gave them, beside
// what the xDS trace answered for the hops a test traced, for the run's
// report.
type PathRecord struct {
	// Name says which path, in words.
	Name    string          `json:"name"`
	Fixture string          `json:"fixture,omitempty"`
	Step    string          `json:"step,omitempty"`
	Flow    accesslog.Brief `json:"flow"`
	// Traces are the xDS trace's answers for some of the hops.
	Traces []HopTrace `json:"traces,omitempty"`
}

// HopTrace is the xDS trace's answer for one hop: the clusters the trace
// through that hop's proxy chose.
type HopTrace struct {
	// Hop is the hop's index in Flow.Hops.
	Hop      int      `json:"hop"`
	Clusters []string `json:"clusters"`
	// Text is the trace in words (listener, route, cluster).
	Text string `json:"text,omitempty"`
}

// Record hands a result to Options.Record under name (RecordSplit,
// RecordPath, RecordDiff, RecordInterception, RecordLint); without Options.Record it is dropped.
func (s *Suite) Record(name string, v any) {
	if s.record != nil {
		s.record(name, v)
	}
}
