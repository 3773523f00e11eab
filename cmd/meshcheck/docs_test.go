package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// The documentation test: every command line shown in README.md,
// CONTRIBUTING.md and docs/*.md is either run here, in-process, with the working directory
// testdata/docs (the committed files the examples name), or listed in
// runElsewhere with where it runs or why it cannot run here. The exit code
// and, where the docs show it, the output must match.
//
// What counts as a command line, per fenced block:
//   - a block with lines starting "$ " (console): each such line; the lines
//     after it are its output;
//   - a sh, bash or shell block: every line that is not blank or a comment;
//   - any other block except code (go, yaml, json): a line whose first word
//     is a command (commandWords), so a command cannot hide in a plain block.
//
// Expected exit code: 0, or "# exit N" at the end of the command or of an
// output line, or the number printed by "; echo $?" after the command or by
// a following "$ echo $?".
//
// Output: stdout, compared line by line after trimming trailing spaces; a
// line holding "..." stands for any number of lines. Shown output that is
// JSON (without "...") is compared as JSON values, so a doc may compact it.

// docsRoot is the repository root, relative to this package.
const docsRoot = "../.."

// runElsewhere lists the command lines shown in the docs that this test
// does not run, with where they run or why they cannot run here. Every
// entry must still be shown somewhere (TestDocsCommands fails on a stale
// one), and a new command in the docs fails until it is run or listed.
var runElsewhere = map[string]string{
	runWhoami:      "root and the embedded mesh: TestRunFixtures runs it as written from the repository root (make test, in .ci/run)",
	runKubeDryRun:  kubeDryRunWhere,
	cleanupDryRun:  cleanupWhere,
	cleanupAllRuns: cleanupWhere,
	"make e2e-cluster KUBECONFIG=staging.kubeconfig ISTIO=existing": "needs a cluster: hack/e2e-cluster-proof.sh runs hack/e2e-cluster.sh (this target's script) " +
		"with ISTIO=existing on a kind cluster it makes (make e2e-cluster-proof)",
	"make e2e-cluster KUBECONFIG=staging.kubeconfig CONTEXT=staging ISTIO=install": "needs a cluster and cluster-admin; not run here: " +
		"the install path is the kind backend's (make e2e-airgap), CONTEXT is kubectl config use-context on a copy",
	"source <(meshcheck completion bash)": "TestCompletionInBash runs it in a real bash (with the bash-completion package) and completes through it",
	`meshcheck completion zsh > "${fpath[1]}/_meshcheck"`: "writes into the user's zsh setup (zsh is not installed here); " +
		"TestCompletion generates the script in-process",
	"meshcheck completion fish > ~/.config/fish/completions/meshcheck.fish": "writes into the user's fish setup (fish is not installed here); " +
		"TestCompletion generates the script in-process",
	"go test ./engines/xds/trace -run Envoy -v":                             "make test runs these tests (hack/test.sh: go test over every package), in .ci/run",
	"go test ./engines/xds/trace -run 'TestEnvoyDifferential/redirects' -v": "make test runs TestEnvoyDifferential, redirects included, in .ci/run",
	"MESHCHECK_ENVOY_SEEDS=40 go test ./engines/xds/trace -run TestEnvoyDifferentialRandom": "make test runs TestEnvoyDifferentialRandom with its default seeds " +
		"(the variable only sets how many; 300 seeds were run by hand, docs/xds.md)",
	"MESHCHECK_ENVOY_SEED=7 go test ./engines/xds/trace -run TestEnvoyDifferentialRandom -v": "replays one seed by hand (run once here); make test runs seeds 1 to 6 through the same test",
	"make e2e-local": "run by .ci/run (CI)",
	"meshcheck report build --dir reports --suite e2e-local": "hack/run-suites.sh runs it at the end of every make e2e-local (in .ci/run); TestReport runs it on report/testdata/fail",
	"LABELS=whoami-header-canary make e2e-local": "root and network namespaces: make e2e-local (in .ci/run) runs " +
		"whoami-header-canary with every other test; run alone by hand",
	"make test":       "run by .ci/run (CI)",
	"make e2e-airgap": "run by .ci/run (CI)",
	"make gate-airgap BASELINE=pinned CANDIDATE=pinned SPECS=0": "run by .ci/run (CI)",
	"make gate BASELINE=v0.0.0-20260423205519-b01690e6db7d CANDIDATE=pinned": "root and two embedded meshes with the suites: " +
		"run by hand for docs/gate-history.md; TestGate runs meshcheck gate on the same two sources (make test, in .ci/run)",
	"make e2e-matrix": "run by .ci/run (CI) on three cells (MATRIX_CELLS); every cell by hand, results in the README",
	"make e2e-local INGRESS=gateway-api": "root and network namespaces: make e2e-matrix runs it for every gateway-api cell " +
		"(hack/e2e-local.sh with INGRESS=gateway-api), by hand here for the README (not yet in .ci/run: flaky, README)",
	"make node-image": "make images builds it (build/images/node.sh), which make e2e-airgap runs in .ci/run",
	"make node-image K8S_VERSION=1.36.3": "not run automatically: the node image for another Kubernetes version, built by hand " +
		"with the same script as the default one (build/images/node.sh, run by make e2e-airgap)",
	"kind create cluster --image meshcheck.local/kind-node:v1.34.4": "by hand (kind CLI, Docker); make e2e-airgap creates its " +
		"clusters from the same image through kind's Go API (backends/kindmesh/kindcluster)",
	"sudo make host-compat": "root and Docker: hack/e2e-kind.sh runs make host-compat (make e2e-airgap, in .ci/run)",
	"meshcheck kind host-compat status": "reads the host's Docker and capabilities (answer differs per host): " +
		"hack/e2e-kind.sh runs it (make e2e-airgap, in .ci/run)",
	"sudo meshcheck kind host-compat enable --wrapper bin/meshcheck-runc": "root and Docker: make host-compat runs it " +
		"(hack/e2e-kind.sh, make e2e-airgap, in .ci/run)",
	"sudo meshcheck kind host-compat disable": "root and Docker: hack/e2e-kind.sh runs it on exit (make e2e-airgap, in .ci/run)",
	"cp -r $(go env GOMODCACHE)/istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad /tmp/istio-src && chmod -R u+w /tmp/istio-src": "" +
		"a recipe run by hand (docs/airgap.md, ISTIO_SRC): minutes of image builds, root and Docker",
	"ISTIO_SRC=/tmp/istio-src build/images/istio.sh": "a recipe run by hand (docs/airgap.md); build/images/istio.sh without " +
		"ISTIO_SRC is run by make images (make e2e-airgap, in .ci/run)",
	`sed -i 's/log.Info("Starting proxy agent")/log.Info("Starting proxy agent (meshcheck ISTIO_SRC edit)")/' /tmp/istio-src/pkg/envoy/agent.go`: "" +
		"a recipe run by hand (docs/airgap.md, ISTIO_SRC)",
	"docker run --rm --network container:<pod> --user 0:0 --cap-drop ALL --cap-add NET_ADMIN --cap-add NET_RAW " +
		"meshcheck.local/istio/proxyv2:local istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' " +
		"-d 15090,15021,15020 --log_output_level=default:info": "root and Docker: build/images/check-istio.sh runs it (make images-check, run by hand: .ci/run does not)",
	"meshcheck workload run --app bookinfo-productpage|bookinfo-details|bookinfo-reviews|bookinfo-ratings|whoami --listen ADDR " +
		"[--name POD] [--version v1|v2|v3] [--details URL --reviews URL --ratings URL]": "a synopsis, not a command line; " +
		"the embedded backend runs workload run in every pod's network namespace (make e2e-local), and TestWorkloadRunStopsWithTheContext here",
	"meshcheck workload fetch URL [--header K=V]... [--timeout D] [-o text|json]": "a synopsis, not a command line; " +
		"the suites send in-mesh requests with it (make e2e-local), and TestWorkloadFetchThroughTheCLI here",
}

