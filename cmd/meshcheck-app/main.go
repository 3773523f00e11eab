package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/meshcheck/meshcheck/apps/apprun"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, `meshcheck-app serves one of meshcheck's sample apps, or sends one request.

Usage:
  meshcheck-app run [flags]        %s
  meshcheck-app fetch URL [flags]  %s
  meshcheck-app version

Run 'meshcheck-app run -h' or 'meshcheck-app fetch -h' for the flags.
Exit codes: 0 ok, 1 failed, 64 usage.
`, apprun.RunSummary, apprun.FetchSummary)
		if len(args) == 0 {
			return apprun.ExitUsage
		}
		return apprun.ExitOK
	}
	switch args[0] {
	case "run":
		return apprun.Run(ctx, "meshcheck-app run", args[1:], stdout, stderr)
	case "fetch":
		return apprun.Fetch(ctx, "meshcheck-app fetch", args[1:], stdout, stderr)
	case "version":
		v := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		fmt.Fprintln(stdout, "meshcheck-app", v)
		return apprun.ExitOK
	}
	fmt.Fprintf(stderr, "meshcheck-app: unknown command %q: want run, fetch or version ('meshcheck-app -h')\n", args[0])
	return apprun.ExitUsage
}
