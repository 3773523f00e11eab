package report

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// messageLines bounds a failure message in the Markdown; report.json and
// the evidence files hold all of it.
const messageLines = 30

// Markdown renders reports for $GITHUB_STEP_SUMMARY (reports/summary.md):
// per report the verdict first, then what failed and why with its key
// evidence inline, then the splits, the gate and the matrix. A passing
// report is a few lines.
func Markdown(reports ...*Report) string {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n---\n\n")
		}
		for _, section := range markdownSections {
			section(&b, r)
		}
	}
	return b.String()
}

// markdownSections are written in this order.
var markdownSections = []func(*strings.Builder, *Report){
	writeHeadline, writeProblems, writeFailures, writeUndecided, writePaths, writeSplits, writeDiffs, writeInterception, writeLint, writeGate, writeMatrix, writeDetection, writeSkipped,
}

var verdictWords = map[Verdict]string{
	VerdictPass:      "✅ PASS",
	VerdictFail:      "❌ FAIL",
	VerdictUndecided: "⚠️ UNDECIDED",
	VerdictEmpty:     "⚠️ EMPTY (no check ran)",
}

func writeHeadline(b *strings.Builder, r *Report) {
	fmt.Fprintf(b, "## meshcheck: %s\n\n", verdictWords[r.Verdict])
	c := r.Counts
	fmt.Fprintf(b, "**%d passed, %d failed, %d undecided, %d skipped** · %s\n", c.Passed, c.Failed, c.Undecided, c.Skipped, r.Run.identity())
}

// identity is the run in one line: backend, versions, when and how long.
func (run Run) identity() string {
	parts := []string{orNone(run.Backend) + " backend", "Istio " + orNone(run.Istio.Version)}
	if run.Istio.Source != "" {
		parts[1] += " (" + run.Istio.Source + ")"
	}
	envoy := "Envoy " + orNone(run.Envoy)
	if run.Proxy != "" {
		envoy += " (Istio proxy " + run.Proxy + ")"
	}
	parts = append(parts, envoy)
	if run.Kubernetes != "" {
		parts = append(parts, "Kubernetes "+run.Kubernetes)
	}
	if run.NodeImage != "" {
		parts = append(parts, "node image "+run.NodeImage)
	}
	if !run.Start.IsZero() {
		parts = append(parts, run.Start.UTC().Format("2006-01-02 15:04 UTC")+", "+run.End.Sub(run.Start).Round(time.Second).String())
	}
	if run.Meshcheck != "" {
		parts = append(parts, "meshcheck "+run.Meshcheck)
	}
	return strings.Join(parts, " · ")
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func writeProblems(b *strings.Builder, r *Report) {
	if len(r.Problems) == 0 {
		return
	}
	b.WriteString("\n**Files that could not be read** (this report is incomplete):\n\n")
	for _, p := range r.Problems {
		fmt.Fprintf(b, "- %s\n", p)
	}
}

func writeFailures(b *strings.Builder, r *Report) {
	writeChecks(b, r, Failed, "Failed")
}

func writeUndecided(b *strings.Builder, r *Report) {
	writeChecks(b, r, Undecided, "Undecided")
}

// writeChecks lists the checks of one status with their evidence.
func writeChecks(b *strings.Builder, r *Report, st Status, title string) {
	var cs []Check
	for _, c := range r.Checks {
		if c.Status == st {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s (%d)\n", title, len(cs))
	for _, c := range cs {
		writeCheck(b, c)
	}
}

func writeCheck(b *strings.Builder, c Check) {
	fmt.Fprintf(b, "\n#### %s\n\n", c.Name)
	var where []string
	if c.Fixture != "" {
		where = append(where, "fixture "+stateKey(c.Fixture, c.Step))
	}
	if f := c.Failure; f != nil && f.Location != "" {
		where = append(where, "`"+f.Location+"`")
	}
	if len(c.Labels) > 0 {
		where = append(where, "labels "+strings.Join(c.Labels, ", "))
	}
	if len(where) > 0 {
		b.WriteString(strings.Join(where, " · ") + "\n\n")
	}
	if f := c.Failure; f != nil {
		writeFailure(b, f)
	}
	if len(c.Evidence) > 0 {
		fmt.Fprintf(b, "- evidence: `%s`\n", strings.Join(c.Evidence, "`, `"))
	}
}

func writeFailure(b *strings.Builder, f *Failure) {
	if f.Message != "" && f.Message != f.LastError {
		fmt.Fprintf(b, "```\n%s\n```\n\n", capLines(strings.TrimSpace(f.Message), messageLines))
	}
	for _, kv := range [][2]string{{"expected", f.Expected}, {"actual", f.Actual}, {"closest candidates", strings.Join(f.Candidates, ", ")}, {"last error", f.LastError}} {
		if kv[1] != "" {
			fmt.Fprintf(b, "- %s: `%s`\n", kv[0], oneLine(kv[1]))
		}
	}
	if f.Detail != "" && f.Detail != f.Message {
		fmt.Fprintf(b, "- detail: %s\n", oneLine(capLines(f.Detail, 1)))
	}
}

func capLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… %d more lines in report.json", len(lines)-n)
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " ⏎ "), "`", "'")
}

