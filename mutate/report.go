package mutate

import (
	"fmt"
	"strings"
)

// Report is the detection matrix, written as reports/detection.json.
type Report struct {
	Mutations []Outcome `json:"mutations"`
	Clean     Clean     `json:"clean"`
}

// Clean counts the runs of the unmutated fixtures and their failures (a
// failure there is a false alarm).
type Clean struct {
	Runs     int `json:"runs"`
	Failures int `json:"failures"`
}

// Caught counts the caught mutations.
func (r Report) Caught() int {
	n := 0
	for _, m := range r.Mutations {
		if m.Caught {
			n++
		}
	}
	return n
}

// Markdown renders the matrix: one row per mutation.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Detection\n\n%d of %d mutations caught; clean runs: %d, failures: %d.\n\n",
		r.Caught(), len(r.Mutations), r.Clean.Runs, r.Clean.Failures)
	b.WriteString("| mutation | kind | caught | by |\n|---|---|---|---|\n")
	for _, m := range r.Mutations {
		verdict := "missed"
		if m.Caught {
			verdict = "caught"
		}
		by := strings.Join(m.CaughtBy, "<br>")
		if !m.Caught {
			by = cell(firstLine(m.Message))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", m.Name, m.Kind, verdict, cell(by))
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
