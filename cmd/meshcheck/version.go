package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version reports the module version meshcheck was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionInfo is the JSON output of meshcheck version.
type versionInfo struct {
	Version string `json:"version"`
	Go      string `json:"go"`
}

func newVersionCmd(s streams) *cobra.Command {
	var out outputFormat
	c := &cobra.Command{
		Use:     "version",
		Short:   "print the version",
		Example: "  meshcheck version\n  meshcheck version -o json",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			v := versionInfo{Version: version(), Go: runtime.Version()}
			if out.json() {
				return writeJSON(s.Out, v)
			}
			_, err := fmt.Fprintln(s.Out, "meshcheck", v.Version)
			return err
		},
	}
	addOutputFlag(c, &out)
	return c
}
