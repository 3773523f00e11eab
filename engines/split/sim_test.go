package split

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// pick draws an index from probabilities p.
func pick(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	for i, q := range p {
		if u < q {
			return i
		}
		u -= q
	}
	return len(p) - 1
}

type simResult struct {
	runs, pass, fail, capped int
	samples                  int // total
}

func (r simResult) meanN() float64 { return float64(r.samples) / float64(r.runs) }

// simulate runs the sequential test runs times with traffic drawn from the
// true shares (in the order of t.Versions()).
func simulate(t *Test, true_ []float64, runs int, seed uint64) simResult {
	rng := rand.New(rand.NewPCG(seed, 0x6d657368))
	res := simResult{runs: runs}
	for r := 0; r < runs; r++ {
		st := t.Start()
		for {
			d, k := st.Decision()
			if d == Pass {
				res.pass++
				break
			}
			if d == Fail {
				res.fail++
				if k < 0 && st.n >= t.opts.MaxSamples {
					res.capped++
				}
				break
			}
			st.AddIndex(pick(rng, true_))
		}
		res.samples += st.n
	}
	return res
}

func simRuns() int {
	if testing.Short() {
		return 2000
	}
	return 10000
}

// upperBound is the largest count of events out of n, at rate p, that is
// not significant at 1e-3 (one-sided binomial): observing more refutes the
// rate.
func upperBound(n int, p float64) int {
	tail := 0.0
	for k := n; k >= 0; k-- {
		tail += binomPMF(n, k, p)
		if tail > 1e-3 {
			return k
		}
	}
	return 0
}

