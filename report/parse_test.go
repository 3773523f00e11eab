package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sample is a report with every section filled.
func sample() *Report {
	start := time.Date(2026, 12, 6, 6, 36, 0, 0, time.UTC)
	r := &Report{
		APIVersion: APIVersion, Kind: Kind,
		Run: Run{
			Backend: "embedded", Istio: Istio{Source: "pinned", Version: "1.31.1"}, Envoy: "1.40.0", Proxy: "1.32.0",
			Features: []string{"vm"}, Fixtures: []Fixture{{Name: "whoami", Steps: []string{"90-10", "50-50"}}},
			Meshcheck: "devel", Start: start, End: start.Add(time.Minute), MeshUpSeconds: 0.7,
		},
		Checks: []Check{
			{Name: "routes: productpage", Origin: "suite", Labels: []string{"bookinfo"}, Status: Passed, Seconds: 0.5},
			{Name: "splits 90/10", Origin: "run", Kind: "splits", Fixture: "whoami", Step: "90-10", Status: Failed,
				Failure:  &Failure{Message: "split off", Expected: "v1=90", Actual: "v1=50", Candidates: []string{"v2"}},
				Evidence: []string{"evidence/embedded/x/failure.txt"}},
		},
		Splits: []Split{{Name: "splits 90/10", Decision: "fail", Requests: 259, Counts: map[string]int{"v1": 130, "v2": 129},
			Weights: map[string]float64{"v1": 0.9, "v2": 0.1}, Intervals: map[string]Interval{"v1": {Low: 0.4, High: 0.6}}}},
		Paths:     []Path{{Name: "ingress to whoami", RequestID: "b903", Hops: []Hop{{Proxy: "gw", Cluster: "c", Status: 200, XDS: &HopXDS{Clusters: []string{"c"}, Agrees: true}}}}},
		Lint:      []Finding{{Severity: "warning", Message: "unused DestinationRule"}},
		Gate:      &Gate{Verdict: "pass", Baseline: Istio{Source: "a"}, Candidate: Istio{Source: "b"}},
		Matrix:    []Cell{{Istio: Istio{Source: "pinned", Version: "1.32-dev"}, Envoy: "1.40.0", Supported: true, Passed: 20}},
		Detection: []Detection{{Mutation: "swap weights", CaughtBy: []string{"splits 90/10"}}},
		Sources:   []string{"e2e-local.json"},
	}
	r.Settle()
	return r
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	b, err := want.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("sample.json", b)
	if err != nil {
		t.Fatalf("Parse of Marshal: %v\n%s", err, b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the report:\nwant %+v\ngot  %+v", want, got)
	}
	if want.Verdict != VerdictFail || want.Counts.Failed != 1 {
		t.Errorf("verdict %s, counts %+v: want fail with 1 failed", want.Verdict, want.Counts)
	}
}

// TestSchemaAcceptsReports validates reports against report.schema.json
// with an independent validator: what Marshal writes, the schema accepts,
// and an unknown field it refuses as Parse does.
func TestSchemaAcceptsReports(t *testing.T) {
	c := jsonschema.NewCompiler()
	s, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	b, _ := sample().Marshal()
	reports := map[string][]byte{"sample": b}
	for _, dir := range []string{"pass", "fail"} {
		golden, err := os.ReadFile(filepath.Join("testdata", dir, "report.golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		reports[dir] = golden
	}
	for name, b := range reports {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("the schema refuses the %s report: %v", name, err)
		}
	}
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"apiVersion":"meshcheck.dev/v1alpha1","kind":"Report","run":{"istio":{}},"verdict":"pass","counts":{"passed":1,"failed":0,"skipped":0,"undecided":0},"colour":"red"}`))
	if err := s.Validate(bad); err == nil {
		t.Errorf("the schema accepts an unknown field")
	}
}

func TestParseRejects(t *testing.T) {
	ok := `"apiVersion": "meshcheck.dev/v1alpha1", "kind": "Report"`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"unknown apiVersion", `{"apiVersion": "meshcheck.dev/v2", "kind": "Report"}`, `apiVersion "meshcheck.dev/v2": this meshcheck reads meshcheck.dev/v1alpha1 only`},
		{"no apiVersion", `{"kind": "Report"}`, `apiVersion "": this meshcheck reads`},
		{"unknown kind", `{"apiVersion": "meshcheck.dev/v1alpha1", "kind": "RunReport"}`, `kind "RunReport": want Report`},
		{"unknown field", "{" + ok + ",\n\"run\": {\n\"backend\": \"embedded\",\n\"colour\": \"red\"}}", `line 4: json: unknown field "colour"`},
		{"wrong type", "{" + ok + ",\n\"checks\": 3}", `line 2: json: cannot unmarshal number into Go struct field Report.checks`},
		{"syntax", "{" + ok + ",\n\n}", `line 3: invalid character '}'`},
		{"trailing data", "{" + ok + "}\n{}", `line 2: invalid character '{' after top-level value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("r.json", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "r.json: ") {
				t.Errorf("Parse error %v: want r.json: ...%s", err, tc.want)
			}
		})
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals and parses
// back to the same report.
func FuzzParse(f *testing.F) {
	b, _ := sample().Marshal()
	f.Add(b)
	f.Add([]byte(`{"apiVersion":"meshcheck.dev/v1alpha1","kind":"Report"}`))
	f.Add([]byte(`{"apiVersion":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz.json", data)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed report: %v", err)
		}
		again, err := Parse("again.json", out)
		if err != nil {
			t.Fatalf("Parse of Marshal: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed the report:\n%+v\n%+v", r, again)
		}
	})
}

func TestSettle(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want Verdict
	}{
		{"nothing ran", Report{}, VerdictEmpty},
		{"a check passed", Report{Checks: []Check{{Status: Passed}}}, VerdictPass},
		{"a check failed", Report{Checks: []Check{{Status: Passed}, {Status: Failed}}}, VerdictFail},
		{"a check undecided", Report{Checks: []Check{{Status: Passed}, {Status: Undecided}}}, VerdictUndecided},
		{"a split ran out of samples", Report{Checks: []Check{{Status: Passed}}, Splits: []Split{{Decision: "need-more"}}}, VerdictUndecided},
		{"a split failed", Report{Checks: []Check{{Status: Passed}}, Splits: []Split{{Decision: "fail"}}}, VerdictFail},
		{"an unreadable file", Report{Checks: []Check{{Status: Passed}}, Problems: []string{"x"}}, VerdictUndecided},
		{"a matrix cell failed", Report{Matrix: []Cell{{Passed: 3, Failed: 1}}}, VerdictFail},
		{"a matrix cell did not run", Report{Matrix: []Cell{{Error: "build failed"}}}, VerdictFail},
		{"the gate failed", Report{Gate: &Gate{Verdict: "fail"}}, VerdictFail},
		{"the gate undecided", Report{Gate: &Gate{Verdict: "pass", Undecided: []string{"x"}}}, VerdictUndecided},
		{"failure beats undecided", Report{Checks: []Check{{Status: Undecided}, {Status: Failed}}}, VerdictFail},
	} {
		r := tc.r
		r.Settle()
		if r.Verdict != tc.want {
			t.Errorf("%s: verdict %s, want %s", tc.name, r.Verdict, tc.want)
		}
	}
}
