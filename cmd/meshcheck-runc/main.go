package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/meshcheck/meshcheck/build/runcwrap"
)

// dropEnv names the variable listing the capabilities to remove (comma-separated).
const dropEnv = "MESHCHECK_RUNC_DROP"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "meshcheck-runc: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	inv, err := runcwrap.ParseRuncArgs(args, cwd)
	if err != nil {
		return err
	}
	if inv.Spec != "" {
		if _, err := runcwrap.StripFile(inv.Spec, inv.Kind, drops(os.Getenv(dropEnv))); err != nil {
			return fmt.Errorf("runc %s: %w", inv.Command, err)
		}
	}
	self, _ := os.Executable()
	real, err := runcwrap.FindRunc(os.Getenv, self)
	if err != nil {
		return err
	}
	return syscall.Exec(real, append([]string{real}, args...), os.Environ())
}

// drops parses $MESHCHECK_RUNC_DROP; empty means CAP_SYS_RESOURCE.
func drops(env string) []string {
	var out []string
	for _, c := range strings.Split(env, ",") {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			if !strings.HasPrefix(c, "CAP_") {
				c = "CAP_" + c
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return []string{runcwrap.CapSysResourceName}
	}
	return out
}