func binomPMF(n, k int, p float64) float64 {
	if p == 0 {
		if k == 0 {
			return 1
		}
		return 0
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
}

// TestSimulatedErrorRates proves the stated error rates by simulation:
// at least 10,000 seeded runs per case (2,000 with -short).
func TestSimulatedErrorRates(t *testing.T) {
	runs := simRuns()
	cases := []struct {
		weights string
		opts    Options
		true_   []float64 // in sorted version order
		correct bool      // the split matches the weights
	}{
		{"v1=90,v2=10", Options{}, []float64{0.9, 0.1}, true},
		{"v1=90,v2=10", Options{}, []float64{0.8, 0.2}, false},
		{"v1=90,v2=10", Options{}, []float64{0.5, 0.5}, false},
		{"v1=90,v2=10", Options{}, []float64{1, 0}, false},
		{"v1=90,v2=10", Options{}, []float64{0.95, 0.05}, false}, // off by 5: reported, not required
		{"v1=50,v2=30,v3=20", Options{}, []float64{0.5, 0.3, 0.2}, true},
		{"v1=50,v2=30,v3=20", Options{}, []float64{0.6, 0.2, 0.2}, false},
		{"v1=50,v2=30,v3=20", Options{}, []float64{0.4, 0.3, 0.3}, false},
		{"v1=50,v2=30,v3=20", Options{}, []float64{0.5, 0.4, 0.1}, false},
		{"v1=34,v2=33,v3=33", Options{}, []float64{0.34, 0.33, 0.33}, true},
		{"v1=34,v2=33,v3=33", Options{}, []float64{0.44, 0.23, 0.33}, false},
		// Loose options, so the false-fail rate is measurable and can be
		// compared with its bound rather than with zero.
		{"v1=90,v2=10", Options{FalseFail: 0.05, Power: 0.95}, []float64{0.9, 0.1}, true},
		{"v1=90,v2=10", Options{FalseFail: 0.05, Power: 0.95}, []float64{0.8, 0.2}, false},
		{"v1=50,v2=30,v3=20", Options{FalseFail: 0.05, Power: 0.95}, []float64{0.5, 0.3, 0.2}, true},
		{"v1=50,v2=30,v3=20", Options{FalseFail: 0.05, Power: 0.95}, []float64{0.4, 0.4, 0.2}, false},
	}
	for i, c := range cases {
		tt := mustNew(t, c.weights, c.opts)
		o := tt.Options()
		res := simulate(tt, c.true_, runs, uint64(i+1))
		shift := deviation(tt.weights, c.true_)
		t.Logf("%-18s true %-16v false-fail<=%-7g power>=%-6g: pass %5d fail %5d (capped %d) mean samples %.0f",
			c.weights, c.true_, o.FalseFail, o.Power, res.pass, res.fail, res.capped, res.meanN())
		switch {
		case c.correct:
			if lim := upperBound(runs, o.FalseFail); res.fail > lim {
				t.Errorf("%s at its weights: %d false fails in %d runs, more than the %d the bound %g allows",
					c.weights, res.fail, runs, lim, o.FalseFail)
			}
		case shift >= o.Detect-1e-9:
			if lim := upperBound(runs, 1-o.Power); res.pass > lim {
				t.Errorf("%s with true %v (off by %.2f): passed %d of %d runs, more than the %d that power %g allows",
					c.weights, c.true_, shift, res.pass, runs, lim, o.Power)
			}
		}
	}
}

func deviation(w, p []float64) float64 {
	d := 0.0
	for i := range w {
		d = math.Max(d, math.Abs(w[i]-p[i]))
	}
	return d
}

// exactTwoWay computes, for a two-version test, the exact probabilities of
// fail and pass and the expected sample size when the second version's true
// share is p, by dynamic programming over (samples, count) up to the cap.
func exactTwoWay(t *Test, p float64) (fail, pass, meanN float64) {
	capN := t.opts.MaxSamples
	cur := []float64{1} // cur[k]: probability of k requests to version 2 after n, undecided
	for n := 0; ; n++ {
		next := make([]float64, n+2)
		for k, pr := range cur {
			if pr == 0 {
				continue
			}
			r, _ := t.Decide(map[string]int{t.versions[0]: n - k, t.versions[1]: k})
			switch r.Decision {
			case Fail:
				fail += pr
				meanN += pr * float64(n)
				continue
			case Pass:
				pass += pr
				meanN += pr * float64(n)
				continue
			}
			next[k] += pr * (1 - p)
			next[k+1] += pr * p
		}
		if n >= capN {
			return
		}
		cur = next
		alive := 0.0
		for _, q := range cur {
			alive += q
		}
		if alive < 1e-15 {
			return
		}
	}
}

// conformance is the Gateway API conformance rule for two versions: 500
// requests, pass when every share is within 5 points of its weight. It
// returns the exact probability of failing when version 2's share is p.
func conformance(w2, p float64) float64 {
	const n = 500
	pass := 0.0
	for k := 0; k <= n; k++ {
		if math.Abs(float64(k)/n-w2) <= 0.05+1e-12 {
			pass += binomPMF(n, k, p)
		}
	}
	return 1 - pass
}

// TestCompareWithConformanceRule measures meshcheck's defaults against
// the Gateway API conformance rule for a 90/10 split and prints the table
// in docs/traffic.md. Required: on average at most half the requests at a
// correct 90/10, a false-fail rate at most 1/100 of the rule's, and 80/20
// caught at least as often.
func TestCompareWithConformanceRule(t *testing.T) {
	tt := mustNew(t, "v1=90,v2=10", Options{})
	runs := simRuns()
	type row struct {
		name  string
		p     float64
		ruleF float64
		exF   float64
		exN   float64
		sim   simResult
	}
	var rows []row
	for i, p := range []float64{0.10, 0.15, 0.20, 0.50, 0.0} {
		f, _, n := exactTwoWay(tt, p)
		rows = append(rows, row{fmt.Sprintf("%g/%g", 100-100*p, 100*p), p, conformance(0.1, p), f, n,
			simulate(tt, []float64{1 - p, p}, runs, uint64(100+i))})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| true split | conformance: P(fail), 500 requests | meshcheck: P(fail) exact | meshcheck: mean requests exact | meshcheck simulated (%d runs): fails, mean requests |\n|---|---|---|---|---|\n", runs)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.6g | %.6g | %.1f | %d, %.1f |\n", r.name, r.ruleF, r.exF, r.exN, r.sim.fail, r.sim.meanN())
	}
	t.Log(b.String())
	nominal, shift20 := rows[0], rows[2]
	if nominal.exN > 250 || nominal.sim.meanN() > 250 {
		t.Errorf("90/10: mean requests exact %.1f, simulated %.1f; want at most 250 (half the rule's 500)", nominal.exN, nominal.sim.meanN())
	}
	if nominal.exF > nominal.ruleF/100 {
		t.Errorf("90/10: false-fail %.3g, want at most 1/100 of the rule's %.3g", nominal.exF, nominal.ruleF)
	}
	if nominal.exF > tt.opts.FalseFail {
		t.Errorf("90/10: exact false-fail %.3g above the stated bound %g", nominal.exF, tt.opts.FalseFail)
	}
	if shift20.exF < shift20.ruleF || shift20.exF < tt.opts.Power {
		t.Errorf("80/20: caught with probability %.6f, want at least the rule's %.6f and the power %g", shift20.exF, shift20.ruleF, tt.opts.Power)
	}
	if r := rows[1].ruleF; math.Abs(r-0.5) > 0.05 {
		t.Errorf("the rule should miss about half of 85/15 shifts, computed P(fail) %.3f", r)
	}
	if r := nominal.ruleF; r < 1e-4 || r > 3e-4 {
		t.Errorf("the rule's false-fail at 90/10 should be about 2e-4, computed %.3g", r)
	}
}

// The comparison must be able to fail: a fixed 500-request test with a
// tolerance, posing as a sequential one, needs too many requests.
func TestComparisonCanFail(t *testing.T) {
	tt := mustNew(t, "v1=90,v2=10", Options{FalseFail: 1e-12, Power: 0.999999})
	_, _, n := exactTwoWay(tt, 0.1)
	if n <= 250 {
		t.Errorf("with false-fail 1e-12 and power 0.999999, mean requests %.1f: the 250 limit would not catch a slow test", n)
	}
}

func BenchmarkDecideStep(b *testing.B) {
	tt := mustNew(b, "v1=50,v2=30,v3=20", Options{})
	st := tt.Start()
	for i := 0; i < b.N; i++ {
		st.AddIndex(i % 3)
		st.Decision()
	}
}
