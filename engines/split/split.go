// Package split decides whether traffic observed across versions matches
// expected weights, with a sequential statistical test whose error rates
// are stated: the probability of failing a correct split (false-fail) and
// the probability of catching a split off by at least Detect on some
// version (power).
//
// The test is Wald's sequential probability ratio test, one per version and
// side: for version i with weight p0, the upper test weighs p0+Detect
// against p0 and the lower test p0-Detect against p0 (a side that would
// leave [0, 1] is dropped; with two versions only one version is tested,
// since the other mirrors it). After every sample, with n_i of N requests
// on version i, each test's log-likelihood ratio is
//
//	L = n_i*log(p1/p0) + (N-n_i)*log((1-p1)/(1-p0))
//
// The split fails as soon as any L >= log(m/FalseFail), with m the number
// of tests, and passes as soon as every L <= log(1-Power). Under the
// expected weights each likelihood ratio is a martingale of mean 1, so by
// Ville's inequality the chance that it ever reaches m/FalseFail is at most
// FalseFail/m, and the chance of a false fail over all m tests and all
// sample sizes is at most FalseFail, however long sampling goes and
// whenever it is looked at. Symmetrically, when version i is off by Detect
// (or more) in the direction of one test, the inverse ratio of that test is
// a (super)martingale, so the chance it ever falls to 1-Power, which a pass
// needs, is at most 1-Power. Decisions depend only on the counts, so the
// same rule serves a sampler (decide after each request) and a one-shot
// check of counts collected elsewhere.
//
// Requests to a version whose weight is 0, or to a version not in the
// weights, fail at once. A hard cap (MaxSamples) bounds sampling when the
// true split sits between "right" and "off by Detect", where either answer
// is acceptable but evidence accumulates slowly.
package split

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Options are the error rates the test guarantees. Zero fields take the
// defaults.
type Options struct {
	// FalseFail bounds the probability of failing a split that matches the
	// weights. Default 1e-6.
	FalseFail float64
	// Detect is the smallest deviation of any version's share, as a
	// fraction (0.10 = 10 percentage points), that must be caught. Default 0.10.
	Detect float64
	// Power is the probability of catching a deviation of Detect or more.
	// Default 0.999.
	Power float64
	// MaxSamples is the hard cap: with this many samples and no decision,
	// the split fails as undecided. Default: 20 times the expected sample
	// size under the weights of the slowest test, at least 1000.
	MaxSamples int
	// IntervalLevel is the confidence level of the reported share
	// intervals (Wilson score). Default 0.99.
	IntervalLevel float64
}

// Defaults returns o with zero fields set to the defaults.
func (o Options) Defaults() Options {
	if o.FalseFail == 0 {
		o.FalseFail = 1e-6
	}
	if o.Detect == 0 {
		o.Detect = 0.10
	}
	if o.Power == 0 {
		o.Power = 0.999
	}
	if o.IntervalLevel == 0 {
		o.IntervalLevel = 0.99
	}
	return o
}

func (o Options) validate() error {
	switch {
	case !(o.FalseFail > 0 && o.FalseFail < 0.5):
		return fmt.Errorf("false-fail probability %g: want a value in (0, 0.5)", o.FalseFail)
	case !(o.Detect > 0 && o.Detect < 1):
		return fmt.Errorf("detect %g: want a fraction in (0, 1), e.g. 0.1 for 10 points", o.Detect)
	case !(o.Power > 0.5 && o.Power < 1):
		return fmt.Errorf("power %g: want a value in (0.5, 1)", o.Power)
	case !(o.IntervalLevel > 0 && o.IntervalLevel < 1):
		return fmt.Errorf("interval level %g: want a value in (0, 1)", o.IntervalLevel)
	case o.MaxSamples < 0:
		return fmt.Errorf("max samples %d is negative", o.MaxSamples)
	}
	return nil
}

// Decision is the outcome of the test.
type Decision int

// The three outcomes.
const (
	NeedMore Decision = iota
	Pass
	Fail
)

func (d Decision) String() string {
	switch d {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	}
	return "need-more"
}

// MarshalJSON writes the decision as its name.
func (d Decision) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a decision's name back (a Result read from a report).
func (d *Decision) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("split decision: %w", err)
	}
	for _, c := range []Decision{NeedMore, Pass, Fail} {
		if c.String() == s {
			*d = c
			return nil
		}
	}
	return fmt.Errorf("split decision %q: want pass, fail or need-more", s)
}

