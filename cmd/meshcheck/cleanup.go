package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/backends/kube"
)

// cleanupOptions are the flags of meshcheck cleanup.
type cleanupOptions struct {
	kubeconfig, context, run string
	allRuns, dryRun          bool
	timeout                  time.Duration
	output                   outputFormat
}

// cleanupResult is meshcheck cleanup's JSON output.
type cleanupResult struct {
	Run        string   `json:"run,omitempty"`
	AllRuns    bool     `json:"allRuns,omitempty"`
	DryRun     bool     `json:"dryRun,omitempty"`
	Namespaces []string `json:"namespaces"`
}

func newCleanupCmd(s streams) *cobra.Command {
	o := &cleanupOptions{}
	c := &cobra.Command{
		Use:   "cleanup --kubeconfig F [--context C] --run ID | --all-runs [--dry-run]",
		Short: "delete what a kube run created (its namespaces, labelled meshcheck.dev/run=ID), e.g. after a crash",
		Long: `Deletes the namespaces a run of the kube backend created: those labelled
meshcheck.dev/run=<ID> and named <namespace>-<ID> (default, kube-*, and
istio-system never), and waits until they are gone. A run deletes its own
at the end, after a pass, a failure or Ctrl-C; this finds what a crashed
run left. --dry-run lists them and deletes nothing.

Exit codes: 0 done, 1 an API error (the message names it), 64 usage.`,
		Example: `  meshcheck cleanup --kubeconfig kubeconfig --run 4f2a9c1e --dry-run
  meshcheck cleanup --kubeconfig kubeconfig --all-runs`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCleanup(cmd.Context(), s, o) },
	}
	f := c.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "the cluster's kubeconfig (required)")
	f.StringVar(&o.context, "context", "", "the kubeconfig context (default its current one)")
	f.StringVar(&o.run, "run", "", "the run ID (its namespaces carry meshcheck.dev/run=ID)")
	f.BoolVar(&o.allRuns, "all-runs", false, "every run's namespaces")
	f.BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted, delete nothing")
	f.DurationVar(&o.timeout, "timeout", 3*time.Minute, "how long to wait for the namespaces to go")
	addOutputFlag(c, &o.output)
	return c
}

func runCleanup(ctx context.Context, s streams, o *cleanupOptions) error {
	if o.kubeconfig == "" {
		return usageErr("no --kubeconfig given")
	}
	if (o.run == "") == !o.allRuns {
		return usageErr("name one run (--run ID) or --all-runs")
	}
	if o.run != "" {
		if err := kube.ValidRunID(o.run); err != nil {
			return usageErr("--run: %v", err)
		}
	}
	cs, err := kube.Clientset(o.kubeconfig, o.context)
	if err != nil {
		return exitWith(exitFail, err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout+30*time.Second)
	defer cancel()
	log := s.Out
	if o.output.json() {
		log = s.Err
	}
	names, err := kube.Cleanup(ctx, cs, kube.CleanupOptions{RunID: o.run, AllRuns: o.allRuns, DryRun: o.dryRun, Wait: true, Timeout: o.timeout, Log: log})
	if err != nil {
		return exitWith(exitFail, err)
	}
	if o.output.json() {
		if names == nil {
			names = []string{}
		}
		return writeJSON(s.Out, cleanupResult{Run: o.run, AllRuns: o.allRuns, DryRun: o.dryRun, Namespaces: names})
	}
	_, err = fmt.Fprintf(s.Out, "%d namespace(s)\n", len(names))
	return err
}
