package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand. Commands that decide something use
// 0 (pass) and 1 (fail); a few add their own (documented in their help).
const (
	exitOK       = 0
	exitFail     = 1  // a check failed, a diff was found, a lint error was reported
	exitNoRoute  = 3  // xds trace: Envoy would find no listener or no route
	exitUsage    = 64 // bad flags or arguments (sysexits EX_USAGE)
	exitBadInput = 65 // an input file is not what it should be (EX_DATAERR)
	exitNoInput  = 66 // an input file cannot be opened (EX_NOINPUT)
)

// streams is where a command reads and writes; tests pass buffers.
type streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// command is one leaf of the command tree, such as "xds trace".
type command struct {
	name    string
	summary string
	// usage is printed by -h after the flag list: arguments and examples.
	usage string
	run   func(ctx context.Context, s streams, args []string) int
}

// group is a first-level command, such as "xds", holding leaves.
type group struct {
	name     string
	summary  string
	commands []command
}

// groups is the whole command tree. Each engine adds its group here.
func groups() []group {
	return []group{
		xdsGroup(),
		iptablesGroup(),
		logsGroup(),
		splitGroup(),
		workloadGroup(),
		kindGroup(),
	}
}

func run(ctx context.Context, args []string, s streams) int {
	gs := groups()
	if len(args) == 0 || isHelp(args[0]) {
		printTopUsage(s.Err, gs)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" {
		fmt.Fprintln(s.Out, "meshcheck", version())
		return exitOK
	}
	for _, g := range gs {
		if g.name != args[0] {
			continue
		}
		if len(args) == 1 || isHelp(args[1]) {
			printGroupUsage(s.Err, g)
			if len(args) == 1 {
				return exitUsage
			}
			return exitOK
		}
		for _, c := range g.commands {
			if c.name == args[1] {
				return c.run(ctx, s, args[2:])
			}
		}
		fmt.Fprintf(s.Err, "meshcheck %s: unknown command %q\n\n", g.name, args[1])
		printGroupUsage(s.Err, g)
		return exitUsage
	}
	fmt.Fprintf(s.Err, "meshcheck: unknown command %q\n\n", args[0])
	printTopUsage(s.Err, gs)
	return exitUsage
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "help" }

func printTopUsage(w io.Writer, gs []group) {
	fmt.Fprintln(w, "meshcheck proves a service mesh routes traffic the way its configuration says.")
	fmt.Fprintln(w, "\nUsage: meshcheck <command> <subcommand> [flags]\n\nCommands:")
	for _, g := range gs {
		fmt.Fprintf(w, "  %-10s %s\n", g.name, g.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "version", "print the version")
	fmt.Fprintln(w, "\nRun 'meshcheck <command> -h' for its subcommands.")
	fmt.Fprintf(w, "\nExit codes: %d ok, %d check failed, %d no route (xds trace), %d usage, %d bad input, %d cannot read input.\n",
		exitOK, exitFail, exitNoRoute, exitUsage, exitBadInput, exitNoInput)
}

func printGroupUsage(w io.Writer, g group) {
	fmt.Fprintf(w, "meshcheck %s: %s\n\nUsage: meshcheck %s <subcommand> [flags]\n\nSubcommands:\n", g.name, g.summary, g.name)
	for _, c := range g.commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// newFlagSet returns a flag set for "meshcheck <group> <cmd>" whose -h output
// ends with the command's usage text. Errors are printed by parseFlags.
func newFlagSet(g string, c command, s streams) *flag.FlagSet {
	fs := flag.NewFlagSet("meshcheck "+g+" "+c.name, flag.ContinueOnError)
	fs.SetOutput(s.Err)
	fs.Usage = func() {
		fmt.Fprintf(s.Err, "meshcheck %s %s: %s\n\nFlags:\n", g, c.name, c.summary)
		fs.PrintDefaults()
		if c.usage != "" {
			fmt.Fprintf(s.Err, "\n%s\n", strings.TrimSpace(c.usage))
		}
	}
	return fs
}

// parseFlags parses args; ok is false when the command must return code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// usageError prints a usage problem naming the command and returns exitUsage.
func usageError(s streams, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(s.Err, "%s: %s\nRun '%s -h' for help.\n", fs.Name(), fmt.Sprintf(format, a...), fs.Name())
	return exitUsage
}

// readInput reads a named file, or standard input for "-".
func readInput(s streams, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(s.In)
	}
	return os.ReadFile(name)
}

// multiFlag collects a repeatable flag such as --header K=V.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

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
func writeJSON(s streams, v any) int {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck: encoding JSON: %v\n", err)
		return exitFail
	}
	if string(b) == "null" {
		b = []byte("[]")
	}
	fmt.Fprintf(s.Out, "%s\n", b)
	return exitOK
}

// outputFlag registers -o, the output format every command takes.
func outputFlag(fs *flag.FlagSet) *string { return fs.String("o", "text", "output: text or json") }

// badOutput reports an -o value other than text or json as a usage error;
// bad is false for a valid one.
func badOutput(s streams, fs *flag.FlagSet, o string) (code int, bad bool) {
	if o == "text" || o == "json" {
		return 0, false
	}
	return usageError(s, fs, "-o %q: want text or json", o), true
}
