package mutate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Every entry of the embedded catalog reads, every configuration
// mutation applies to a copy of its bundled fixture and changes it, and
// every interception mutation's fixture copies (its changes parse).
func TestCatalogApplies(t *testing.T) {
	ms, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	kindsSeen := map[string]int{}
	for _, m := range ms {
		kindsSeen[m.Kind]++
		if m.Pending != "" || m.Kind != Configuration {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Apply(m, fixtures.Embedded(), dir); err != nil {
				t.Fatal(err)
			}
			if m.Kind == Interception || m.File == "" {
				if _, _, err := fixtures.OpenDir(dir); err != nil {
					t.Errorf("the copied folder does not read: %v", err)
				}
				return
			}
			got, err := os.ReadFile(filepath.Join(dir, m.File))
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(filepath.Join("..", "fixtures", m.Fixture, m.File))
			if string(got) == string(orig) {
				t.Errorf("%s/%s is unchanged", m.Fixture, m.File)
			}
			if _, _, err := fixtures.OpenDir(dir); err != nil {
				t.Errorf("the mutated folder does not read: %v", err)
			}
		})
	}
	for _, k := range kinds {
		if kindsSeen[k] == 0 {
			t.Errorf("no %s mutation in the catalog", k)
		}
	}
	if len(ms) < 15 {
		t.Errorf("%d entries, want at least 15", len(ms))
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unknown field", "mutations:\n  - name: a\n    kind: configuration\n    storey: x\n", `x.yaml:4: unknown field "storey"`},
		{"unknown kind", "mutations:\n  - name: a\n    kind: config\n    story: x\n    pending: y\n", `x.yaml:2: mutations[0]: bad catalog entry: kind "config"`},
		{"no patch", "mutations:\n  - name: a\n    kind: configuration\n    story: x\n", "needs fixture, file and replace (or ingressTargetPort), caughtBy and words"},
		{"control-plane without a patch", "mutations:\n  - name: a\n    kind: control-plane\n    story: x\n", "a control-plane mutation needs patch and specs"},
		{"interception without a change", "mutations:\n  - {name: a, kind: interception, story: x, fixture: whoami, caughtBy: [interception], words: [w]}\n", "needs fixture, interception (pod, set)"},
		{"interception with a bad change", "mutations:\n  - {name: a, kind: interception, story: x, fixture: whoami, interception: {pod: whoami/whoami, set: [PROXY_USER=1]}, caughtBy: [interception], words: [w]}\n", `interception.set[0]: bad istio-iptables configuration change: no field "PROXY_USER"`},
		{"twice", "mutations:\n  - {name: a, kind: interception, story: x, pending: y}\n  - {name: a, kind: interception, story: x, pending: y}\n", `x.yaml:3: mutations[1]: bad catalog entry: name "a" is used twice`},
		{"check kind", "mutations:\n  - {name: a, kind: interception, story: x, pending: y, caughtBy: [logs]}\n", `caughtBy "logs"`},
		{"control plane without patch", "mutations:\n  - {name: a, kind: control-plane, story: x, caughtBy: [sync], words: [w], specs: [suite]}\n", "a control-plane mutation needs patch and specs"},
		{"a missing patch file", "mutations:\n  - {name: a, kind: control-plane, story: x, patch: patches/nope.diff, caughtBy: [sync], words: [w], specs: [suite]}\n", "x.yaml:2: mutations[0]: bad catalog entry: mutation a: patch mutate/patches/nope.diff: open patches/nope.diff: file does not exist"},
		{"a control plane with a fixture", "mutations:\n  - {name: a, kind: control-plane, story: x, patch: p, fixture: whoami, caughtBy: [sync], words: [w], specs: [suite]}\n", "takes none of fixture, file, replace, envoy, proxyVersion"},
		{"skew without envoy", "mutations:\n  - {name: a, kind: version-skew, story: x, proxyVersion: 1.32.0, caughtBy: [sync], words: [w], specs: [suite]}\n", "needs envoy, proxyVersion and specs"},
		{"configuration with a patch", "mutations:\n  - {name: a, kind: configuration, story: x, fixture: f, file: g, replace: [{old: a, new: b}], patch: p, caughtBy: [routes], words: [w]}\n", "takes none of patch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.in), "x.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestApplyRefusesAmbiguousEdit(t *testing.T) {
	m := Mutation{Name: "m", Kind: Configuration, Fixture: "whoami", File: "steps/90-10.yaml",
		Replace: []Replace{{Old: "weight:", New: "weight: 1"}}}
	err := Apply(m, fixtures.Embedded(), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `"weight:" occurs 2 times in whoami/steps/90-10.yaml`) {
		t.Fatalf("err = %v", err)
	}
	m.Fixture = "nope"
	if err := Apply(m, fixtures.Embedded(), t.TempDir()); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unknown fixture: err = %v", err)
	}
}

// Scoring is strict: the right kind with the cause named catches; another
// kind, or the cause not named, is a miss.
func TestScore(t *testing.T) {
	m := Mutation{Name: "m", Kind: Configuration, CaughtBy: []checks.Kind{checks.Routes}, Words: []string{"v1=10"}}
	fail := func(k checks.Kind, actual string) checks.Result {
		return checks.Result{Fixture: "whoami", Step: "90-10", Kind: k, Name: "n", Source: "/tmp/x/expect.yaml:30", Status: checks.Fail, Expected: "v1=90", Actual: actual}
	}
	cases := []struct {
		name    string
		results []checks.Result
		caught  bool
		msg     string
	}{
		{"caught", []checks.Result{fail(checks.Routes, "v1=10"), fail(checks.Routes, "v1=10")}, true, "actual   v1=10"},
		{"another kind", []checks.Result{fail(checks.Splits, "v1=10")}, false, "splits"},
		{"cause not named", []checks.Result{fail(checks.Routes, "v1=50")}, false, "v1=50"},
		{"nothing failed", []checks.Result{{Kind: checks.Routes, Status: checks.Pass}}, false, "no check failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Score(m, tc.results)
			if o.Caught != tc.caught || !strings.Contains(o.Message, tc.msg) {
				t.Fatalf("caught %v message %q, want %v and %q", o.Caught, o.Message, tc.caught, tc.msg)
			}
			if tc.caught && (len(o.CaughtBy) != 1 || o.CaughtBy[0] != "whoami@90-10 expect.yaml:30 routes n") {
				t.Errorf("caughtBy = %q", o.CaughtBy)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	r := Report{Mutations: []Outcome{
		{Name: "a", Kind: Configuration, Caught: true, CaughtBy: []string{"w@s expect.yaml:1 routes outbound|80|v1|x"}},
		{Name: "b", Kind: ControlPlane, Message: "not run: later\nmore"},
	}, Clean: Clean{Runs: 2}}
	md := r.Markdown()
	for _, w := range []string{"1 of 2 mutations caught; clean runs: 2, failures: 0.", `| a | configuration | caught | w@s expect.yaml:1 routes outbound\|80\|v1\|x |`, "| b | control-plane | missed | not run: later |"} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
}
