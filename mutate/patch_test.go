package mutate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = "package p\n\nfunc a() int {\n\treturn 1\n}\n\nfunc b() int {\n\treturn 2\n}\n"

func TestApplyPatch(t *testing.T) {
	cases := []struct {
		name, file, diff, want, err string
	}{
		{"at its line", sample, "--- a/p.go\n+++ b/p.go\n@@ -7,3 +7,3 @@\n func b() int {\n-\treturn 2\n+\treturn 3\n }\n",
			strings.Replace(sample, "return 2", "return 3", 1), ""},
		{"moved, found once", "// a comment\n" + sample, "--- a/p.go\n+++ b/p.go\n@@ -7,3 +7,3 @@\n func b() int {\n-\treturn 2\n+\treturn 3\n }\n",
			"// a comment\n" + strings.Replace(sample, "return 2", "return 3", 1), ""},
		{"two hunks shift", sample, "--- a/p.go\n+++ b/p.go\n@@ -3,3 +3,4 @@\n func a() int {\n+\t// one\n \treturn 1\n }\n@@ -7,3 +8,3 @@\n func b() int {\n-\treturn 2\n+\treturn 3\n }\n",
			strings.Replace(strings.Replace(sample, "return 2", "return 3", 1), "\treturn 1", "\t// one\n\treturn 1", 1), ""},
		{"no longer applies", strings.Replace(sample, "return 2", "return 4", 1), "--- a/p.go\n+++ b/p.go\n@@ -7,3 +7,3 @@\n func b() int {\n-\treturn 2\n+\treturn 3\n }\n",
			"", `patch x.diff:3: p.go: hunk 1 (@@ -7,3 +7,3 @@) no longer applies: its 3 old lines (from "func b() int {") are not in the file`},
		{"ambiguous", sample + sample, "--- a/p.go\n+++ b/p.go\n@@ -1,1 +1,1 @@\n-}\n+} // end\n",
			"", "not at line 1 and occur 4 times"},
		{"counts differ", sample, "--- a/p.go\n+++ b/p.go\n@@ -7,3 +7,3 @@\n func b() int {\n-\treturn 2\n",
			"", "x.diff:3: hunk @@ -7,3 +7,3 @@: has 2 old and 1 new lines, its header says 3 and 3"},
		{"leaves the tree", sample, "--- a/../p.go\n+++ b/../p.go\n@@ -1 +1 @@\n-x\n+y\n", "", `file "../p.go": want a relative path in the tree`},
		{"not a diff", sample, "hello\n", "", "no file in it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "p.go")
			if err := os.WriteFile(file, []byte(tc.file), 0o444); err != nil {
				t.Fatal(err)
			}
			err := ApplyPatch([]byte(tc.diff), "x.diff", dir)
			got, _ := os.ReadFile(file)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrPatch) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if string(got) != tc.file {
					t.Errorf("the file changed although the patch failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// Every control-plane patch of the catalog applies to the pinned Istio
// module and changes each file it names.
func TestPatchesApplyToPinnedIstio(t *testing.T) {
	ms, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := PinnedIstio(context.Background())
	if err != nil {
		t.Skipf("no pinned Istio module here: %v", err)
	}
	for _, m := range ms {
		if m.Kind != ControlPlane || m.Pending != "" {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			diff, err := Patch(m)
			if err != nil {
				t.Fatal(err)
			}
			files, err := ParsePatch(diff, m.Patch)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range files {
				dst := filepath.Join(dir, f.path)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := copyFile(filepath.Join(pinned, f.path), dst); err != nil {
					t.Fatal(err)
				}
			}
			if err := ApplyPatch(diff, m.Patch, dir); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				orig, _ := os.ReadFile(filepath.Join(pinned, f.path))
				got, _ := os.ReadFile(filepath.Join(dir, f.path))
				if string(orig) == string(got) {
					t.Errorf("%s unchanged", f.path)
				}
			}
		})
	}
}

func TestScoreSpecs(t *testing.T) {
	m := Mutation{Name: "m", Kind: ControlPlane, Specs: []string{"whoami-90-10", "suite"}, Words: []string{"x"}, SpecWords: []string{"=70"}}
	caught := Outcome{Name: "m", Caught: true, CaughtBy: []string{"check"}}
	cases := []struct {
		name   string
		in     Outcome
		specs  []Spec
		caught bool
		msg    string
	}{
		{"a related spec names it", caught, []Spec{{Name: "spec whoami-90-10: holds", Failed: true, Evidence: "actual v1=70"}}, true, ""},
		{"the suite's setup", caught, []Spec{{Name: "suite BeforeSuite", Failed: true, Evidence: "=70"}}, true, ""},
		{"an unrelated spec", caught, []Spec{{Name: "spec xds-golden-gateway: x", Failed: true, Evidence: "=70"}}, false, "no spec of [whoami-90-10 suite] failed (1 specs ran)"},
		{"the cause not named", caught, []Spec{{Name: "spec whoami-90-10: holds", Failed: true, Evidence: "timeout"}}, false, "the suites did not: spec whoami-90-10: holds: timeout"},
		{"passed", caught, []Spec{{Name: "spec whoami-90-10: holds", Evidence: "=70"}}, false, "no spec of"},
		{"the checks missed it", Outcome{Name: "m", Message: "no check failed"}, []Spec{{Name: "spec whoami-90-10: holds", Failed: true, Evidence: "=70"}}, false, "no check failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := ScoreSpecs(m, tc.in, tc.specs)
			if o.Caught != tc.caught || !strings.Contains(o.Message, tc.msg) {
				t.Fatalf("caught %v message %q, want %v and %q", o.Caught, o.Message, tc.caught, tc.msg)
			}
		})
	}
}
