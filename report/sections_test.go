package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
	"github.com/meshcheck/meshcheck/suite"
)

// TestRecordedSections: golden diffs, interception trails and lint findings
// a spec recorded reach the report, each in its section; the Markdown
// names what does not hold.
func TestRecordedSections(t *testing.T) {
	entry := func(name string, v any) types.ReportEntry {
		return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
	}
	diff := suite.DiffRecord{Proxy: "default/productpage-v1", Golden: "testdata/golden/productpage.json", Changes: []golden.Change{
		{Op: golden.Changed, Kind: "clusters", Name: "outbound|9080||reviews", Field: "connect_timeout", Old: json.RawMessage(`"10s"`), New: json.RawMessage(`"1s"`)},
		{Op: golden.Added, Kind: "listeners", Name: "0.0.0.0_9080"},
		{Op: golden.Changed, Kind: "clusters", Name: "outbound|9080||reviews", Field: "lb_policy", Old: json.RawMessage(`"ROUND_ROBIN"`), New: json.RawMessage(`"RANDOM"`)},
	}}
	icpt := suite.InterceptionRecord{Workload: "default/reviews-v1", Istio: "1.31.1", Behaviours: []iptables.Checked{
		{Name: "inbound-tcp", Says: "inbound TCP to 9080", Want: "REDIRECT to :15006", Got: "REDIRECT to :15006", Pass: true, Trail: []string{"nat/PREROUTING #1 -j ISTIO_INBOUND"}},
		{Name: "outbound-tcp-proxy-uid", Says: "outbound TCP from the proxy's UID 1337", Want: "untouched", Got: "REDIRECT to 127.0.0.1:15001", Trail: []string{"nat/OUTPUT #1 -A OUTPUT -j ISTIO_OUTPUT"}},
	}}
	lints := []suite.LintRecord{{Proxy: "default/a"}, {Proxy: "default/b", Findings: []lint.Finding{{Severity: lint.Warning, Rule: lint.MissingCluster, Resource: "route r", Message: "cluster c not found"}}}}
	dir := writeGinkgo(t, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "xds: golden", State: types.SpecStatePassed,
		ReportEntries: types.ReportEntries{entry(suite.RecordDiff, diff), entry(suite.RecordInterception, icpt), entry(suite.RecordLint, lints[0]), entry(suite.RecordLint, lints[1])}})
	r, err := Build(Options{Dir: dir, Suite: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Diffs) != 1 || len(r.Diffs[0].Resources) != 2 || r.Diffs[0].Resources[0].Name != "outbound|9080||reviews" || len(r.Diffs[0].Resources[0].Changes) != 2 ||
		r.Diffs[0].Resources[0].Changes[1].Words != `~ cluster outbound|9080||reviews: lb_policy: "ROUND_ROBIN" -> "RANDOM"` {
		t.Errorf("diffs %+v: want one proxy, the cluster's two changes then the listener", r.Diffs)
	}
	if len(r.Interception) != 1 || r.Interception[0].Failed != 1 || r.Interception[0].Behaviours[1].Trail[0] != "nat/OUTPUT #1 -A OUTPUT -j ISTIO_OUTPUT" {
		t.Errorf("interception %+v: want one workload, one behaviour failed, with its trail", r.Interception)
	}
	if r.Linted != 2 || len(r.Lint) != 1 || r.Lint[0].Proxy != "default/b" || r.Lint[0].Rule != "missing-cluster" {
		t.Errorf("linted %d, findings %+v: want 2 proxies linted, default/b's missing-cluster", r.Linted, r.Lint)
	}
	md := Markdown(r)
	for _, want := range []string{
		"- default/productpage-v1 against the golden `testdata/golden/productpage.json`: 2 resources, 3 changes, 3 not accepted",
		"1 workloads, 2 behaviours simulated, 1 do not hold",
		"- **default/reviews-v1**: outbound TCP from the proxy's UID 1337: expected untouched, got REDIRECT to 127.0.0.1:15001",
		"2 proxy configs linted, 1 findings: 0 errors, 1 warnings, 0 info",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

// TestGateDiffs: the gate's changes become one diff per proxy and step,
// grouped by resource, accepted ones marked.
func TestGateDiffs(t *testing.T) {
	changes := []GateChange{
		{Proxy: "gw", Step: "90-10", Type: "route", Name: "http.8080", Words: "weight 90 -> 10"},
		{Proxy: "gw", Step: "50-50", Type: "route", Name: "http.8080", Words: "w", Accepted: true, Category: "cosmetic"},
		{Proxy: "gw", Step: "90-10", Type: "route", Name: "http.8080", Words: "timeout"},
		{Proxy: "gw", Step: "90-10", Type: "cluster", Name: "c", Words: "added"},
	}
	got := gateDiffs(Istio{Source: "pinned", Version: "1.31.1"}, changes)
	if len(got) != 2 || got[0].Step != "90-10" || len(got[0].Resources) != 2 || len(got[0].Resources[0].Changes) != 2 ||
		!got[1].Resources[0].Changes[0].Accepted || got[0].Reference != "pinned 1.31.1" {
		t.Errorf("gateDiffs = %+v: want 90-10 (route: 2 changes, cluster) then 50-50 (accepted), against pinned 1.31.1", got)
	}
}

// TestDetection: meshcheck mutate's detection.json fills the detection
// rows, also when it was written before the run (a run of its own).
func TestDetection(t *testing.T) {
	dir := writeGinkgo(t, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "x", State: types.SpecStatePassed})
	det := `{"mutations": [{"name": "weights-flipped", "kind": "configuration", "caught": true, "caughtBy": ["whoami@90-10 routes"], "message": "FAIL"},
	{"name": "retries-removed", "kind": "configuration", "caught": false, "caughtBy": [], "message": "not run: pending"}], "clean": {"runs": 3, "failures": 0}}`
	path := filepath.Join(dir, "detection.json")
	if err := os.WriteFile(path, []byte(det), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	r, err := Build(Options{Dir: dir, Suite: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Detection) != 2 || r.Detection[0].Missed || !r.Detection[1].Missed || r.Detection[1].Message != "not run: pending" ||
		r.DetectionClean == nil || r.DetectionClean.Runs != 3 {
		t.Errorf("detection %+v, clean %+v: want weights-flipped caught, retries-removed missed, 3 clean runs", r.Detection, r.DetectionClean)
	}
	if !strings.Contains(strings.Join(r.Sources, "\n"), "detection.json (a run of its own, written ") {
		t.Errorf("sources %q: want detection.json named a run of its own", r.Sources)
	}
	if md := Markdown(r); !strings.Contains(md, "1 of 2 mutations caught; clean runs: 3, failures: 0") {
		t.Errorf("summary lacks the detection line:\n%s", md)
	}
}
