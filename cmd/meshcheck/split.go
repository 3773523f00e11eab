package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/engines/split"
)

func newSplitCmd(s streams) *cobra.Command {
	return newGroupCmd("split", "decide weighted traffic splits with a sequential statistical test",
		newSplitDecideCmd(s),
	)
}

// decideOptions are the flags of split decide.
type decideOptions struct {
	weights, counts          string
	falseFail, detect, power float64
	maxSamples               int
	output                   outputFormat
}

func newSplitDecideCmd(s streams) *cobra.Command {
	o := &decideOptions{}
	c := &cobra.Command{
		Use:   "decide --weights V=W,... --counts V=N,... [flags]",
		Short: "pass, fail or need-more for observed counts against weights",
		Long: `The test is Wald's sequential probability ratio test per version and side:
it fails a correct split with probability at most --false-fail, and catches a
version off by --detect points or more with probability at least --power,
however often the counts are checked. Keep sampling while the answer is
need-more. Traffic to a version with weight 0 or not in --weights fails.

Exit codes: 0 pass, 1 fail, 2 need more samples, 64 usage.`,
		Example: `  meshcheck split decide --weights v1=90,v2=10 --counts v1=270,v2=30
  meshcheck split decide --weights v1=50,v2=30,v3=20 --counts v1=400,v2=240,v3=160 -o json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(s) },
	}
	f := c.Flags()
	f.StringVar(&o.weights, "weights", "", "expected weights, e.g. v1=90,v2=10 (normalized)")
	f.StringVar(&o.counts, "counts", "", "observed requests per version, e.g. v1=270,v2=30")
	f.Float64Var(&o.falseFail, "false-fail", 1e-6, "bound on the probability of failing a correct split")
	f.Float64Var(&o.detect, "detect", 10, "smallest deviation of any version's share to catch, in percentage points")
	f.Float64Var(&o.power, "power", 0.999, "probability of catching a deviation of --detect or more")
	f.IntVar(&o.maxSamples, "max-samples", 0, "hard cap on samples (0: automatic, see -o json max_samples)")
	addOutputFlag(c, &o.output)
	return c
}

// test builds the sequential test and the observed counts from the flags.
func (o *decideOptions) test() (*split.Test, map[string]int, error) {
	if o.weights == "" || o.counts == "" {
		return nil, nil, usageErr("--weights and --counts are required")
	}
	if !(o.detect > 0 && o.detect < 100) {
		return nil, nil, usageErr("--detect %g: want percentage points in (0, 100)", o.detect)
	}
	ws, err := split.ParseWeights(o.weights)
	if err != nil {
		return nil, nil, usageErr("--weights: %w", err)
	}
	kv, err := parseKV(splitList(o.counts))
	if err != nil {
		return nil, nil, usageErr("--counts: %w", err)
	}
	cs := map[string]int{}
	for k, v := range kv {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, nil, usageErr("--counts: %s=%q is not a non-negative integer", k, v)
		}
		cs[k] = n
	}
	t, err := split.New(ws, split.Options{FalseFail: o.falseFail, Detect: o.detect / 100, Power: o.power, MaxSamples: o.maxSamples})
	if err != nil {
		return nil, nil, usageErr("%w", err)
	}
	return t, cs, nil
}

func (o *decideOptions) run(s streams) error {
	t, cs, err := o.test()
	if err != nil {
		return err
	}
	r, err := t.Decide(cs)
	if err != nil {
		return usageErr("%w", err)
	}
	if o.output.json() {
		if err := writeJSON(s.Out, r); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(s.Out, "%s\n%s\n", r.Decision, r.Reason)
		for _, v := range sortedKeys(r.Counts) {
			iv := r.Intervals[v]
			fmt.Fprintf(s.Out, "  %-8s %6d  share %6.2f%%  %g%% interval %6.2f%% to %6.2f%%  weight %6.2f%%\n",
				v, r.Counts[v], 100*r.Shares[v], 100*r.IntervalLevel, 100*iv.Low, 100*iv.High, 100*r.Weights[v])
		}
		fmt.Fprintf(s.Out, "test: %s\n", t)
	}
	switch r.Decision {
	case split.Pass:
		return nil
	case split.Fail:
		return exitCode(exitFail)
	}
	return exitCode(exitNeedMore)
}

// splitList splits "a=1,b=2" into pairs, dropping empty ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
