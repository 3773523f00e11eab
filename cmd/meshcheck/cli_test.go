package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// asMainEnv makes the test binary run meshcheck's main instead of the
// tests, so a test can put it on PATH as meshcheck.
const asMainEnv = "MESHCHECK_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// runCLI runs meshcheck with args and stdin, returning the exit code and
// what it wrote.
func runCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestTopLevel(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{nil, exitUsage, "", "Available Commands:"},
		{[]string{"help"}, exitOK, "iptables", ""},
		{[]string{"-h"}, exitOK, "Exit codes: 0 ok", ""},
		{[]string{"help", "xds", "trace"}, exitOK, "Examples:", ""},
		{[]string{"help", "xds", "nope"}, exitUsage, "", `unknown help topic "xds nope"`},
		{[]string{"help", "nope"}, exitUsage, "", `unknown help topic "nope"`},
		{[]string{"version"}, exitOK, "meshcheck ", ""},
		{[]string{"version", "-o", "json"}, exitOK, `"version": "`, ""},
		{[]string{"--version"}, exitOK, "meshcheck ", ""},
		{[]string{"nope"}, exitUsage, "", `unknown command "nope"`},
		{[]string{"completion"}, exitUsage, "", "bash"},
		{[]string{"completion", "tcsh"}, exitUsage, "", "have bash, fish, powershell, zsh"},
		{[]string{"xds"}, exitUsage, "", "trace"},
		{[]string{"xds", "trcae"}, exitUsage, "", `unknown command "trcae" (did you mean trace?); have check, diff, lint, trace`},
		{[]string{"xds", "lint", "--nope"}, exitUsage, "", "unknown flag: --nope\nRun 'meshcheck xds lint -h' for help."},
		{[]string{"xds", "lint", "extra"}, exitUsage, "", `unexpected arguments ["extra"]`},
		{[]string{"split", "decide", "--weights"}, exitUsage, "", "flag needs an argument: --weights"},
		{[]string{"iptables", "explain", "--uid", "x"}, exitUsage, "", `invalid argument "x" for "--uid" flag: want a number, got "x"`},
		{[]string{"kind", "versions", "-o", "yaml"}, exitUsage, "", `invalid argument "yaml" for "-o, --output" flag: want text or json`},
		{[]string{"kind", "versions", "-o", "json"}, exitOK, `"minor": "1.30"`, ""},
		{[]string{"gate", "--baseline", "pinned", "--candidate", "pinned", "--backend", "k8s"}, exitUsage, "", `--backend "k8s": want embedded or kind`},
		{[]string{"gate", "--baseline", "v0.0.0-20260423205519-b01690e6db7d", "--candidate", "pinned", "--backend", "kind"}, exitBadInput, "",
			"istio.io/istio@v0.0.0-20260423205519-b01690e6db7d: the gate on kind builds the pilot and proxyv2 images with this repository's requirements"},
	}
	for _, tc := range cases {
		code, out, errs := runCLI("", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
			t.Errorf("meshcheck %v: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", tc.args, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
}

// TestFlagsAfterArguments runs commands with their flags after the
// arguments, which Go's flag package read as more arguments.
func TestFlagsAfterArguments(t *testing.T) {
	cases := []struct {
		args []string
		out  string
	}{
		{[]string{"logs", "parse", "testdata/docs/istio-proxy.log", "-o", "json"}, `"response_code": 200`},
		{[]string{"logs", "flows", "testdata/logs/gateway.log", "testdata/logs/productpage.log", "--request-id", "meshcheck-live-0002", "-o", "json"}, `"request_id": "meshcheck-live-0002"`},
		{[]string{"xds", "diff", td + "/samples/gateway-config_dump.json", td + "/samples/gateway-config_dump.json", "-o", "json"}, "[]"},
	}
	for _, tc := range cases {
		code, out, errs := runCLI("", tc.args...)
		if code != exitOK || !strings.Contains(out, tc.out) {
			t.Errorf("meshcheck %q: exit %d, stdout %q, stderr %q; want exit 0 and %q", tc.args, code, out, errs, tc.out)
		}
	}
}

// TestCompletion checks the shell scripts and cobra's dynamic completion
// of subcommands and flag values.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runCLI("", "completion", sh)
		if code != exitOK || !strings.Contains(out, "meshcheck") || len(out) < 1000 {
			t.Errorf("meshcheck completion %s: exit %d, %d bytes of script, stderr %q", sh, code, len(out), errs)
		}
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "x"}, []string{"xds"}},
		{[]string{"__complete", "xds", ""}, []string{"trace", "lint", "check", "diff"}},
		{[]string{"__complete", "xds", "trace", "--role", ""}, []string{"gateway", "sidecar-outbound", "sidecar-inbound"}},
		{[]string{"__complete", "logs", "parse", "-o", ""}, []string{"text", "json"}},
		{[]string{"__complete", "kind", "host-compat", ""}, []string{"status", "enable", "disable"}},
	}
	for _, tc := range cases {
		code, out, _ := runCLI("", tc.args...)
		for _, w := range tc.want {
			if code != exitOK || !strings.Contains(out, w+"\n") && !strings.Contains(out, w+"\t") {
				t.Errorf("meshcheck %q: exit %d, completions %q; want %q among them", tc.args, code, out, w)
			}
		}
	}
}