// Where the kube backend's command lines run.
const (
	kubeDryRunWhere = "needs a kubeconfig (not a cluster): TestKubeCommands runs it as written from the repository root with one (make test)"
	cleanupWhere    = "needs a cluster: hack/e2e-cluster-proof.sh runs it as written (its kubeconfig is the restricted ServiceAccount's) on a kind cluster (make e2e-cluster-proof)"
)

// helpElsewhere is runElsewhere for the examples in the commands' -h.
var helpElsewhere = map[string]string{
	"meshcheck mutate": "root and the whole catalog (a mesh per entry, five control-plane builds, the suites per control-plane and skew entry: " +
		"longer than a test may take): make mutate runs it by hand, results in the README; the -o json example here and TestRunFixtures run single entries",
	"meshcheck report build --dir reports --suite e2e-local":                  "hack/run-suites.sh runs it at the end of every make e2e-local (in .ci/run); TestReport runs it on report/testdata/fail",
	`meshcheck report markdown reports/report.json >> "$GITHUB_STEP_SUMMARY"`: "appends to the CI job's summary (hack/run-suites.sh does it in CI); TestReport renders a report as Markdown",
	"make gate-airgap BASELINE=pinned CANDIDATE=../istio": "root, Docker, two kind clusters and an Istio checkout: " +
		".ci/run runs make gate-airgap BASELINE=pinned CANDIDATE=pinned SPECS=0; the README's run against a changed copy of pinned was run by hand",
	"meshcheck gate --baseline pinned --candidate ../istio": "root, two embedded meshes and a control plane built from a checkout: " +
		"TestGate runs meshcheck gate end to end on the two served Istio builds (make test, in .ci/run)",
	"meshcheck gate --baseline v0.0.0-20260423205519-b01690e6db7d --candidate pinned --accepted accepted.yaml -o json": "" +
		"root and two embedded meshes: TestGate runs this command line with an accepted-changes file of its own (make test, in .ci/run)",
	runWhoami:      "root and the embedded mesh: TestRunFixtures runs it as written from the repository root (make test, in .ci/run)",
	runKubeDryRun:  kubeDryRunWhere,
	cleanupDryRun:  cleanupWhere,
	cleanupAllRuns: cleanupWhere,
	runWhoamiJSON:  "root and the embedded mesh: TestRunFixtures runs it as written from the repository root (make test, in .ci/run)",
	"kubectl exec POD -c istio-proxy -- iptables-save > pod-rules.txt": "needs a cluster; testdata/docs/pod-rules.txt stands for its output",
	"nsenter -t PID -n iptables-save | meshcheck iptables explain --rules - --proto udp --dst 10.96.0.10:53 --uid 1000 --gid 1000": "" +
		"needs a pod's network namespace: the kind backend reads each pod's rules this way " +
		"(backends/kindmesh: nsenter -t PID -n on the node) and the suites check them (make e2e-airgap)",
	"kubectl exec deploy/productpage-v1 -c istio-proxy -- pilot-agent request GET 'config_dump?include_eds' | " +
		"meshcheck xds trace --dump - --role sidecar-inbound --address 10.244.0.12 --port 9080 --host productpage:9080": "needs a cluster",
	"kubectl logs deploy/productpage-v1 -c istio-proxy | meshcheck logs parse -": "needs a cluster",
	"meshcheck kind preflight --istio-version 1.30.4":                            "needs Docker and the release download: hack/e2e-kind.sh runs it (make e2e)",
	"meshcheck kind preflight --istio-version 1.31.1 --mirror https://mirror.example/istio --timeout 2s": "needs Docker and a mirror; " +
		"TestKindPreflight runs preflight against a local server",
	"meshcheck kind preflight --docker-only": "needs Docker: hack/e2e-kind.sh runs it (make e2e-airgap, in .ci/run)",
	"meshcheck kind release --istio-version 1.30.4": "downloads a release (make e2e resolves the same in Go, kindmesh.Resolve); " +
		"TestKindRelease runs it against a local server",
	"meshcheck kind delete --name meshcheck-1-31-a1b2c3":         "needs Docker; kindmesh deletes its clusters through the same backends/kindmesh/kindcluster code (make e2e-airgap)",
	"meshcheck kind delete --name meshcheck-1-31-a1b2c3 -o json": "needs Docker, as above",
	"meshcheck kind export-logs --name meshcheck-1-31-a1b2c3 --dir reports/kind-logs": "needs Docker and a cluster; kindmesh " +
		"exports a failed run's logs through the same backends/kindmesh/kindcluster code (make e2e-airgap)",
	"meshcheck kind host-compat status":                                   runElsewhere["meshcheck kind host-compat status"],
	"sudo meshcheck kind host-compat enable --wrapper bin/meshcheck-runc": runElsewhere["sudo meshcheck kind host-compat enable --wrapper bin/meshcheck-runc"],
	"sudo meshcheck kind host-compat disable":                             runElsewhere["sudo meshcheck kind host-compat disable"],
}