// side is one sequential test: version v, expected p0, alternative p1.
type side struct {
	v      int
	p0, p1 float64
	hit    float64 // log(p1/p0): added per request to v (-Inf when p1 = 0)
	miss   float64 // log((1-p1)/(1-p0)): added per other request (-Inf when p1 = 1)
}

func (s side) String() string {
	dir := "more"
	if s.p1 < s.p0 {
		dir = "less"
	}
	return fmt.Sprintf("%s (share %s vs %s)", dir, pct(s.p1), pct(s.p0))
}

// Test is a compiled split test for fixed weights and options.
type Test struct {
	versions []string
	weights  []float64 // normalized
	index    map[string]int
	sides    []side
	opts     Options
	failAt   float64 // log(m/FalseFail)
	passAt   float64 // log(1-Power)
}

// ParseWeights reads "v1=90,v2=10" (any non-negative numbers, normalized
// later).
func ParseWeights(s string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("weight %q is not VERSION=WEIGHT", p)
		}
		w, err := strconv.ParseFloat(v, 64)
		if err != nil || w < 0 || math.IsInf(w, 0) {
			return nil, fmt.Errorf("weight %q: %q is not a non-negative number", p, v)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("version %q given twice", k)
		}
		out[k] = w
	}
	if len(out) == 0 {
		return nil, errors.New("no weights")
	}
	return out, nil
}

// New compiles the test for the weights (relative; they are normalized).
func New(weights map[string]float64, opts Options) (*Test, error) {
	opts = opts.Defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	total := 0.0
	for v, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("weight of %s is %g", v, w)
		}
		total += w
	}
	if total <= 0 {
		return nil, errors.New("weights sum to 0")
	}
	t := &Test{opts: opts, index: map[string]int{}}
	for _, v := range sortedKeys(weights) {
		t.index[v] = len(t.versions)
		t.versions = append(t.versions, v)
		t.weights = append(t.weights, weights[v]/total)
	}
	var live []int // versions with a weight
	for i, w := range t.weights {
		if w > 0 {
			live = append(live, i)
		}
	}
	tested := live
	if len(live) == 2 {
		tested = live[1:] // the other version mirrors it
	}
	for _, i := range tested {
		p0 := t.weights[i]
		for _, p1 := range []float64{p0 + opts.Detect, p0 - opts.Detect} {
			if p1 < -1e-12 || p1 > 1+1e-12 {
				continue
			}
			p1 = math.Min(1, math.Max(0, p1))
			t.sides = append(t.sides, side{v: i, p0: p0, p1: p1, hit: logRatio(p1, p0), miss: logRatio(1-p1, 1-p0)})
		}
	}
	m := float64(max(len(t.sides), 1))
	t.failAt = math.Log(m / opts.FalseFail)
	t.passAt = math.Log(1 - opts.Power)
	if t.opts.MaxSamples == 0 {
		t.opts.MaxSamples = t.autoCap()
	}
	return t, nil
}

func logRatio(a, b float64) float64 {
	switch {
	case b == 0:
		return 0 // p0 = 0 or 1: the event cannot happen under the weights
	case a == 0:
		return math.Inf(-1)
	}
	return math.Log(a / b)
}

// autoCap is 20 times the largest expected sample size under the weights
// (Wald's approximation log(1-Power)/-KL(p0||p1)), at least 1000.
func (t *Test) autoCap() int {
	worst := 0.0
	for _, s := range t.sides {
		drift := s.p0*s.hit + (1-s.p0)*s.miss // -KL(p0||p1), negative
		if s.p0 == 0 || s.p0 == 1 || math.IsInf(drift, 0) {
			drift = math.Min(s.hit, s.miss) // deterministic cases
			if math.IsInf(drift, 0) {
				continue
			}
			if s.p0 == 1 {
				drift = s.hit
			} else if s.p0 == 0 {
				drift = s.miss
			}
		}
		if drift < 0 {
			worst = math.Max(worst, t.passAt/drift)
		}
	}
	return max(1000, int(math.Ceil(20*worst)))
}

// Options returns the options in force (defaults filled, cap computed).
func (t *Test) Options() Options { return t.opts }

// Versions returns the versions in order, and Weights their normalized
// weights.
func (t *Test) Versions() []string { return append([]string(nil), t.versions...) }

// Weights returns the normalized weights by version.
func (t *Test) Weights() map[string]float64 {
	out := map[string]float64{}
	for i, v := range t.versions {
		out[v] = t.weights[i]
	}
	return out
}

