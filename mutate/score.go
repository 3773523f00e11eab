package mutate

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/meshcheck/meshcheck/checks"
)

// Outcome is how a run of a mutated fixture scores.
type Outcome struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Caught   bool     `json:"caught"`
	CaughtBy []string `json:"caughtBy"`
	// Message is the first catching failure's message, else the first
	// failure's (a miss: another check, or the cause not named), else why
	// nothing ran.
	Message string `json:"message"`
	// Seconds is how long the mutation's runs took (for a control-plane
	// one, the patched copy and its build included).
	Seconds float64 `json:"seconds,omitempty"`
}

// Score judges a run's results strictly: caught when a failed check is of
// a kind m names and its message holds every word of m.Words.
func Score(m Mutation, results []checks.Result) Outcome {
	out := Outcome{Name: m.Name, Kind: m.Kind, CaughtBy: []string{}}
	var other string
	for _, r := range results {
		if r.Status != checks.Fail {
			continue
		}
		msg := r.String()
		if slices.Contains(m.CaughtBy, r.Kind) && hasAll(msg, m.Words) {
			out.Caught = true
			by := fmt.Sprintf("%s@%s %s %s %s", r.Fixture, orBase(r.Step), filepath.Base(r.Source), r.Kind, r.Name)
			if !slices.Contains(out.CaughtBy, by) {
				out.CaughtBy = append(out.CaughtBy, by)
			}
			if out.Message == "" {
				out.Message = msg
			}
		} else if other == "" {
			other = msg
		}
	}
	if !out.Caught {
		out.Message = other
		if other == "" {
			out.Message = "no check failed"
		}
	}
	return out
}

func orBase(step string) string {
	if step == "" {
		return "base"
	}
	return step
}

func hasAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// Spec is one suite spec's outcome in a run against a mutated mesh: its
// name as the gate reads a Ginkgo report ("spec whoami-90-10: ...",
// "suite BeforeSuite"), whether it failed, and its failure.
type Spec struct {
	Name     string
	Failed   bool
	Evidence string
}

// ScoreSpecs adds the suites' verdict to an outcome Score gave: a
// mutation that names specs is caught only when a check caught it and a
// spec it names failed with every one of its SpecWords (Words when none)
// in the failure. A failure of another spec does not count.
func ScoreSpecs(m Mutation, out Outcome, specs []Spec) Outcome {
	if len(m.Specs) == 0 {
		return out
	}
	words := m.SpecWords
	if len(words) == 0 {
		words = m.Words
	}
	var related string
	caught := false
	for _, s := range specs {
		if !s.Failed || !m.relatedSpec(s.Name) {
			continue
		}
		if hasAll(s.Evidence, words) {
			caught = true
			out.CaughtBy = append(out.CaughtBy, "suites "+shortSpec(s.Name))
		} else if related == "" {
			related = s.Name + ": " + s.Evidence
		}
	}
	if caught || !out.Caught {
		return out
	}
	out.Caught = false
	if related == "" {
		related = fmt.Sprintf("no spec of %v failed (%d specs ran)", m.Specs, len(specs))
	}
	out.Message = "the checks caught it, the suites did not: " + related
	return out
}

// relatedSpec says whether a spec is one m names: "suite" names the
// suite's setup and cleanup nodes, anything else a spec's name prefix.
func (m Mutation) relatedSpec(name string) bool {
	for _, p := range m.Specs {
		if p == "suite" && strings.HasPrefix(name, "suite ") {
			return true
		}
		if strings.HasPrefix(strings.TrimPrefix(name, "spec "), p) {
			return true
		}
	}
	return false
}

// shortSpec is a spec's name without its description.
func shortSpec(name string) string {
	short, _, _ := strings.Cut(name, ":")
	return short
}