// commandWords are the first words that make a line of a plain block a
// command line.
var commandWords = []string{"meshcheck", "sudo", "make", "kind", "docker", "kubectl", "istioctl", "go", "eval", "cp", "sed", "curl"}

// docExample is one command line shown in the docs.
type docExample struct {
	file    string
	line    int
	command string
	output  []string // shown output; nil when none is shown
	exit    int
}

func (e docExample) String() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.command) }

var (
	exitComment = regexp.MustCompile(`\s+#\s*exit (\d+)\b[^#]*$`)
	fence       = regexp.MustCompile("^\\s*```")
)

// docFiles are README.md, CONTRIBUTING.md and docs/*.md, relative to the
// repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(docsRoot, "docs", "*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md under %s: %v", docsRoot, err)
	}
	files := []string{"README.md", "CONTRIBUTING.md"}
	for _, d := range docs {
		files = append(files, filepath.ToSlash(strings.TrimPrefix(d, docsRoot+string(filepath.Separator))))
	}
	return files
}

// docBlock is a fenced block: its language, first line number and lines.
type docBlock struct {
	lang  string
	start int
	lines []string
}

// fencedBlocks returns the fenced blocks of a markdown text.
func fencedBlocks(text string) []docBlock {
	var blocks []docBlock
	var cur *docBlock
	for i, l := range strings.Split(text, "\n") {
		switch {
		case fence.MatchString(l) && cur == nil:
			cur = &docBlock{lang: strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "`")), start: i + 2}
		case fence.MatchString(l):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
		}
	}
	return blocks
}