// String describes the test in words.
func (t *Test) String() string {
	parts := make([]string, len(t.versions))
	for i, v := range t.versions {
		parts[i] = v + "=" + pct(t.weights[i])
	}
	return fmt.Sprintf("split %s: catch a deviation of %s on any version with power %g, false-fail at most %g (%d sequential tests, cap %d samples)",
		strings.Join(parts, ","), pct(t.opts.Detect), t.opts.Power, t.opts.FalseFail, len(t.sides), t.opts.MaxSamples)
}

// State is the running test: counts and the log-likelihood ratios, updated
// per sample in O(number of tests).
type State struct {
	t       *Test
	counts  []int
	unknown map[string]int
	n       int
	llr     []float64
}

// Start returns an empty state.
func (t *Test) Start() *State {
	return &State{t: t, counts: make([]int, len(t.versions)), llr: make([]float64, len(t.sides))}
}

// Add records one request served by version v.
func (s *State) Add(v string) {
	i, ok := s.t.index[v]
	if !ok {
		if s.unknown == nil {
			s.unknown = map[string]int{}
		}
		s.unknown[v]++
		return
	}
	s.AddIndex(i)
}

// AddIndex records one request served by the i-th version of Versions().
func (s *State) AddIndex(i int) {
	s.counts[i]++
	s.n++
	for k, sd := range s.t.sides {
		if sd.v == i {
			s.llr[k] += sd.hit
		} else {
			s.llr[k] += sd.miss
		}
	}
}

// Decision returns the current decision and, for pass/fail, the test that
// decided (-1 for unknown and weight-0 versions, the cap, or all tests).
func (s *State) Decision() (Decision, int) {
	if len(s.unknown) > 0 {
		return Fail, -1
	}
	for i, c := range s.counts {
		if c > 0 && s.t.weights[i] == 0 {
			return Fail, -1
		}
	}
	all := true
	for k, l := range s.llr {
		if l >= s.t.failAt {
			return Fail, k
		}
		if !(l <= s.t.passAt) {
			all = false
		}
	}
	if all && s.n > 0 {
		return Pass, -1
	}
	if s.n >= s.t.opts.MaxSamples {
		return Fail, -1
	}
	return NeedMore, -1
}

// Decide runs the test on counts by version (names not in the weights are
// unknown versions).
func (t *Test) Decide(counts map[string]int) (Result, error) {
	s := t.Start()
	for v, c := range counts {
		if c < 0 {
			return Result{}, fmt.Errorf("count of %s is negative (%d)", v, c)
		}
		i, ok := t.index[v]
		if !ok {
			if c > 0 {
				if s.unknown == nil {
					s.unknown = map[string]int{}
				}
				s.unknown[v] = c
			}
			continue
		}
		s.counts[i] = c
		s.n += c
	}
	for k, sd := range t.sides {
		s.llr[k] = mulLog(s.counts[sd.v], sd.hit) + mulLog(s.n-s.counts[sd.v], sd.miss)
	}
	return s.Result(), nil
}

// mulLog is n*l with 0*-Inf = 0.
func mulLog(n int, l float64) float64 {
	if n == 0 {
		return 0
	}
	return float64(n) * l
}

// Interval is a confidence interval for a share.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Result is a decision with its evidence.
type Result struct {
	Decision Decision `json:"decision"`
	Reason   string   `json:"reason"`
	// Samples is the number of requests counted (unknown versions included).
	Samples int `json:"samples"`
	// Counts, Shares and Intervals are per version, unknown ones included.
	Counts    map[string]int      `json:"counts"`
	Shares    map[string]float64  `json:"shares"`
	Intervals map[string]Interval `json:"intervals"`
	// IntervalLevel is the confidence level of Intervals.
	IntervalLevel float64            `json:"interval_level"`
	Weights       map[string]float64 `json:"weights"`
	FalseFail     float64            `json:"false_fail"`
	Detect        float64            `json:"detect"`
	Power         float64            `json:"power"`
	MaxSamples    int                `json:"max_samples"`
}

// Result reports the state: decision, reason, counts, shares, intervals.
func (s *State) Result() Result {
	t := s.t
	d, k := s.Decision()
	total := s.n
	for _, c := range s.unknown {
		total += c
	}
	r := Result{
		Decision: d, Samples: total,
		Counts: map[string]int{}, Shares: map[string]float64{}, Intervals: map[string]Interval{},
		IntervalLevel: t.opts.IntervalLevel, Weights: t.Weights(),
		FalseFail: t.opts.FalseFail, Detect: t.opts.Detect, Power: t.opts.Power, MaxSamples: t.opts.MaxSamples,
	}
	add := func(v string, c int) {
		r.Counts[v] = c
		if total > 0 {
			r.Shares[v] = float64(c) / float64(total)
			lo, hi := wilson(c, total, t.opts.IntervalLevel)
			r.Intervals[v] = Interval{lo, hi}
		}
	}
	for i, v := range t.versions {
		add(v, s.counts[i])
	}
	for v, c := range s.unknown {
		add(v, c)
	}
	r.Reason = s.reason(d, k, r)
	return r
}

