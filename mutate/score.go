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