// extractExamples returns the command lines shown in one file's blocks.
func extractExamples(file, text string) ([]docExample, error) {
	var out []docExample
	for _, b := range fencedBlocks(text) {
		var exs []docExample
		var err error
		switch {
		case slices.Contains([]string{"go", "yaml", "json"}, b.lang):
			continue
		case slices.ContainsFunc(b.lines, func(l string) bool { return strings.HasPrefix(l, "$ ") }):
			exs, err = consoleExamples(file, b)
		default:
			exs = plainExamples(file, b, slices.Contains([]string{"sh", "bash", "shell"}, b.lang))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, exs...)
	}
	return out, nil
}

// consoleExamples reads a block of "$ command" lines each followed by its
// output.
func consoleExamples(file string, b docBlock) ([]docExample, error) {
	var exs []docExample
	for i, l := range b.lines {
		cmd, isCmd := strings.CutPrefix(l, "$ ")
		switch {
		case isCmd && cmd == "echo $?":
			if len(exs) == 0 || i+1 >= len(b.lines) {
				return nil, fmt.Errorf("%s:%d: echo $? with no command before it or no code after it", file, b.start+i)
			}
			exs[len(exs)-1].output = append(exs[len(exs)-1].output, "$ echo $?")
		case isCmd:
			exs = append(exs, docExample{file: file, line: b.start + i, command: cmd})
		case len(exs) > 0:
			exs[len(exs)-1].output = append(exs[len(exs)-1].output, l)
		}
	}
	for i := range exs {
		if err := exs[i].settle(); err != nil {
			return nil, err
		}
	}
	return exs, nil
}

