package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand. Commands that decide something use
// 0 (pass) and 1 (fail); a few add their own (documented in their help).
const (
	exitOK        = 0
	exitFail      = 1  // a check failed, a diff was found, a lint error was reported
	exitNeedMore  = 2  // split decide: the evidence does not suffice yet
	exitNoRoute   = 3  // xds trace: Envoy would find no listener or no route
	exitUndecided = 4  // xds trace: something meshcheck cannot decide (named)
	exitUsage     = 64 // bad flags or arguments (sysexits EX_USAGE)
	exitBadInput  = 65 // an input file is not what it should be (EX_DATAERR)
	exitNoInput   = 66 // an input file cannot be opened (EX_NOINPUT)
)

const exitCodesHelp = `Exit codes: 0 ok, 1 a check failed (or a diff was found), 2 need more
samples (split decide), 3 no route (xds trace), 4 undecided (xds trace), 64
usage, 65 bad input, 66 cannot read input.`

// streams is where a command reads and writes; tests pass buffers.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// exitError ends a command with an exit code other than 0. err, when set,
// is printed to stderr after the command's path; it is nil when the
// command's output already says why (a failed check, no route).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode returns nil for exitOK and a silent exitError otherwise.
func exitCode(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

// exitWith ends the command with code and prints err.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// usageErr is a usage problem (exit 64); the help hint is added when printed.
func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// run executes meshcheck with args and returns the exit code.
func run(ctx context.Context, args []string, s streams) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return report(s, cmd, err)
}

// report prints err (when it has a message) and returns its exit code.
// Errors that are not an exitError are cobra's own (unknown command or
// flag, a bad flag value, wrong arguments): usage errors.
func report(s streams, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		ee = &exitError{code: exitUsage, err: err}
	}
	path := "meshcheck"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	if ee.err != nil {
		fmt.Fprintf(s.Err, "%s: %v\n", path, ee.err)
		if ee.code == exitUsage {
			fmt.Fprintf(s.Err, "Run '%s -h' for help.\n", path)
		}
	}
	return ee.code
}

// newRootCmd is the whole command tree; help goes to s.Out, usage after an
// error and every error to s.Err.
func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "meshcheck",
		Short: "meshcheck proves a service mesh routes traffic the way its configuration says",
		Long: `meshcheck proves a service mesh routes traffic the way its configuration says.
Flags may come before or after arguments; every command that prints a result
takes -o text|json.

` + exitCodesHelp,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          groupRunE,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetVersionTemplate("meshcheck {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitWith(exitUsage, err) })
	root.AddCommand(
		newXDSCmd(s),
		newIptablesCmd(s),
		newLogsCmd(s),
		newSplitCmd(s),
		newWorkloadCmd(s),
		newKindCmd(s),
		newGateCmd(s),
		newRunCmd(s),
		newCleanupCmd(s),
		newReportCmd(s),
		newMutateCmd(s),
		newVersionCmd(s),
	)
	// cobra adds "completion" and "help" when it runs; added now, they can
	// be made to refuse an unknown shell or topic (exit 64) like every
	// other command.
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "completion":
			c.Args, c.RunE = nil, groupRunE
		case "help":
			c.Run, c.RunE = nil, helpRunE(c.Run)
		}
	}
	return root
}

// helpRunE wraps cobra's help command: a topic that is not a command is a
// usage error instead of the root's usage with exit 0.
func helpRunE(help func(*cobra.Command, []string)) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if _, rest, err := c.Root().Find(args); err != nil || len(rest) > 0 {
			return usageErr("unknown help topic %q", strings.Join(args, " "))
		}
		help(c, args)
		return nil
	}
}

// newGroupCmd is a command that only holds subcommands.
func newGroupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, RunE: groupRunE}
	c.AddCommand(subs...)
	return c
}

// groupRunE runs a command that holds subcommands when none was named:
// without arguments it prints the usage (exit 64), with one it names the
// unknown subcommand and the closest ones.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
		return exitCode(exitUsage)
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only for the root
	}
	if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(sug, " or "))
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return usageErr("%s; have %s", msg, strings.Join(names, ", "))
}

// noArgs rejects positional arguments with the command's own message.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected arguments %q", args)
	}
	return nil
}

// argsAfterDash takes positional arguments only after --: they are passed
// on verbatim (another program's command line).
func argsAfterDash(c *cobra.Command, args []string) error {
	if n := c.ArgsLenAtDash(); n != 0 && len(args) > 0 {
		if n < 0 {
			n = len(args)
		}
		return usageErr("unexpected arguments %q (another program's command line goes after --)", args[:n])
	}
	return nil
}

// readInput reads a named file, or standard input for "-".
func readInput(s streams, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(s.In)
	}
	return os.ReadFile(name)
}

// inputLabel is how messages name an input: <stdin> for "-".
func inputLabel(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// parseKV splits "k=v" pairs; the error names the bad pair.
func parseKV(pairs []string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// writeJSON writes v as indented JSON (a nil list as []).
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return exitWith(exitFail, fmt.Errorf("encoding JSON: %w", err))
	}
	if string(b) == "null" {
		b = []byte("[]")
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// outputFormat is the value of -o: text or json, checked when set.
type outputFormat string

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "text|json" }

func (o *outputFormat) Set(v string) error {
	if v != "text" && v != "json" {
		return fmt.Errorf("want text or json")
	}
	*o = outputFormat(v)
	return nil
}

func (o outputFormat) json() bool { return o == "json" }

// addOutputFlag registers -o/--output, the output format of every command
// that prints a result.
func addOutputFlag(c *cobra.Command, o *outputFormat) {
	*o = "text"
	c.Flags().VarP(o, "output", "o", "output format: text or json")
	completeFlag(c, "output", "text", "json")
}

// completeFlag registers the fixed values a flag completes to.
func completeFlag(c *cobra.Command, flag string, values ...string) {
	if err := c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)); err != nil {
		panic(fmt.Sprintf("meshcheck: completion for --%s: %v", flag, err)) // a programming error, caught by every test
	}
}