// writePaths says how many paths were followed and, for each hop where the
// logs and the xDS trace disagree, both answers.
func writePaths(b *strings.Builder, r *Report) {
	if len(r.Paths) == 0 {
		return
	}
	hops, traced, disagree := 0, 0, 0
	for _, p := range r.Paths {
		hops += len(p.Hops)
		disagree += p.Disagree
		for _, h := range p.Hops {
			if h.XDS != nil {
				traced++
			}
		}
	}
	fmt.Fprintf(b, "\n### Traffic paths\n\n%d paths, %d hops from the access logs, %d traced in xDS: %d where logs and xDS disagree\n", len(r.Paths), hops, traced, disagree)
	for _, p := range r.Paths {
		for i, h := range p.Hops {
			if h.XDS != nil && !h.XDS.Agrees {
				fmt.Fprintf(b, "- **%s**, hop %d (%s): logged `%s`, xDS chose `%s`\n", p.Name, i+1, h.Proxy, h.Cluster, strings.Join(h.XDS.Clusters, "`, `"))
			}
		}
	}
}

func writeSplits(b *strings.Builder, r *Report) {
	if len(r.Splits) == 0 {
		return
	}
	b.WriteString("\n### Traffic splits\n\n| split | fixture | decision | requests | observed (interval) | expected |\n|---|---|---|---:|---|---|\n")
	for _, s := range r.Splits {
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s |\n", cell(s.Name), s.state(), s.Decision, s.Requests, s.observed(), s.expected())
	}
}

