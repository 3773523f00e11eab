package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReport builds a report from the failing run in report/testdata and
// renders it, and checks the exit codes of bad input.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../report/testdata/fail")); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"apiVersion": "meshcheck.dev/v1alpha1", "kind": "Report",`+"\n"+`"colour": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"report", "build", "--dir", dir, "--suite", "e2e-local"}, exitOK, ": fail (30 passed, 2 failed, 0 undecided, 1 skipped); summary " + dir + "/summary.md, page " + dir + "/report.html", ""},
		{[]string{"report", "markdown", filepath.Join(dir, "report.json")}, exitOK, "## meshcheck: ❌ FAIL\n", ""},
		{[]string{"report", "markdown", bad}, exitBadInput, "", `bad.json: line 2: json: unknown field "colour"`},
		{[]string{"report", "markdown", filepath.Join(dir, "none.json")}, exitNoInput, "", "no such file"},
		{[]string{"report", "markdown"}, exitUsage, "", "name at least one report file"},
		{[]string{"report", "build", "--dir", dir, "--suite", "none"}, exitNoInput, "", "none.json: no such file"},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			code, out, errs := runCLI("", tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Errorf("meshcheck %v: exit %d\nstdout %s\nstderr %s\nwant exit %d, stdout with %q, stderr with %q", tc.args, code, out, errs, tc.code, tc.out, tc.err)
			}
		})
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || !strings.HasPrefix(string(md), "## meshcheck: ❌ FAIL") {
		t.Errorf("summary.md: %v\n%s", err, md)
	}
}
