package gate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/engines/xds/review"
)

const gw = "istio-system/istio-ingressgateway-1"

func dump(t *testing.T, edit func([]byte) []byte) []byte {
	t.Helper()
	b, err := os.ReadFile("../engines/xds/testdata/pilot/gateway-config_dump.json")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		nb := edit(b)
		if bytes.Equal(nb, b) {
			t.Fatal("the edit changed nothing")
		}
		b = nb
	}
	return b
}

func side(src string, d []byte, checks ...Check) Side {
	return Side{Source: src, Dumps: []Dump{{Proxy: gw, Step: "90-10", JSON: d}}, Checks: checks}
}

func weights(b []byte) []byte {
	return bytes.Replace(b, []byte(`"weight": 90`), []byte(`"weight": 10`), 1)
}

func TestCompare(t *testing.T) {
	pass := Check{Name: "whoami split 90-10", Outcome: Passed}
	fail := Check{Name: "whoami split 90-10", Outcome: Failed, Evidence: "expected v1 0.9, observed 0.1 (n=200)"}
	acc, err := review.ParseAccepted([]byte("apiVersion: meshcheck.dev/v1alpha1\nkind: AcceptedChanges\nchanges:\n- type: routes\n  path: \"*weight\"\n  reason: the split is meant to move\n"), "accepted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withAcc := DefaultOptions()
	withAcc.Accepted = acc
	for _, tc := range []struct {
		name       string
		base, cand Side
		opts       Options
		verdict    string
		changes    int
		md         []string
	}{
		{"itself", side("pinned", dump(t, nil), pass), side("pinned", dump(t, nil), pass), DefaultOptions(), Pass, 0, []string{"PASS", "0 not accepted, 0 accepted"}},
		{"weight moved", side("pinned", dump(t, nil), pass), side("cand", dump(t, weights), fail), DefaultOptions(), Fail, 1,
			[]string{"FAIL", "**whoami split 90-10**: pass on the baseline, fail on the candidate", "observed 0.1", "weights: route configuration http.8080", "90 → 10"}},
		{"weight moved, accepted", side("pinned", dump(t, nil), pass), side("cand", dump(t, weights), pass), withAcc, Pass, 1,
			[]string{"PASS", "0 not accepted, 1 accepted", "the split is meant to move (accepted.yaml:4)"}},
		{"unreadable candidate", side("pinned", dump(t, nil)), side("cand", []byte("{not json")), DefaultOptions(), Undecided, 0, []string{"undecided:** candidate dump of " + gw}},
		{"proxy gone", side("pinned", dump(t, nil)), Side{Source: "cand"}, DefaultOptions(), Fail, 1, []string{"removed (only the baseline has it)"}},
	} {
		r := Compare(tc.base, tc.cand, tc.opts)
		if r.Verdict != tc.verdict || len(r.Changes) != tc.changes {
			t.Errorf("%s: verdict %s with %d changes, want %s with %d: %+v", tc.name, r.Verdict, len(r.Changes), tc.verdict, tc.changes, r.Changes)
		}
		md := r.Markdown()
		for _, w := range tc.md {
			if !strings.Contains(md, w) {
				t.Errorf("%s: markdown lacks %q:\n%s", tc.name, w, md)
			}
		}
	}
}

// TestDeterministic: a source against itself gives an empty diff, every
// time, and the JSON has the documented fields.
func TestDeterministic(t *testing.T) {
	for i := 0; i < 5; i++ {
		r := Compare(side("pinned", dump(t, nil)), side("pinned", dump(t, nil)), DefaultOptions())
		if r.Verdict != Pass || len(r.Changes) != 0 {
			t.Fatalf("run %d: %+v", i, r)
		}
	}
	r := Compare(side("a", dump(t, nil), Check{Name: "x", Outcome: Passed}), side("b", dump(t, weights), Check{Name: "x", Outcome: Failed}), DefaultOptions())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"verdict":"fail"`, `"baseline":{"source":"a"}`, `"changes":[{"proxy":"` + gw + `","step":"90-10","type":"routes","name":"http.8080","path":"`, `"from":90,"to":10,"accepted":false`, `"specs":[{"name":"x","baseline":"pass","candidate":"fail"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s:\n%s", k, b)
		}
	}
	files, err := r.WriteDiffs(t.TempDir())
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "istio-system.istio-ingressgateway-1.diff" {
		t.Fatalf("diff files %v, %v", files, err)
	}
	got, _ := os.ReadFile(files[0])
	if !strings.HasPrefix(string(got), "! weights: ") {
		t.Errorf("diff file:\n%s", got)
	}
}

// TestByCheck: one check per expect.yaml line and kind, whatever results
// it gave, so the two sides compare by it.
func TestByCheck(t *testing.T) {
	pass := checks.Result{Source: "expect.yaml:28", Kind: "routes", Name: "proxy gateway: 1 expectations", Status: checks.Pass}
	fail := checks.Result{Source: "expect.yaml:30", Kind: "routes", Name: "proxy gateway: flows[0]: the request goes elsewhere", Status: checks.Fail, Expected: "v1=90", Actual: "v1=70"}
	und := checks.Result{Source: "expect.yaml:36", Kind: "splits", Name: "splits 90/10", Status: checks.Undecided}
	base, cand := byCheck([]checks.Result{pass, und}), byCheck([]checks.Result{fail, fail, und})
	if len(base) != 2 || len(cand) != 2 || base[0].Name != cand[0].Name || base[0].Outcome != Passed || cand[0].Outcome != Failed {
		t.Fatalf("base %+v, candidate %+v", base, cand)
	}
	if !strings.Contains(cand[0].Evidence, "v1=70") || cand[1].Outcome != UndecidedOutcome {
		t.Errorf("candidate %+v", cand)
	}
	r := Compare(Side{Checks: base}, Side{Checks: cand}, DefaultOptions())
	if r.Verdict != Fail || len(r.Specs) != 2 || !r.Specs[0].Regressed() {
		t.Errorf("compare %+v", r)
	}
}