// TestCompletionInBash loads the bash completion script the way the README
// shows (source <(meshcheck completion bash)) into a real bash with the
// test binary on PATH as meshcheck (see TestMain), and completes a subcommand and a flag value.
func TestCompletionInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Skip("cobra's bash script needs the bash-completion package (apt-get install bash-completion): " + err.Error())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "meshcheck")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		words string
		want  string
	}{
		{"meshcheck xds tr", "trace"},
		{"meshcheck xds trace --role sidecar-o", "sidecar-outbound"},
		{"meshcheck kind host-compat st", "status"},
	} {
		script := `source ` + bashCompletion + ` && source <(meshcheck completion bash) || exit 1
COMP_WORDS=(` + tc.words + `); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="` + tc.words + `"; COMP_POINT=${#COMP_LINE}
__start_meshcheck meshcheck && printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "--norc", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), asMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !slices.Contains(strings.Fields(string(out)), tc.want) {
			t.Errorf("bash completion of %q: %v, completions %q; want %q among them", tc.words, err, out, tc.want)
		}
	}
}

// noOutputFlag lists the commands without -o, and why.
var noOutputFlag = map[string]string{
	"meshcheck kind config":     "prints a kind config file",
	"meshcheck kind release":    "prints KEY=VALUE lines, the release's resolution",
	"meshcheck report build":    "writes report.json, summary.md and report.html into the report folder (the JSON is the report)",
	"meshcheck report markdown": "prints Markdown: its input is the report's JSON",
}

// TestEveryCommand walks the command tree: every command has -h with
// examples, printed on stdout with exit 0, and -o text|json unless
// noOutputFlag says why not.
func TestEveryCommand(t *testing.T) {
	var leaves []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() || c.Name() == "completion" || c.Parent() != nil && c.Parent().Name() == "workload" {
			return // cobra's own; workload's flags and help are package workload's (TestWorkloadUsage)
		}
		if !c.HasSubCommands() {
			leaves = append(leaves, c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(streams{}))
	if len(leaves) < 15 {
		t.Fatalf("only %d commands found", len(leaves))
	}
	seen := map[string]bool{}
	for _, c := range leaves {
		path := c.CommandPath()
		if c.Example == "" {
			t.Errorf("%s has no examples", path)
		}
		_, exempt := noOutputFlag[path]
		seen[path] = exempt
		if f := c.Flags().Lookup("output"); (f == nil || f.Shorthand != "o") != exempt {
			t.Errorf("%s: -o flag %v, exempt %v (noOutputFlag)", path, f, exempt)
		}
		code, out, errs := runCLI("", append(strings.Fields(path)[1:], "-h")...)
		if code != exitOK || !strings.Contains(out, "Examples:") || errs != "" {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q; want 0 and examples on stdout", path, code, out, errs)
		}
	}
	for p := range noOutputFlag {
		if !seen[p] {
			t.Errorf("noOutputFlag lists %s, which is not a command", p)
		}
	}
}
