package main

import (
	"context"

	"github.com/meshcheck/meshcheck/harness/workload"
)

// The workload group is meshcheck's own plumbing, not a user command: the
// embedded backend starts the sample apps with "workload run" inside each
// pod's network namespace and sends in-mesh requests with "workload
// fetch". The code is package workload's, shared with cmd/meshcheck-app
// (the binary in the fixture images).
func workloadGroup() group {
	return group{name: "workload", summary: "(internal) run a sample app, or fetch a URL from inside a pod", commands: []command{
		{name: "run", summary: workload.RunSummary, run: func(ctx context.Context, s streams, args []string) int {
			return workload.Run(ctx, "meshcheck workload run", args, s.Out, s.Err)
		}},
		{name: "fetch", summary: workload.FetchSummary, run: func(ctx context.Context, s streams, args []string) int {
			return workload.Fetch(ctx, "meshcheck workload fetch", args, s.Out, s.Err)
		}},
	}}
}
