package matrix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestSupported(t *testing.T) {
	for _, tc := range []struct {
		cp, proxy string
		want      bool
		err       bool
	}{
		{"1.32-dev", "1.32.0", true, false},
		{"1.32-dev", "1.31.0", true, false},
		{"1.32-dev", "1.30.0", false, false}, // two minors behind
		{"1.31-dev", "1.32.0", false, false}, // a proxy newer than istiod
		{"1.31", "1.30.2", true, false},
		{"2.0", "1.30.0", false, true},
		{"1.x", "1.30.0", false, true},
	} {
		got, err := Supported(tc.cp, tc.proxy)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Supported(%s, %s) = %v, %v; want %v (error %v)", tc.cp, tc.proxy, got, err, tc.want, tc.err)
		}
	}
}

func TestCount(t *testing.T) {
	spec := func(text string, state types.SpecState, msg string) types.SpecReport {
		return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state, Failure: types.Failure{Message: msg}}
	}
	reports := []types.Report{{SuiteSucceeded: false, SpecReports: []types.SpecReport{
		spec("routes", types.SpecStatePassed, ""),
		spec("splits 90/10", types.SpecStateFailed, "expected v1 share 0.9\nobserved 0.5"),
		spec("multi-node", types.SpecStateSkipped, ""),
		spec("later", types.SpecStateFailed, "second"),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
	}}}
	b, _ := json.Marshal(reports)
	path := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Cell{Istio: "pinned", Envoy: "1.40.0", Ingress: "istio"}
	if err := c.Count(path); err != nil {
		t.Fatal(err)
	}
	if c.Passed != 1 || c.Failed != 2 || c.Skipped != 1 || c.FirstFailure != "splits 90/10: expected v1 share 0.9 observed 0.5" {
		t.Errorf("counted %+v", c)
	}
	if c.Passing() {
		t.Error("a cell with failures passes")
	}
	md := Report{Cells: []Cell{c}}.Markdown()
	if !strings.Contains(md, "| pinned () | 1.40.0 () | istio | outside Istio's skew | 1 | 2 | 1 |") {
		t.Errorf("markdown:\n%s", md)
	}
	if err := (&Cell{}).Count(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing report counted")
	}
}