// settle takes the expected exit code out of the command and its output
// and trims the output.
func (e *docExample) settle() error {
	e.command = strings.TrimSpace(e.command)
	if m := exitComment.FindStringSubmatch(e.command); m != nil {
		e.exit, _ = strconv.Atoi(m[1])
		e.command = strings.TrimSpace(e.command[:len(e.command)-len(m[0])])
	}
	for i, l := range e.output {
		if m := exitComment.FindStringSubmatch(l); m != nil {
			e.exit, _ = strconv.Atoi(m[1])
			l = l[:len(l)-len(m[0])]
		}
		e.output[i] = strings.TrimRight(l, " \t")
	}
	for len(e.output) > 0 && e.output[len(e.output)-1] == "" {
		e.output = e.output[:len(e.output)-1]
	}
	echo := false
	if c, ok := strings.CutSuffix(e.command, "; echo $?"); ok {
		e.command, echo = c, true
	}
	if n := len(e.output); n >= 2 && e.output[n-2] == "$ echo $?" {
		e.output, echo = append(e.output[:n-2], e.output[n-1]), true
	}
	if echo {
		n := len(e.output)
		if n == 0 {
			return fmt.Errorf("%s: echo $? is not followed by an exit code", e)
		}
		code, err := strconv.Atoi(strings.TrimSpace(e.output[n-1]))
		if err != nil {
			return fmt.Errorf("%s: echo $? is not followed by an exit code: %q", e, e.output)
		}
		e.exit, e.output = code, e.output[:n-1]
	}
	return nil
}

// plainExamples reads the command lines of a sh block (every line) or of a
// plain block (lines starting with a command word); a trailing backslash
// or pipe continues a line, a # starts a comment.
func plainExamples(file string, b docBlock, sh bool) []docExample {
	var exs []docExample
	for i := 0; i < len(b.lines); i++ {
		start, l := i, strings.TrimSpace(b.lines[i])
		for (strings.HasSuffix(l, "\\") || strings.HasSuffix(l, "|")) && i+1 < len(b.lines) {
			i++
			l = strings.TrimSpace(strings.TrimSuffix(l, "\\")) + " " + strings.TrimSpace(b.lines[i])
		}
		first, _, _ := strings.Cut(l, " ")
		if l == "" || strings.HasPrefix(l, "#") || !sh && !slices.Contains(commandWords, first) {
			continue
		}
		e := docExample{file: file, line: b.start + start, command: l}
		if m := exitComment.FindStringSubmatch(l); m != nil {
			e.exit, _ = strconv.Atoi(m[1])
			l = l[:len(l)-len(m[0])]
		}
		e.command = strings.TrimSpace(stripComment(l))
		exs = append(exs, e)
	}
	return exs
}

// stripComment drops a shell comment (" #" outside quotes).
func stripComment(l string) string {
	var quote rune
	for i, r := range l {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && i > 0 && (l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i]
		}
	}
	return l
}

// stdinRedirect stands for an unquoted "<" among the words.
const stdinRedirect = "\x00<"

// shellSplit splits a command line into words with the shell's quoting, and
// takes "< FILE" as standard input; it refuses what else only a shell
// would do (pipes, output redirects, expansion, globs).
func shellSplit(cmd string) (words []string, stdin string, err error) {
	words, err = splitWords(cmd)
	if err != nil {
		return nil, "", err
	}
	if i := slices.Index(words, stdinRedirect); i >= 0 {
		if i+1 >= len(words) || slices.Contains(words[i+1:], stdinRedirect) {
			return nil, "", fmt.Errorf("want one \"< FILE\"")
		}
		stdin = words[i+1]
		words = slices.Delete(words, i, i+2)
	}
	return words, stdin, nil
}

