package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/apps/apprun"
)

// The workload group is meshcheck's own plumbing, not a user command: the
// embedded backend starts the sample apps with "workload run" inside each
// pod's network namespace and sends in-mesh requests with "workload
// fetch". The code, its flags and its -h are package workload's, shared
// with cmd/meshcheck-app (the binary in the fixture images), so cobra hands
// it the arguments unparsed.
func newWorkloadCmd(s streams) *cobra.Command {
	return newGroupCmd("workload", "(internal) run a sample app, or fetch a URL from inside a pod",
		newWorkloadLeaf(s, "run", apprun.RunSummary, apprun.Run),
		newWorkloadLeaf(s, "fetch", apprun.FetchSummary, apprun.Fetch),
	)
}

// workloadFunc is the signature of apprun.Run and apprun.Fetch.
type workloadFunc func(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int

func newWorkloadLeaf(s streams, name, short string, fn workloadFunc) *cobra.Command {
	return &cobra.Command{
		Use:                name + " [flags]",
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitCode(fn(cmd.Context(), cmd.CommandPath(), args, s.Out, s.Err))
		},
	}
}
