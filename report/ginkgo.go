package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/internal/ginkgoreport"
	"github.com/meshcheck/meshcheck/suite"
)

// Origins of a check.
const (
	originSuite = "suite"
	originRun   = "run"
)

// readGinkgo reads a Ginkgo JSON report (-ginkgo.json-report): every spec
// that ran or was skipped, and any setup node that failed.
func readGinkgo(data []byte, r *Report, _ Options) error {
	reports, err := ginkgoreport.Parse(data)
	if err != nil {
		return err
	}
	for _, g := range reports {
		r.Run.Start = earliest(r.Run.Start, g.StartTime)
		r.Run.End = latest(r.Run.End, g.EndTime)
		for _, s := range g.SpecReports {
			if !ginkgoreport.Counts(s) {
				continue
			}
			r.Checks = append(r.Checks, specCheck(s))
			if err := r.addRecords(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// specCheck is one spec's result.
func specCheck(s types.SpecReport) Check {
	c := Check{Name: s.FullText(), Origin: originSuite, Labels: s.Labels(), Seconds: s.RunTime.Seconds()}
	if c.Name == "" {
		c.Name = s.LeafNodeType.String()
	}
	switch ginkgoreport.OutcomeOf(s) {
	case ginkgoreport.Passed:
		c.Status = Passed
	case ginkgoreport.Skipped:
		c.Status = Skipped
	default:
		c.Status = Failed
	}
	if c.Status != Passed && s.Failure.Message != "" {
		c.Failure = &Failure{Message: s.Failure.Message, Location: s.Failure.Location.String()}
	}
	if c.Status == Failed && c.Failure == nil {
		c.Failure = &Failure{Message: "spec " + s.State.String()}
	}
	return c
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addRecords adds what a spec recorded (suite.Record, carried in its
// report entries): splits and paths. A record without its fixture is named
// after the spec (its short name, the text before the first ": ").
func (r *Report) addRecords(s types.SpecReport) error {
	short, _, _ := strings.Cut(s.LeafNodeText, ": ")
	for _, e := range s.ReportEntries {
		add, ok := recordReaders[e.Name]
		if !ok {
			continue
		}
		if err := add(r, []byte(e.Value.AsJSON), short); err != nil {
			return fmt.Errorf("spec %q, entry %s: %w", s.FullText(), e.Name, err)
		}
	}
	return nil
}

// recordReaders read each kind of record into the report; spec is the
// recording spec's short name.
var recordReaders = map[string]func(r *Report, data []byte, spec string) error{
	suite.RecordSplit: func(r *Report, data []byte, spec string) error {
		var rec suite.SplitRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		r.Splits = append(r.Splits, splitOf(recordName(rec.Name, rec.Fixture, spec), rec.Fixture, rec.Step, rec.Result))
		return nil
	},
	suite.RecordPath: func(r *Report, data []byte, spec string) error {
		var rec suite.PathRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		rec.Name = recordName(rec.Name, rec.Fixture, spec)
		p, err := pathOf(rec)
		if err != nil {
			return err
		}
		r.Paths = append(r.Paths, p)
		return nil
	},
	suite.RecordDiff: func(r *Report, data []byte, _ string) error {
		var rec suite.DiffRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		r.Diffs = append(r.Diffs, goldenDiff(rec))
		return nil
	},
	suite.RecordInterception: func(r *Report, data []byte, _ string) error {
		var rec suite.InterceptionRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		r.Interception = append(r.Interception, interceptionOf(rec.Workload, rec.Istio, rec.Fixture, rec.Step, rec.Behaviours))
		return nil
	},
	suite.RecordLint: func(r *Report, data []byte, _ string) error {
		var rec suite.LintRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return err
		}
		r.addLint(rec)
		return nil
	},
}

// recordName is a record's name, prefixed with the spec's short name when
// the record does not say its fixture.
func recordName(name, fixture, spec string) string {
	if fixture == "" {
		return spec + ": " + name
	}
	return name
}