// versions are the split's versions in order.
func (s Split) versions() []string {
	var vs []string
	for v := range s.Weights {
		vs = append(vs, v)
	}
	for v := range s.Counts {
		if _, ok := s.Weights[v]; !ok {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs
}

func (s Split) observed() string {
	var parts []string
	for _, v := range s.versions() {
		p := fmt.Sprintf("%s %.1f%%", v, 100*s.Shares[v])
		if iv, ok := s.Intervals[v]; ok {
			p += fmt.Sprintf(" (%.1f–%.1f)", 100*iv.Low, 100*iv.High)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func (s Split) expected() string {
	var parts []string
	for _, v := range s.versions() {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", v, 100*s.Weights[v]))
	}
	return strings.Join(parts, ", ")
}

func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func writeGate(b *strings.Builder, r *Report) {
	g := r.Gate
	if g == nil {
		return
	}
	open := 0
	for _, c := range g.Changes {
		if !c.Accepted {
			open++
		}
	}
	fmt.Fprintf(b, "\n### Gate: %s\n\nbaseline `%s` %s, candidate `%s` %s: %d checks regressed, %d xDS changes not accepted of %d (reports/gate/summary.md lists them)\n",
		strings.ToUpper(g.Verdict), g.Baseline.Source, g.Baseline.Version, g.Candidate.Source, g.Candidate.Version, len(g.Regressed), open, len(g.Changes))
	for _, c := range g.Regressed {
		fmt.Fprintf(b, "- **%s**: %s → %s\n", c.Name, c.Baseline, c.Candidate)
	}
	for _, u := range g.Undecided {
		fmt.Fprintf(b, "- undecided: %s\n", oneLine(u))
	}
}

func writeMatrix(b *strings.Builder, r *Report) {
	if len(r.Matrix) == 0 {
		return
	}
	b.WriteString("\n### Matrix\n\n| Istio | Envoy | ingress | supported | passed | failed | skipped | seconds | first failure |\n|---|---|---|---|---:|---:|---:|---:|---|\n")
	for _, c := range r.Matrix {
		first := c.FirstFailure
		if c.Error != "" {
			first = "error: " + c.Error
		}
		fmt.Fprintf(b, "| %s %s | %s | %s | %t | %d | %d | %d | %.0f | %s |\n", c.Istio.Version, cell(c.Istio.Source), c.Envoy, c.Ingress,
			c.Supported, c.Passed, c.Failed, c.Skipped, c.Seconds, cell(capLines(first, 1)))
	}
}

func writeSkipped(b *strings.Builder, r *Report) {
	if r.Counts.Skipped == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>%d skipped</summary>\n\n", r.Counts.Skipped)
	for _, c := range r.Checks {
		if c.Status == Skipped {
			why := ""
			if c.Failure != nil {
				why = ": " + oneLine(c.Failure.Message)
			}
			fmt.Fprintf(b, "- %s%s\n", c.Name, why)
		}
	}
	b.WriteString("\n</details>\n")
}

// state is fixture@step, or empty when the split's fixture is not known.
func (s Split) state() string {
	if s.Fixture == "" {
		return ""
	}
	return stateKey(s.Fixture, s.Step)
}

// writeDiffs names each proxy's diff and how many of its changes no
// reviewed file accepts.
func writeDiffs(b *strings.Builder, r *Report) {
	if len(r.Diffs) == 0 {
		return
	}
	b.WriteString("\n### xDS diffs\n\n")
	for _, d := range r.Diffs {
		changes, open := 0, 0
		for _, res := range d.Resources {
			for _, c := range res.Changes {
				changes++
				if !c.Accepted {
					open++
				}
			}
		}
		step := ""
		if d.Step != "" {
			step = " at step " + d.Step
		}
		fmt.Fprintf(b, "- %s%s against the %s `%s`: %d resources, %d changes, %d not accepted\n", d.Proxy, step, d.Against, d.Reference, len(d.Resources), changes, open)
	}
}

// writeInterception counts the workloads checked and names each behaviour
// that does not hold.
func writeInterception(b *strings.Builder, r *Report) {
	if len(r.Interception) == 0 {
		return
	}
	n, failed := 0, 0
	for _, in := range r.Interception {
		n += len(in.Behaviours)
		failed += in.Failed
	}
	fmt.Fprintf(b, "\n### Interception\n\n%d workloads, %d behaviours simulated, %d do not hold\n", len(r.Interception), n, failed)
	for _, in := range r.Interception {
		for _, bh := range in.Behaviours {
			if !bh.Pass {
				fmt.Fprintf(b, "- **%s**: %s: expected %s, got %s\n", in.Workload, bh.Says, bh.Want, oneLine(bh.Got))
			}
		}
	}
}

// writeLint counts the findings per severity and lists the errors; the
// page lists every finding.
func writeLint(b *strings.Builder, r *Report) {
	if r.Linted == 0 && len(r.Lint) == 0 {
		return
	}
	per := map[string]int{}
	for _, f := range r.Lint {
		per[f.Severity]++
	}
	fmt.Fprintf(b, "\n### Lint\n\n%d proxy configs linted, %d findings: %d errors, %d warnings, %d info (every finding is on the HTML page)\n",
		r.Linted, len(r.Lint), per["error"], per["warning"], per["info"])
	for _, f := range r.Lint {
		if f.Severity == "error" {
			fmt.Fprintf(b, "- %s [%s] %s: %s\n", f.Proxy, f.Rule, f.Resource, oneLine(f.Message))
		}
	}
}

func writeDetection(b *strings.Builder, r *Report) {
	if len(r.Detection) == 0 {
		return
	}
	caught := 0
	for _, d := range r.Detection {
		if !d.Missed {
			caught++
		}
	}
	fmt.Fprintf(b, "\n### Detection\n\n%d of %d mutations caught", caught, len(r.Detection))
	if c := r.DetectionClean; c != nil {
		fmt.Fprintf(b, "; clean runs: %d, failures: %d", c.Runs, c.Failures)
	}
	b.WriteString(" (the table is in the HTML page and reports/detection.md)\n")
}
