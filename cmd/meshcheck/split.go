package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/meshcheck/meshcheck/harness/split"
)

// exitNeedMore is split decide's answer when the evidence does not suffice.
const exitNeedMore = 2

func splitGroup() group {
	return group{name: "split", summary: "decide weighted traffic splits with a sequential statistical test", commands: []command{
		{name: "decide", summary: "pass, fail or need-more for observed counts against weights", usage: splitDecideUsage, run: runSplitDecide},
	}}
}

const splitDecideUsage = `
The test is Wald's sequential probability ratio test per version and side:
it fails a correct split with probability at most --false-fail, and catches a
version off by --detect points or more with probability at least --power,
however often the counts are checked. Keep sampling while the answer is
need-more. Traffic to a version with weight 0 or not in --weights fails.

Examples:
  meshcheck split decide --weights v1=90,v2=10 --counts v1=270,v2=30
  meshcheck split decide --weights v1=50,v2=30,v3=20 --counts v1=300,v2=300,v3=200 -o json
Exit codes: 0 pass, 1 fail, 2 need more samples, 64 usage.
`

func runSplitDecide(ctx context.Context, s streams, args []string) int {
	c := splitGroup().commands[0]
	fs := newFlagSet("split", c, s)
	weights := fs.String("weights", "", "expected weights, e.g. v1=90,v2=10 (normalized)")
	counts := fs.String("counts", "", "observed requests per version, e.g. v1=270,v2=30")
	falseFail := fs.Float64("false-fail", 1e-6, "bound on the probability of failing a correct split")
	detect := fs.Float64("detect", 10, "smallest deviation of any version's share to catch, in percentage points")
	power := fs.Float64("power", 0.999, "probability of catching a deviation of --detect or more")
	maxSamples := fs.Int("max-samples", 0, "hard cap on samples (0: automatic, see -o json max_samples)")
	out := outputFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if *weights == "" || *counts == "" {
		return usageError(s, fs, "--weights and --counts are required")
	}
	if !(*detect > 0 && *detect < 100) {
		return usageError(s, fs, "--detect %g: want percentage points in (0, 100)", *detect)
	}
	ws, err := split.ParseWeights(*weights)
	if err != nil {
		return usageError(s, fs, "--weights: %v", err)
	}
	cs := map[string]int{}
	kv, err := parseKV(splitList(*counts))
	if err != nil {
		return usageError(s, fs, "--counts: %v", err)
	}
	for k, v := range kv {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return usageError(s, fs, "--counts: %s=%q is not a non-negative integer", k, v)
		}
		cs[k] = n
	}
	t, err := split.New(ws, split.Options{FalseFail: *falseFail, Detect: *detect / 100, Power: *power, MaxSamples: *maxSamples})
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	r, err := t.Decide(cs)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	if *out == "json" {
		if code := writeJSON(s, r); code != exitOK {
			return code
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
		return exitOK
	case split.Fail:
		return exitFail
	}
	return exitNeedMore
}

// splitList splits "a=1,b=2" into pairs.
func splitList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
