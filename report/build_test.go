package report

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/internal/textgolden"
)

// TestBuildGolden builds the report of a passing and of a failing run's
// files (and of a real failing run's Ginkgo report) and compares report.json and summary.md with their goldens.
func TestBuildGolden(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		verdict Verdict
		counts  Counts
	}{
		// A real meshcheck run of a mutated whoami fixture (90/10 written
		// 10/90; meshcheck mutate --only weights-flipped): no Ginkgo
		// report, its run-embedded.json as written.
		{"mutate-fail", VerdictFail, Counts{Passed: 14, Failed: 2}},
		{"pass", VerdictPass, Counts{Passed: 32, Skipped: 1}},
		{"fail", VerdictFail, Counts{Passed: 30, Failed: 2, Skipped: 1}},
		// A real make e2e-local run against a mutated control plane (the
		// whoami route at 70/30), its Ginkgo report as written.
		{"run-fail", VerdictFail, Counts{Passed: 2, Failed: 1, Skipped: 14}},
		// A real passing make e2e-local run with its paths, interception
		// trails and lint recorded, its Ginkgo report as written.
		{"run-pass", VerdictPass, Counts{Passed: 16, Skipped: 1}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", tc.dir)
			r, err := Build(Options{Dir: dir, Suite: suiteOf(tc.dir), Meshcheck: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != tc.verdict || r.Counts != tc.counts || len(r.Problems) > 0 {
				t.Errorf("verdict %s, counts %+v, problems %v: want %s, %+v, none", r.Verdict, r.Counts, r.Problems, tc.verdict, tc.counts)
			}
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse("built", b); err != nil {
				t.Errorf("the built report does not parse: %v", err)
			}
			textgolden.Assert(t, filepath.Join(dir, "report.golden.json"), b)
			textgolden.Assert(t, filepath.Join(dir, "summary.golden.md"), []byte(Markdown(r)))
		})
	}
}

// TestBuildFailureFirst: a failing run's summary starts with the verdict
// and shows the failed spec's evidence before anything else.
func TestBuildFailureFirst(t *testing.T) {
	r, err := Build(Options{Dir: "testdata/fail", Suite: "e2e-local"})
	if err != nil {
		t.Fatal(err)
	}
	md := Markdown(r)
	if !strings.HasPrefix(md, "## meshcheck: ❌ FAIL\n") {
		t.Errorf("summary does not start with the verdict:\n%s", md)
	}
	failed, splits := strings.Index(md, "### Failed (2)"), strings.Index(md, "### Traffic splits")
	if failed < 0 || splits < failed {
		t.Errorf("failures (at %d) do not come before the splits (at %d):\n%s", failed, splits, md)
	}
	for _, want := range []string{"- expected: `weights v1=90,v2=10`", "- actual: `v1=130,v2=129 after 259 requests`", "failure.txt`"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
}

func TestBuildProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Build(Options{Dir: dir, Suite: "e2e-local"}); err == nil || !strings.Contains(err.Error(), "e2e-local.json") {
		t.Errorf("missing Ginkgo report: error %v, want one naming e2e-local.json", err)
	}
	write("e2e-local.json", "[]")
	write("run-embedded.json", `{"kind": "RunReport", "results": [{"name": "x", "status": "maybe"}]}`)
	write("matrix.json", `{"cells": 3}`)
	r, err := Build(Options{Dir: dir, Suite: "e2e-local"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`run-embedded.json: check "x": status "maybe": want pass, fail or undecided`,
		"matrix.json: json: cannot unmarshal number into Go struct field Report.cells",
	}
	if len(r.Problems) != len(want) {
		t.Fatalf("problems %q, want %q", r.Problems, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(r.Problems[i], w) {
			t.Errorf("problem %q, want %q", r.Problems[i], w)
		}
	}
	if r.Verdict != VerdictUndecided {
		t.Errorf("verdict %s with unreadable files, want undecided", r.Verdict)
	}
}

// TestBuildStale: a file an earlier run left (written before the suite
// started) is named in Sources and not read.
func TestBuildStale(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/fail")); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "run-embedded.json"), old, old); err != nil {
		t.Fatal(err)
	}
	r, err := Build(Options{Dir: dir, Suite: "e2e-local"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.Sources, "run-embedded.json (older than the run's start: not read)") || len(r.Splits) != 0 || r.Counts.Failed != 1 {
		t.Errorf("sources %q, %d splits, %d failed: want run-embedded.json not read", r.Sources, len(r.Splits), r.Counts.Failed)
	}
}

// TestHTMLGolden renders the passing and the failing run's page.
func TestHTMLGolden(t *testing.T) {
	for _, dir := range []string{"pass", "fail", "run-fail", "run-pass", "mutate-fail"} {
		t.Run(dir, func(t *testing.T) {
			r, err := Build(Options{Dir: filepath.Join("testdata", dir), Suite: suiteOf(dir), Meshcheck: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := HTML(&b, r); err != nil {
				t.Fatal(err)
			}
			textgolden.Assert(t, filepath.Join("testdata", dir, "report.golden.html"), []byte(b.String()))
		})
	}
}

// suiteOf is the suite a testdata directory's Ginkgo report is named
// after; empty for a meshcheck run's directory (mutate-*), which has none.
func suiteOf(dir string) string {
	if strings.HasPrefix(dir, "mutate-") {
		return ""
	}
	return "e2e-local"
}
