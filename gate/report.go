package gate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Markdown is the result for a pull request: the verdict, the regressed
// checks with their evidence, then the changes per proxy and step, worded,
// unaccepted first.
func (r Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## meshcheck gate: %s\n\nbaseline `%s`%s, candidate `%s`%s\n\n", strings.ToUpper(r.Verdict),
		r.Baseline.Source, paren(r.Baseline.Istio), r.Candidate.Source, paren(r.Candidate.Istio))
	for _, u := range r.Undecided {
		fmt.Fprintf(&b, "- **undecided:** %s\n", u)
	}
	r.writeSpecs(&b)
	accepted, open := 0, 0
	for _, c := range r.Changes {
		if c.Accepted {
			accepted++
		} else {
			open++
		}
	}
	fmt.Fprintf(&b, "\n### xDS changes: %d not accepted, %d accepted\n", open, accepted)
	r.writeChanges(&b, false)
	if accepted > 0 {
		b.WriteString("\n<details><summary>accepted changes</summary>\n")
		r.writeChanges(&b, true)
		b.WriteString("\n</details>\n")
	}
	return b.String()
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func (r Result) writeSpecs(b *strings.Builder) {
	var reg, other []Spec
	for _, s := range r.Specs {
		if s.Regressed() {
			reg = append(reg, s)
		} else {
			other = append(other, s)
		}
	}
	fmt.Fprintf(b, "\n### Checks: %d regressed of %d\n", len(reg), len(r.Specs))
	for _, s := range reg {
		fmt.Fprintf(b, "\n- **%s**: %s on the baseline, %s on the candidate\n", s.Name, s.Baseline, s.Candidate)
		if s.Evidence != "" {
			fmt.Fprintf(b, "\n```\n%s\n```\n", strings.TrimSpace(s.Evidence))
		}
	}
	changed := 0
	for _, s := range other {
		if s.Baseline != s.Candidate {
			if changed == 0 {
				b.WriteString("\nOther checks whose outcome changed:\n")
			}
			changed++
			fmt.Fprintf(b, "- %s: %s → %s\n", s.Name, s.Baseline, s.Candidate)
		}
	}
}

// markdownLines bounds the changes listed per section; the diff files
// under reports/gate/diffs hold every one.
const markdownLines = 60

func (r Result) writeChanges(b *strings.Builder, accepted bool) {
	last, n, more := "", 0, 0
	for _, c := range r.Changes {
		if c.Accepted != accepted {
			continue
		}
		if n++; n > markdownLines {
			more++
			continue
		}
		if head := c.Proxy + " at step " + c.Step; head != last {
			state := "not accepted"
			if accepted {
				state = "accepted"
			}
			fmt.Fprintf(b, "\n**%s** (%s)\n\n", head, state)
			last = head
		}
		fmt.Fprintf(b, "- %s", c.Words)
		if accepted {
			fmt.Fprintf(b, " — %s (%s)", c.Reason, c.Rule)
		}
		b.WriteByte('\n')
	}
	if more > 0 {
		fmt.Fprintf(b, "\n… and %d more (every change: reports/gate/diffs/)\n", more)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// WriteDiffs writes one file per proxy and step under dir
// (<step>/<namespace>.<name>.diff), each change worded, and returns the
// files written.
func (r Result) WriteDiffs(dir string) ([]string, error) {
	files := map[string]*strings.Builder{}
	var order []string
	for _, c := range r.Changes {
		name := filepath.Join(dir, unsafeName.ReplaceAllString(c.Step, "-"), unsafeName.ReplaceAllString(strings.ReplaceAll(c.Proxy, "/", "."), "-")+".diff")
		fb, ok := files[name]
		if !ok {
			fb = &strings.Builder{}
			files[name] = fb
			order = append(order, name)
		}
		mark := "!"
		if c.Accepted {
			mark = " "
		}
		fmt.Fprintf(fb, "%s %s\n", mark, c.Words)
		if c.Path != "" {
			fmt.Fprintf(fb, "    %s %s %s\n", c.Type, c.Name, c.Path)
		}
	}
	for _, name := range order {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(name, []byte(files[name].String()), 0o644); err != nil {
			return nil, err
		}
	}
	return order, nil
}