func splitWords(cmd string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range cmd {
		switch {
		case quote == 0 && r == '<' && !inWord:
			words = append(words, stdinRedirect)
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case strings.ContainsRune("|&;<>$`*?()[]{}\\", r):
			return nil, fmt.Errorf("shell syntax %q: run it elsewhere and list it in runElsewhere", r)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// matchLines reports whether got matches want, where a want line holding
// "..." matches any number of lines.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.Contains(want[0], "...") {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && matchLines(want[1:], got[1:])
}

// sameJSON reports whether the shown output is JSON (without "...") and
// equal, as values, to stdout.
func sameJSON(want []string, stdout string) (isJSON, same bool) {
	shown := strings.Join(want, "\n")
	var w, g any
	if strings.Contains(shown, "...") || json.Unmarshal([]byte(shown), &w) != nil {
		return false, false
	}
	return true, json.Unmarshal([]byte(stdout), &g) == nil && reflect.DeepEqual(w, g)
}

// outputLines splits stdout into lines without trailing spaces.
func outputLines(stdout string) []string {
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return lines
}

// checkExample runs one example in-process and returns what differs.
func checkExample(e docExample) error {
	words, stdin, err := shellSplit(e.command)
	if err != nil {
		return err
	}
	in := []byte{}
	if stdin != "" {
		if in, err = os.ReadFile(stdin); err != nil {
			return fmt.Errorf("standard input: %w", err)
		}
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), words[1:], streams{In: bytes.NewReader(in), Out: &out, Err: &errb})
	var problems []string
	if code != e.exit {
		problems = append(problems, fmt.Sprintf("exit %d, the docs say %d", code, e.exit))
	}
	if e.output != nil {
		if isJSON, same := sameJSON(e.output, out.String()); isJSON && !same {
			problems = append(problems, "stdout is not the JSON the docs show")
		} else if !isJSON && !matchLines(e.output, outputLines(out.String())) {
			problems = append(problems, "stdout is not what the docs show")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s\n--- the docs show:\n%s\n--- stdout:\n%s--- stderr:\n%s",
		strings.Join(problems, "; "), strings.Join(e.output, "\n"), out.String(), errb.String())
}

// TestDocsCommands runs every meshcheck command line the docs show and
// checks that every other one is listed in runElsewhere.
func TestDocsCommands(t *testing.T) {
	var all []docExample
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(filepath.Join(docsRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		exs, err := extractExamples(f, string(b))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, exs...)
	}
	checkAll(t, all, runElsewhere)
}

// TestHelpExamples runs every example in the commands' -h the same way:
// the help is documentation too.
func TestHelpExamples(t *testing.T) {
	var all []docExample
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			b := docBlock{start: 1, lines: strings.Split(c.Example, "\n")}
			all = append(all, plainExamples(c.CommandPath()+" -h", b, true)...)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(streams{}))
	checkAll(t, all, helpElsewhere)
}

// checkAll runs the meshcheck examples in testdata/docs, checks that every
// other one is listed in elsewhere, and that every entry there is shown.
func checkAll(t *testing.T, all []docExample, elsewhere map[string]string) {
	t.Helper()
	t.Chdir("testdata/docs")
	seen := map[string]bool{}
	ran := 0
	for _, e := range all {
		if _, ok := elsewhere[e.command]; ok {
			seen[e.command] = true
			continue
		}
		if !strings.HasPrefix(e.command, "meshcheck ") {
			t.Errorf("%s: not a meshcheck command and not listed as run elsewhere: run it somewhere and say where", e)
			continue
		}
		ran++
		if err := checkExample(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	for _, c := range sortedKeys(elsewhere) {
		if !seen[c] {
			t.Errorf("%q is listed as run elsewhere, but nothing shows it any more: remove it", c)
		}
	}
	t.Logf("%d command lines: %d run here, %d run elsewhere", len(all), ran, len(all)-ran)
}

// TestExtractExamples checks what the documentation test takes from a doc:
// commands, output, expected exit codes, and which lines are not commands.
func TestExtractExamples(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []docExample
	}{
		{"console with output and exit comment", "```console\n$ meshcheck a --x 1\nline 1  \n...\nlast   # exit 3\n\n$ meshcheck b\n```\n",
			[]docExample{{line: 2, command: "meshcheck a --x 1", output: []string{"line 1", "...", "last"}, exit: 3}, {line: 7, command: "meshcheck b"}}},
		{"echo $? after the command", "```\n$ meshcheck split decide; echo $?\nneed-more\n2\n```\n",
			[]docExample{{line: 2, command: "meshcheck split decide", output: []string{"need-more"}, exit: 2}}},
		{"echo $? as its own line", "```\n$ meshcheck c\nout\n$ echo $?\n1\n```\n",
			[]docExample{{line: 2, command: "meshcheck c", output: []string{"out"}, exit: 1}}},
		{"sh block: every line, comments dropped, continuation joined", "```sh\n# a comment\nmake e2e-local   # the main job\nmeshcheck x \\\n  --y 'a # b'   # exit 4\n```\n",
			[]docExample{{line: 3, command: "make e2e-local"}, {line: 4, command: "meshcheck x --y 'a # b'", exit: 4}}},
		{"plain block: command words only", "```\nISTIO_HUB=x\nName: <name>\nkind create cluster\n```\n",
			[]docExample{{line: 4, command: "kind create cluster"}}},
		{"code blocks are skipped", "```go\nmake(x)\n```\n```yaml\nmeshcheck: 1\n```\n", nil},
		{"indented fence", "- item\n  ```\n  docker run x\n  ```\n", []docExample{{line: 3, command: "docker run x"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := extractExamples("f.md", tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				tc.want[i].file = "f.md"
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
	if _, err := extractExamples("f.md", "```\n$ meshcheck c; echo $?\n```\n"); err == nil {
		t.Error("echo $? without a code: no error")
	}
}

func TestMatchLinesAndShellSplit(t *testing.T) {
	for _, tc := range []struct {
		want, got []string
		match     bool
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, true},
		{[]string{"a", "b"}, []string{"a", "b", "c"}, false},
		{[]string{"a", "...", "d"}, []string{"a", "b", "c", "d"}, true},
		{[]string{"a", "...", "d"}, []string{"a", "d"}, true},
		{[]string{"...", "x"}, []string{"a", "d"}, false},
		{[]string{"a", "  ..."}, []string{"a", "b"}, true},
	} {
		if got := matchLines(tc.want, tc.got); got != tc.match {
			t.Errorf("matchLines(%q, %q) = %v, want %v", tc.want, tc.got, got, tc.match)
		}
	}
	for _, tc := range []struct {
		cmd  string
		want []string
		err  string
	}{
		{`meshcheck a 'b c' "d"`, []string{"meshcheck", "a", "b c", "d"}, ""},
		{`meshcheck a < in.json`, []string{"meshcheck", "a"}, ""},
		{`meshcheck a <`, nil, `want one "< FILE"`},
		{`meshcheck a | grep x`, nil, `shell syntax '|'`},
		{`meshcheck a > out`, nil, `shell syntax '>'`},
		{`meshcheck *.log`, nil, `shell syntax '*'`},
		{`meshcheck 'a`, nil, "unterminated ' quote"},
	} {
		got, _, err := shellSplit(tc.cmd)
		if !reflect.DeepEqual(got, tc.want) || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q, %q", tc.cmd, got, err, tc.want, tc.err)
		}
	}
}
