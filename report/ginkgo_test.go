package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/suite"
)

// TestGinkgoRecords: the splits a spec recorded through suite.Record reach
// the report, through Ginkgo's own JSON encoding of report entries.
func TestGinkgoRecords(t *testing.T) {
	res := split.Result{Decision: split.Pass, Samples: 300, Counts: map[string]int{"vm": 150, "docker": 150},
		Weights: map[string]float64{"vm": 0.5, "docker": 0.5}, Intervals: map[string]split.Interval{"vm": {Low: 0.44, High: 0.56}}}
	entry := func(rec suite.SplitRecord) types.ReportEntry {
		return types.ReportEntry{Name: suite.RecordSplit, Value: types.WrapEntryValue(rec)}
	}
	now := time.Now()
	g := []types.Report{{StartTime: now, EndTime: now, SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "vm-50-50: half the traffic", State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry(suite.SplitRecord{Name: "weights vm=50,docker=50, GET hello.example.com/", Result: res})}},
		{LeafNodeType: types.NodeTypeIt, LeafNodeText: "whoami-90-10", State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry(suite.SplitRecord{Name: "split 90/10", Fixture: "whoami", Step: "90-10", Result: res})}},
	}}}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Build(Options{Dir: dir, Suite: "s"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, fixture string }{
		{"vm-50-50: weights vm=50,docker=50, GET hello.example.com/", ""},
		{"split 90/10", "whoami"},
	}
	if len(r.Splits) != len(want) {
		t.Fatalf("%d splits, want %d: %+v", len(r.Splits), len(want), r.Splits)
	}
	for i, w := range want {
		s := r.Splits[i]
		if s.Name != w.name || s.Fixture != w.fixture || s.Decision != "pass" || s.Requests != 300 || s.Counts["vm"] != 150 || s.Intervals["vm"].High != 0.56 {
			t.Errorf("split %d: %+v; want %q in fixture %q, pass after 300 requests, vm 150 within 0.44..0.56", i, s, w.name, w.fixture)
		}
	}
}
