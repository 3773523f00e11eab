package apprun

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes of Run and Fetch; the same as meshcheck's.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 64 // bad flags or arguments (sysexits EX_USAGE)
)

// newFlagSet returns a flag set named prog whose -h output is the summary,
// the flags and usage (a format with %[1]s for prog).
func newFlagSet(prog, summary, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s: %s\n\nFlags:\n", prog, summary)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n", strings.TrimSpace(fmt.Sprintf(usage, prog)))
	}
	return fs
}

// parseFlags parses args; ok is false when the caller must return code
// (ExitOK after -h, ExitUsage after a bad flag, which flag has printed).
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	return 0, true
}

// parseInterleaved parses flags that may come before and after the
// positional arguments ("fetch URL --header K=V").
func parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError prints a usage problem naming the command and returns ExitUsage.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s -h' for help.\n", fs.Name(), fmt.Sprintf(format, a...), fs.Name())
	return ExitUsage
}

// multiFlag collects a repeatable flag such as --header K=V.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
