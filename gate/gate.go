package gate

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/review"
)

// Verdicts.
const (
	Pass      = "pass"
	Fail      = "fail"
	Undecided = "undecided"
)

// Outcomes of a check on one side.
const (
	Passed  = "pass"
	Failed  = "fail"
	Skipped = "skip"
	Missing = "missing"
)

// Side is what one control plane gave.
type Side struct {
	// Source is the Istio source (pilotbuild's form) and Istio the module
	// version the control plane reported.
	Source string `json:"source"`
	Istio  string `json:"istio,omitempty"`
	// Dumps are the config dumps, one per proxy and step.
	Dumps []Dump `json:"-"`
	// Checks are the outcomes of specs and expect.yaml checks by name.
	Checks []Check `json:"-"`
}

// Dump is a proxy's /config_dump?include_eds at a step.
type Dump struct {
	Proxy, Step string
	JSON        []byte
	// RenameIPs names the side's Service VIPs ("<vip reviews.default>"):
	// clusters that assign them at random (kind) compare by service.
	RenameIPs map[string]string
}

// Check is a spec or an expect.yaml check's outcome on one side.
type Check struct {
	Name     string
	Outcome  string // Passed, Failed or Skipped
	Evidence string
}

// Change is one xDS difference between the sides.
type Change struct {
	Proxy    string          `json:"proxy"`
	Step     string          `json:"step"`
	Type     string          `json:"type"`
	Name     string          `json:"name"`
	Path     string          `json:"path"`
	From     json.RawMessage `json:"from,omitempty"`
	To       json.RawMessage `json:"to,omitempty"`
	Accepted bool            `json:"accepted"`
	// Reason and Rule are the accepting rule's reason and where it is.
	Reason   string `json:"reason,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Category string `json:"category"`
	Words    string `json:"words"`
}

// Spec is a check's outcome on both sides.
type Spec struct {
	Name      string `json:"name"`
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	// Evidence is the candidate's failure evidence for a regression.
	Evidence string `json:"evidence,omitempty"`
}

// Regressed is true when the check held on the baseline and not on the
// candidate.
func (s Spec) Regressed() bool {
	return s.Baseline == Passed && (s.Candidate == Failed || s.Candidate == Missing)
}

// Result is the gate's answer.
type Result struct {
	Verdict   string   `json:"verdict"`
	Baseline  SideInfo `json:"baseline"`
	Candidate SideInfo `json:"candidate"`
	Changes   []Change `json:"changes"`
	Specs     []Spec   `json:"specs"`
	// Undecided names what the gate could not compare.
	Undecided []string `json:"undecided,omitempty"`
}

// SideInfo identifies a side in the result.
type SideInfo struct {
	Source string `json:"source"`
	Istio  string `json:"istio,omitempty"`
}

// Options tune the comparison.
type Options struct {
	// Accepted are the changes the candidate means to make.
	Accepted *review.Accepted
	// Normalize is how dumps are normalized before the diff; DynamicOnly
	// and RedactEndpointIPs are what a gate wants (the bootstrap names
	// per-run paths; the two meshes may assign other pod IPs).
	Normalize golden.Options
}

// DefaultOptions normalize what differs between two runs of one source.
func DefaultOptions() Options {
	return Options{Normalize: golden.Options{DynamicOnly: true, RedactEndpointIPs: true}}
}

// Compare judges a candidate against a baseline.
func Compare(base, cand Side, opts Options) Result {
	r := Result{Baseline: SideInfo{base.Source, base.Istio}, Candidate: SideInfo{cand.Source, cand.Istio}, Changes: []Change{}, Specs: []Spec{}}
	r.compareDumps(base.Dumps, cand.Dumps, opts)
	r.compareChecks(base.Checks, cand.Checks)
	r.Verdict = Pass
	for _, c := range r.Changes {
		if !c.Accepted {
			r.Verdict = Fail
		}
	}
	for _, s := range r.Specs {
		if s.Regressed() {
			r.Verdict = Fail
		}
		if s.Baseline == Passed && s.Candidate == UndecidedOutcome {
			r.Undecided = append(r.Undecided, s.Name+": passes on the baseline, undecided on the candidate: "+s.Evidence)
		}
	}
	if len(r.Undecided) > 0 && r.Verdict == Pass {
		r.Verdict = Undecided
	}
	return r
}

type dumpKey struct{ proxy, step string }

func index(ds []Dump) map[dumpKey]Dump {
	m := map[dumpKey]Dump{}
	for _, d := range ds {
		m[dumpKey{d.Proxy, d.Step}] = d
	}
	return m
}

func (r *Result) compareDumps(base, cand []Dump, opts Options) {
	bm, cm := index(base), index(cand)
	keys := map[dumpKey]bool{}
	for k := range bm {
		keys[k] = true
	}
	for k := range cm {
		keys[k] = true
	}
	sorted := make([]dumpKey, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].step != sorted[j].step {
			return sorted[i].step < sorted[j].step
		}
		return sorted[i].proxy < sorted[j].proxy
	})
	for _, k := range sorted {
		b, bok := bm[k]
		c, cok := cm[k]
		switch {
		case !bok || !cok:
			side, op := "candidate", "added"
			if !cok {
				side, op = "baseline", "removed"
			}
			r.Changes = append(r.Changes, r.accept(opts, Change{Proxy: k.proxy, Step: k.step, Type: "proxy", Category: string(review.OtherChanges),
				Words: fmt.Sprintf("proxy %s at step %s: %s (only the %s has it)", k.proxy, k.step, op, side)}))
		default:
			r.diff(k, b, c, opts)
		}
	}
}

func (r *Result) diff(k dumpKey, base, cand Dump, opts Options) {
	bd, err := normalize(base, k, "baseline", opts)
	if err != nil {
		r.Undecided = append(r.Undecided, err.Error())
		return
	}
	cd, err := normalize(cand, k, "candidate", opts)
	if err != nil {
		r.Undecided = append(r.Undecided, err.Error())
		return
	}
	for _, c := range golden.Diff(bd, cd) {
		r.Changes = append(r.Changes, r.accept(opts, Change{Proxy: k.proxy, Step: k.step, Type: c.Kind, Name: c.Name, Path: c.Field,
			From: c.Old, To: c.New, Category: string(review.Classify(c)), Words: review.Word(c)}))
	}
}

// accept marks a change an accepted-changes rule covers.
func (r *Result) accept(opts Options, c Change) Change {
	rule, at, ok := opts.Accepted.Match(c.Proxy, golden.Change{Kind: c.Type, Name: c.Name, Field: c.Path})
	if ok {
		c.Accepted, c.Reason, c.Rule = true, rule.Reason, at
	}
	return c
}

func normalize(dump Dump, k dumpKey, side string, opts Options) (golden.Doc, error) {
	if len(dump.RenameIPs) > 0 {
		opts.Normalize.RenameIPs = dump.RenameIPs
	}
	d, err := xds.Parse(dump.JSON, xds.Options{Source: fmt.Sprintf("%s %s at step %s", side, k.proxy, k.step)})
	if err != nil {
		return nil, fmt.Errorf("%s dump of %s at step %s: %w", side, k.proxy, k.step, err)
	}
	doc, err := golden.Normalize(d, opts.Normalize)
	if err != nil {
		return nil, fmt.Errorf("%s dump of %s at step %s: %w", side, k.proxy, k.step, err)
	}
	for name, sec := range doc["secrets"] {
		doc["secrets"][name] = redactCertificates(sec)
	}
	return doc, nil
}

// perRun stands for certificate bytes: each run's CA mints its own, so the
// gate compares which secrets a proxy has and how they validate, not the
// bytes.
const perRun = "<certificate minted per run>"

// redactCertificates replaces every inline_bytes value of a secret.
func redactCertificates(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "inline_bytes" {
				t[k] = perRun
				continue
			}
			t[k] = redactCertificates(e)
		}
	case []any:
		for i, e := range t {
			t[i] = redactCertificates(e)
		}
	}
	return v
}

func (r *Result) compareChecks(base, cand []Check) {
	by := map[string]*Spec{}
	var names []string
	add := func(c Check, baseline bool) {
		s, ok := by[c.Name]
		if !ok {
			s = &Spec{Name: c.Name, Baseline: Missing, Candidate: Missing}
			by[c.Name] = s
			names = append(names, c.Name)
		}
		if baseline {
			s.Baseline = c.Outcome
		} else {
			s.Candidate, s.Evidence = c.Outcome, c.Evidence
		}
	}
	for _, c := range base {
		add(c, true)
	}
	for _, c := range cand {
		add(c, false)
	}
	sort.Strings(names)
	for _, n := range names {
		s := *by[n]
		if !s.Regressed() && s.Candidate != UndecidedOutcome {
			s.Evidence = ""
		}
		r.Specs = append(r.Specs, s)
	}
}