func (s *State) reason(d Decision, k int, r Result) string {
	t := s.t
	if len(s.unknown) > 0 {
		var parts []string
		for _, v := range sortedKeys(s.unknown) {
			parts = append(parts, fmt.Sprintf("%s (%d)", v, s.unknown[v]))
		}
		return fmt.Sprintf("fail: requests reached versions not in the weights: %s", strings.Join(parts, ", "))
	}
	for i, c := range s.counts {
		if c > 0 && t.weights[i] == 0 {
			return fmt.Sprintf("fail: %d of %d requests reached %s, whose weight is 0", c, s.n, t.versions[i])
		}
	}
	share := func(v int) string {
		iv := r.Intervals[t.versions[v]]
		return fmt.Sprintf("%s got %d of %d (%s, %g%% interval %s to %s, weight %s)", t.versions[v], s.counts[v], s.n,
			pct(r.Shares[t.versions[v]]), t.opts.IntervalLevel*100, pct(iv.Low), pct(iv.High), pct(t.weights[v]))
	}
	switch {
	case d == Fail && k >= 0:
		sd := t.sides[k]
		return fmt.Sprintf("fail after %d samples: %s; the evidence for %s %s is %.3g times that for its weight, beyond %.3g (false-fail bound %g over %d tests)",
			s.n, share(sd.v), t.versions[sd.v], sd, math.Exp(s.llr[k]), math.Exp(t.failAt), t.opts.FalseFail, len(t.sides))
	case d == Fail:
		return fmt.Sprintf("fail: no decision within the cap of %d samples; the split is off, but by less than %s (%s)",
			t.opts.MaxSamples, pct(t.opts.Detect), s.closest())
	case d == Pass:
		return fmt.Sprintf("pass after %d samples: every version's share is closer to its weight than to a deviation of %s (likelihood ratio at most %.3g = 1-power on all %d tests; %s)",
			s.n, pct(t.opts.Detect), 1-t.opts.Power, len(t.sides), s.closest())
	}
	return fmt.Sprintf("need more samples after %d: %s", s.n, s.closest())
}

// closest describes the test nearest to deciding either way.
func (s *State) closest() string {
	t := s.t
	if len(t.sides) == 0 {
		return "no test"
	}
	worst := 0
	for k := range s.llr {
		if s.llr[k] > s.llr[worst] {
			worst = k
		}
	}
	sd := t.sides[worst]
	share := 0.0
	if s.n > 0 {
		share = float64(s.counts[sd.v]) / float64(s.n)
	}
	return fmt.Sprintf("least settled: %s %s, %s observed, likelihood ratio %.3g (pass at <= %.3g, fail at >= %.3g)",
		t.versions[sd.v], sd, pct(share), math.Exp(s.llr[worst]), math.Exp(t.passAt), math.Exp(t.failAt))
}

// wilson is the Wilson score interval for c successes of n at level.
func wilson(c, n int, level float64) (float64, float64) {
	z := math.Sqrt2 * math.Erfinv(level)
	p := float64(c) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

func pct(f float64) string {
	return strconv.FormatFloat(math.Round(f*10000)/100, 'f', -1, 64) + "%"
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Sampler takes samples until the test decides.
type Sampler struct {
	Test *Test
	// Sample sends one request and returns the version that served it.
	Sample func(ctx context.Context) (string, error)
	// MaxErrors is how many failed samples are tolerated (they are not
	// counted as versions); 0 means none.
	MaxErrors int
}

// Run samples until pass or fail (or the cap). It returns the result so
// far with the error when the context ends or sampling fails.
func (sm Sampler) Run(ctx context.Context) (Result, error) {
	st := sm.Test.Start()
	errs := 0
	for {
		if d, _ := st.Decision(); d != NeedMore {
			return st.Result(), nil
		}
		if err := ctx.Err(); err != nil {
			return st.Result(), fmt.Errorf("split sampling stopped after %d samples: %w (%s)", st.n, err, st.closest())
		}
		v, err := sm.Sample(ctx)
		if err != nil {
			errs++
			if errs > sm.MaxErrors {
				return st.Result(), fmt.Errorf("split sample %d failed (%d errors, %d tolerated): %w", st.n+1, errs, sm.MaxErrors, err)
			}
			continue
		}
		st.Add(v)
	}
}
