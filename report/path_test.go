package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/suite"
)

// bookinfoFlow is /productpage's path to reviews v2 and ratings as the
// access logs give it.
var bookinfoFlow = accesslog.Brief{RequestID: "b903", Hops: []accesslog.BriefHop{
	{Proxy: "istio-ingressgateway-x", Direction: "outbound", Cluster: "outbound|9080||productpage.default.svc.cluster.local", Status: 200, LatencyMS: 31},
	{Proxy: "productpage-v1-x", Direction: "inbound", Cluster: "inbound|9080||", Status: 200, LatencyMS: 29, Parent: 1},
	{Proxy: "productpage-v1-x", Direction: "outbound", Cluster: "outbound|9080||reviews.default.svc.cluster.local", Status: 200, LatencyMS: 12, Parent: 2},
	{Proxy: "reviews-v2-x", Direction: "inbound", Cluster: "inbound|9080||", Status: 200, LatencyMS: 11, Parent: 3},
	{Proxy: "reviews-v2-x", Direction: "outbound", Cluster: "outbound|9080||ratings.default.svc.cluster.local", Status: 503, LatencyMS: 2, Flags: "UF", Parent: 4},
}}

// TestPathRecords: a path a spec recorded reaches the report through
// Ginkgo's JSON, each traced hop beside the xDS trace's answer; a hop
// whose logged cluster the trace did not choose is counted and fails the
// run; a trace of a hop the flow lacks is an error naming the path.
func TestPathRecords(t *testing.T) {
	for _, tc := range []struct {
		name     string
		traces   []suite.HopTrace
		disagree int
		verdict  Verdict
		err      string
	}{
		{"untraced", nil, 0, VerdictPass, ""},
		{"agrees", []suite.HopTrace{{Hop: 0, Clusters: []string{"outbound|9080||productpage.default.svc.cluster.local"}}}, 0, VerdictPass, ""},
		{"weighted, agrees", []suite.HopTrace{{Hop: 2, Clusters: []string{"outbound|9080|v1|reviews.default.svc.cluster.local", "outbound|9080||reviews.default.svc.cluster.local"}}}, 0, VerdictPass, ""},
		{"disagrees", []suite.HopTrace{{Hop: 2, Clusters: []string{"outbound|9080|v1|reviews.default.svc.cluster.local"}}}, 1, VerdictFail, ""},
		{"no such hop", []suite.HopTrace{{Hop: 5, Clusters: []string{"c"}}}, 0, "", `path "bookinfo-path: /productpage": trace of hop 5: the flow has 5 hops`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := suite.PathRecord{Name: "/productpage", Flow: bookinfoFlow, Traces: tc.traces}
			dir := writeGinkgo(t, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: "bookinfo-path: three ways", State: types.SpecStatePassed,
				ReportEntries: types.ReportEntries{{Name: suite.RecordPath, Value: types.WrapEntryValue(rec)}}})
			r, err := Build(Options{Dir: dir, Suite: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.err != "" {
				if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], tc.err) {
					t.Errorf("problems %q, want one containing %q", r.Problems, tc.err)
				}
				return
			}
			if len(r.Paths) != 1 {
				t.Fatalf("%d paths, want 1 (problems %q)", len(r.Paths), r.Problems)
			}
			p := r.Paths[0]
			if p.Name != "bookinfo-path: /productpage" || p.RequestID != "b903" || len(p.Hops) != 5 || p.Disagree != tc.disagree || r.Verdict != tc.verdict {
				t.Errorf("path %q request %q, %d hops, %d disagree, verdict %s: want bookinfo-path: /productpage, b903, 5, %d, %s",
					p.Name, p.RequestID, len(p.Hops), p.Disagree, r.Verdict, tc.disagree, tc.verdict)
			}
			for _, tr := range tc.traces {
				if h := p.Hops[tr.Hop]; h.XDS == nil || h.XDS.Agrees != (tc.disagree == 0) {
					t.Errorf("hop %d: xDS %+v, want agrees=%t", tr.Hop, h.XDS, tc.disagree == 0)
				}
			}
		})
	}
}

// writeGinkgo writes a Ginkgo JSON report of specs as s.json in a new
// directory.
func writeGinkgo(t *testing.T, specs ...types.SpecReport) string {
	t.Helper()
	now := time.Now()
	b, err := json.Marshal([]types.Report{{StartTime: now, EndTime: now, SpecReports: specs}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRunPaths: meshcheck run's paths checks carry their flow into the
// report, untraced; its interception checks their trails.
func TestRunPaths(t *testing.T) {
	dir := t.TempDir()
	trails := map[string]any{"workload": "default/reviews-v1", "istio": "1.31", "behaviours": []iptables.Checked{{Name: "inbound-tcp", Pass: false, Trail: []string{"nat/PREROUTING #1"}}}}
	run := map[string]any{"kind": "RunReport", "results": []map[string]any{
		{"fixture": "bookinfo", "kind": "paths", "name": "/productpage", "status": "pass", "flow": bookinfoFlow},
		{"fixture": "bookinfo", "step": "reviews-90-10", "kind": "interception", "name": "default/reviews-v1: istio-iptables 1.31 behaviours", "status": "fail", "interception": trails},
	}}
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run-embedded.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Build(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Paths) != 1 || r.Paths[0].Fixture != "bookinfo" || len(r.Paths[0].Hops) != 5 || r.Paths[0].Hops[4].XDS != nil || r.Paths[0].Hops[4].Flags != "UF" {
		t.Errorf("paths %+v, want bookinfo's 5 hops, the last with flags UF, none traced", r.Paths)
	}
	if len(r.Interception) != 1 || r.Interception[0].Workload != "default/reviews-v1" || r.Interception[0].Istio != "1.31" || r.Interception[0].Step != "reviews-90-10" || r.Interception[0].Failed != 1 {
		t.Errorf("interception %+v, want default/reviews-v1's one failed behaviour under istio-iptables 1.31 at step reviews-90-10", r.Interception)
	}
}
