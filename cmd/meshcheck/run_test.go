package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// The meshcheck run command lines README.md, docs/fixtures.md and run -h
// show; TestRunFixtures runs each as written, from the repository root.
const (
	runWhoami     = "meshcheck run --fixtures fixtures/whoami"
	runWhoamiJSON = "meshcheck run --fixtures fixtures/whoami --report-dir /tmp/meshcheck-reports -o json"
)

// meshcheckOnPath puts the test binary on PATH as meshcheck (TestMain runs
// main with asMainEnv) and returns an environment with nothing else set:
// no pilot variables, no MESHCHECK_BIN, as a user's root shell.
func meshcheckOnPath(t *testing.T) (dir string, env []string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "meshcheck")); err != nil {
		t.Fatal(err)
	}
	return dir, []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), asMainEnv + "=1"}
}

// runMeshcheck runs the meshcheck binary in bin with args, in dir, with
// env, and returns its exit code and output.
func runMeshcheck(t *testing.T, bin, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join(bin, "meshcheck"), args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// brokenCopy copies fixtures/whoami and replaces text in one of its files.
func brokenCopy(t *testing.T, file string, edits ...[2]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "whoami-copy")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(docsRoot, "fixtures", "whoami"))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dst, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, e := range edits {
		if !strings.Contains(s, e[0]) {
			t.Fatalf("%s lacks %q", file, e[0])
		}
		s = strings.Replace(s, e[0], e[1], 1)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestRunFixtures runs meshcheck run on the embedded mesh, as root with
// nothing exported: the bundled whoami fixture passes (the docs' command
// lines as written); a copy whose 90-10 step says 50/50, and a copy whose
// DestinationRule lost subset v2, fail with exit 1 and evidence that names
// what was expected and what was seen.
func TestRunFixtures(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("meshcheck run brings up the embedded mesh: it needs root (network namespaces, iptables)")
	}
	if _, err := envoybin.Find(); err != nil {
		t.Skip(err.Error())
	}
	bin, env := meshcheckOnPath(t)
	reports := t.TempDir()
	weights := brokenCopy(t, "steps/90-10.yaml", [2]string{"weight: 90", "weight: 50"}, [2]string{"weight: 10", "weight: 50"})
	subset := brokenCopy(t, "destination-rule.yaml", [2]string{"  - name: v2\n    labels:\n      version: v2\n", ""})
	for _, tc := range []struct {
		name, command string
		code          int
		want          []string // in stdout
	}{
		{"the README's command as written", runWhoami, exitOK, []string{"[whoami@90-10] PASS", "splits traffic through the ingress splits 90/10", "16 passed, 0 failed, 0 undecided (embedded backend"}},
		{"run -h's JSON example as written", runWhoamiJSON, exitOK, []string{`"kind": "RunReport"`, `"pass": 16`}},
		{"weights changed to 50/50 in step 90-10", "meshcheck run --fixtures " + weights + " --report-dir " + reports, exitFail, []string{
			"[whoami@90-10] FAIL      " + weights + "/expect.yaml:43: routes proxy gateway (istio-system/istio-ingressgateway-",
			"expected outbound|80|v1|whoami.whoami.svc.cluster.local=90, outbound|80|v2|whoami.whoami.svc.cluster.local=10",
			"actual   outbound|80|v1|whoami.whoami.svc.cluster.local=50, outbound|80|v2|whoami.whoami.svc.cluster.local=50",
			"[whoami@90-10] FAIL      " + weights + "/expect.yaml:57: splits traffic through the ingress splits 90/10",
			"expected weights v1=90,v2=10",
			"[whoami@50-50] PASS", "evidence of whoami@90-10: " + reports + "/evidence/embedded/run-whoami-90-10",
		}},
		{"a DestinationRule subset removed", "meshcheck run --fixtures " + subset + " --report-dir " + reports, exitFail, []string{
			"[whoami@base] FAIL      " + subset + "/expect.yaml:12: routes proxy gateway (istio-system/istio-ingressgateway-",
			"clusters[1](outbound|80|v2|whoami.whoami.svc.cluster.local): cluster outbound|80|v2|whoami.whoami.svc.cluster.local not found",
			"expected outbound|80|v2|whoami.whoami.svc.cluster.local",
			"actual   not found",
			"closest  outbound|80|v1|whoami.whoami.svc.cluster.local",
			"[whoami@90-10] FAIL      " + subset + "/expect.yaml:57: splits traffic through the ingress splits 90/10",
		}},
		{"a configuration and an interception mutation, scored", "meshcheck mutate --only weights-flipped --only proxy-uid-bypass-missing --report-dir " + reports, exitOK, []string{
			"weights-flipped                configuration caught",
			"proxy-uid-bypass-missing       interception  caught",
			"2 of 2 mutations caught; clean runs: 1, failures: 0.",
			"| weights-flipped | configuration | caught | whoami@90-10 expect.yaml:43 routes proxy gateway",
			"| proxy-uid-bypass-missing | interception | caught | whoami@base expect.yaml:33 interception whoami/whoami-v1-",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := strings.Fields(tc.command)
			code, out, errb := runMeshcheck(t, bin, docsRoot, env, args[1:]...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr (end):\n%s", code, tc.code, out, tail(errb, 3000))
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q\nstdout:\n%s", w, out)
				}
			}
			t.Logf("%s: exit %d\n%s", tc.command, code, out)
		})
	}
	// The failure's evidence: the failure text, the config dumps, the logs.
	dir := filepath.Join(reports, "evidence", "embedded", "run-whoami-90-10")
	failure, err := os.ReadFile(filepath.Join(dir, "failure.txt"))
	if err != nil || !strings.Contains(string(failure), "expected weights v1=90,v2=10") {
		t.Errorf("evidence %s/failure.txt: %v\n%s", dir, err, failure)
	}
	var rep runReport
	if b, err := os.ReadFile(filepath.Join(reports, "run-embedded.json")); err != nil || json.Unmarshal(b, &rep) != nil || rep.Summary["fail"] == 0 {
		t.Errorf("report run-embedded.json: %v %+v", err, rep.Summary)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Bad input stops meshcheck run before anything is brought up, with the
// exit code and a message naming the file, the line and the field.
func TestRunBadInput(t *testing.T) {
	whoami := filepath.Join(docsRoot, "fixtures", "whoami")
	noExpect := t.TempDir()
	if err := os.CopyFS(noExpect, os.DirFS(filepath.Join(docsRoot, "fixtures", "bookinfo"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(noExpect, "expect.yaml")); err != nil {
		t.Fatal(err)
	}
	unknownField := brokenCopy(t, "expect.yaml", [2]string{"classify: whoami\n        weights: v1=90", "classify: whoami\n        weigths: v1=90"})
	unknownProxy := brokenCopy(t, "expect.yaml", [2]string{"      - proxy: gateway\n        when: {ingress: istio}\n        flows:", "      - proxy: whoami/whoareyou\n        when: {ingress: istio}\n        flows:"})
	badWeight := brokenCopy(t, "expect.yaml", [2]string{"weights: v1=90,v2=10", "weights: v1=90%,v2=10"})
	badManifest := brokenCopy(t, "steps/50-50.yaml", [2]string{"subset: v1", "subsett: v1"})
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no folder", []string{"run"}, exitUsage, "no --fixtures folder given"},
		{"a folder that is not there", []string{"run", "--fixtures", "/nonexistent"}, exitNoInput, "/nonexistent: bad fixture metadata: open /nonexistent/fixture.yaml: no such file or directory"},
		{"a folder without expect.yaml", []string{"run", "--fixtures", noExpect}, exitNoInput, noExpect + "/expect.yaml: the fixture's checks: open expect.yaml: no such file or directory"},
		{"unknown field", []string{"run", "--fixtures", unknownField}, exitBadInput, unknownField + `/expect.yaml:61: bad field: unknown field "weigths" in expect.steps[0].splits[0]`},
		{"unknown proxy", []string{"run", "--fixtures", unknownProxy}, exitBadInput, unknownProxy + `/expect.yaml:40: steps[0].routes[0].proxy: unknown name: no workload of the fixture matches "whoami/whoareyou"`},
		{"a weight that does not parse", []string{"run", "--fixtures", badWeight}, exitBadInput, badWeight + `/expect.yaml:61: steps[0].splits[0].weights: bad value: "v1=90%,v2=10": weight "v1=90%": "90%" is not a non-negative number`},
		{"a manifest's unknown field", []string{"run", "--fixtures", badManifest}, exitBadInput, badManifest + "/steps/50-50.yaml:19: spec.http[0].route[0].destination.subsett: unknown field"},
		{"an unknown backend", []string{"run", "--fixtures", whoami, "--backend", "nope"}, exitUsage, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI("", tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant it to contain\n%s\nstdout:\n%s", code, tc.code, errs, tc.err, out)
			}
		})
	}
}

func TestExitFor(t *testing.T) {
	for _, tc := range []struct {
		pass, fail, undecided, code int
	}{{3, 0, 0, exitOK}, {3, 1, 0, exitFail}, {3, 0, 1, exitUndecided}, {0, 1, 1, exitFail}} {
		if got := exitFor(map[checks.Status]int{checks.Pass: tc.pass, checks.Fail: tc.fail, checks.Undecided: tc.undecided}); got != tc.code {
			t.Errorf("%+v: exit %d", tc, got)
		}
	}
}
