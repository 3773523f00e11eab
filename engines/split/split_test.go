package split

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func mustNew(t testing.TB, w string, o Options) *Test {
	t.Helper()
	ws, err := ParseWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := New(ws, o)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

func TestDecideTable(t *testing.T) {
	tests := []struct {
		weights string
		counts  map[string]int
		want    Decision
		reason  string
	}{
		{"v1=90,v2=10", map[string]int{"v1": 0, "v2": 0}, NeedMore, "need more samples after 0"},
		{"v1=90,v2=10", map[string]int{"v1": 9, "v2": 1}, NeedMore, "least settled: v2 more (share 20% vs 10%)"},
		{"v1=90,v2=10", map[string]int{"v1": 270, "v2": 30}, Pass, "pass after 300 samples"},
		{"v1=90,v2=10", map[string]int{"v1": 80, "v2": 20}, NeedMore, "least settled: v2 more (share 20% vs 10%), 20% observed, likelihood ratio 84.8"},
		{"v1=90,v2=10", map[string]int{"v1": 320, "v2": 80}, Fail, "fail after 400 samples: v2 got 80 of 400 (20%"},
		{"v1=90,v2=10", map[string]int{"v1": 150, "v2": 0}, Fail, "v2 less (share 0% vs 10%)"},
		{"v1=90,v2=10", map[string]int{"v1": 90, "v2": 10, "v3": 1}, Fail, "versions not in the weights: v3 (1)"},
		{"v1=100,v2=0", map[string]int{"v1": 50, "v2": 1}, Fail, "1 of 51 requests reached v2, whose weight is 0"},
		{"v1=100,v2=0", map[string]int{"v1": 66}, Pass, "pass after 66 samples"},
		{"v1=100,v2=0", map[string]int{"v1": 65}, NeedMore, "need more"},
		{"v1=50,v2=30,v3=20", map[string]int{"v1": 250, "v2": 150, "v3": 100}, Pass, "on all 6 tests"},
		{"v1=50,v2=30,v3=20", map[string]int{"v1": 300, "v2": 300, "v3": 200}, Fail, "v1 got 300 of 800"},
		// Between right and off by Detect: undecided until the cap.
		{"v1=90,v2=10", map[string]int{"v1": 850, "v2": 150}, NeedMore, "need more"},
		{"v1=90,v2=10", map[string]int{"v1": 3220, "v2": 546}, Fail, "no decision within the cap of 3766 samples"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.weights, tt.counts), func(t *testing.T) {
			r, err := mustNew(t, tt.weights, Options{}).Decide(tt.counts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Decision != tt.want || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("decision %s, reason %q; want %s and %q", r.Decision, r.Reason, tt.want, tt.reason)
			}
		})
	}
}

// The incremental state and Decide on the same counts agree at every step.
func TestIncrementalMatchesCounts(t *testing.T) {
	tt := mustNew(t, "a=50,b=30,c=20", Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	st := tt.Start()
	counts := map[string]int{}
	for i := 0; i < 2000; i++ {
		v := tt.versions[pick(rng, []float64{0.45, 0.35, 0.2})]
		st.Add(v)
		counts[v]++
		d1, _ := st.Decision()
		r, _ := tt.Decide(counts)
		if d1 != r.Decision {
			t.Fatalf("step %d: incremental %s, from counts %s", i, d1, r.Decision)
		}
		for k := range st.llr {
			sd := tt.sides[k]
			want := mulLog(st.counts[sd.v], sd.hit) + mulLog(st.n-st.counts[sd.v], sd.miss)
			if math.Abs(st.llr[k]-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("step %d test %d: llr %g, want %g", i, k, st.llr[k], want)
			}
		}
	}
}

func TestResultIntervals(t *testing.T) {
	r, _ := mustNew(t, "v1=90,v2=10", Options{}).Decide(map[string]int{"v1": 270, "v2": 30})
	iv := r.Intervals["v2"]
	// Wilson 99% for 30/300 (z = 2.5758): 6.37% to 15.36%, by hand.
	if r.Shares["v2"] != 0.1 || math.Abs(iv.Low-0.0637) > 0.0005 || math.Abs(iv.High-0.1536) > 0.0005 {
		t.Errorf("share %g interval %+v", r.Shares["v2"], iv)
	}
}

func TestOptionsAndWeightsErrors(t *testing.T) {
	for _, w := range []string{"v1", "v1=-1", "v1=x", "v1=1,v1=2", ""} {
		if _, err := ParseWeights(w); err == nil {
			t.Errorf("ParseWeights(%q) accepted", w)
		}
	}
	ws, _ := ParseWeights("v1=90,v2=10")
	for _, o := range []Options{{FalseFail: 0.7}, {Detect: 1.5}, {Power: 0.2}, {IntervalLevel: 2}, {MaxSamples: -1}} {
		if _, err := New(ws, o); err == nil {
			t.Errorf("New accepted %+v", o)
		}
	}
	if _, err := New(map[string]float64{"a": 0}, Options{}); err == nil {
		t.Error("New accepted all-zero weights")
	}
	if _, err := mustNew(t, "v1=1", Options{}).Decide(map[string]int{"v1": -1}); err == nil {
		t.Error("Decide accepted a negative count")
	}
}

func TestSampler(t *testing.T) {
	tt := mustNew(t, "v1=90,v2=10", Options{})
	rng := rand.New(rand.NewPCG(7, 7))
	n := 0
	r, err := Sampler{Test: tt, Sample: func(context.Context) (string, error) {
		n++
		if rng.Float64() < 0.5 {
			return "v2", nil
		}
		return "v1", nil
	}}.Run(context.Background())
	if err != nil || r.Decision != Fail || r.Samples != n || n > 100 {
		t.Errorf("50/50 against 90/10: %s after %d samples (%v): %s", r.Decision, n, err, r.Reason)
	}
	boom := errors.New("connection refused")
	_, err = Sampler{Test: tt, MaxErrors: 2, Sample: func(context.Context) (string, error) { return "", boom }}.Run(context.Background())
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "3 errors, 2 tolerated") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Sampler{Test: tt, Sample: func(context.Context) (string, error) { return "v1", nil }}.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestString(t *testing.T) {
	got := mustNew(t, "v1=90,v2=10", Options{}).String()
	want := "split v1=90%,v2=10%: catch a deviation of 10% on any version with power 0.999, false-fail at most 1e-06 (2 sequential tests, cap 3766 samples)"
	if got != want {
		t.Errorf("String() =\n %s\nwant\n %s", got, want)
	}
}

func TestDecisionJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Decision
		err  string
	}{
		{`"pass"`, Pass, ""},
		{`"fail"`, Fail, ""},
		{`"need-more"`, NeedMore, ""},
		{`"maybe"`, NeedMore, `split decision "maybe": want pass, fail or need-more`},
		{`2`, NeedMore, "split decision: json: cannot unmarshal number"},
	} {
		var d Decision
		err := json.Unmarshal([]byte(tc.in), &d)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || d != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.in, d, err, tc.want)
		}
		if b, _ := json.Marshal(d); string(b) != tc.in {
			t.Errorf("%s: marshals back to %s", tc.in, b)
		}
	}
}
