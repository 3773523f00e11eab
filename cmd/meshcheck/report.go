package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	reports "github.com/meshcheck/meshcheck/report"
)

func newReportCmd(s streams) *cobra.Command {
	return newGroupCmd("report", "build a run's report (reports/report.json) and render it for people (Markdown)",
		newReportBuildCmd(s), newReportMarkdownCmd(s))
}

// reportBuildOptions are the flags of meshcheck report build.
type reportBuildOptions struct {
	o reports.Options
}

func newReportBuildCmd(s streams) *cobra.Command {
	var o reportBuildOptions
	c := &cobra.Command{
		Use:   "build [--dir reports] [--suite NAME] [--backend embedded|kind]",
		Short: "assemble <dir>/report.json, summary.md and report.html from what a run left in the reports directory",
		Long: `Reads what a run left in the reports directory: the Ginkgo JSON report
<dir>/<suite>.json (hack/run-suites.sh NAME writes it), e2e-<backend>.timing.json,
run-<backend>.json (meshcheck run), matrix.json (make e2e-matrix),
gate/result.json (meshcheck gate) and the evidence folders, and writes the
versioned report <dir>/report.json (apiVersion meshcheck.dev/v1alpha1, kind
Report; schema report/report.schema.json), its Markdown <dir>/summary.md and
one self-contained HTML page <dir>/report.html.
Prints the verdict. A file present but unreadable is named in the report's
problems (the verdict is then at best undecided).

Exit codes: 0 the report was written (whatever its verdict: the run's own
exit code says whether it passed), 66 the directory or the Ginkgo report
cannot be read.`,
		Example: "  meshcheck report build --dir reports --suite e2e-local",
		Args:    noArgs,
		RunE:    func(*cobra.Command, []string) error { return o.run(s) },
	}
	c.Flags().StringVar(&o.o.Dir, "dir", "reports", "the reports directory")
	c.Flags().StringVar(&o.o.Suite, "suite", "", "the name the Ginkgo report was written under (<dir>/<suite>.json); empty: no suite ran")
	c.Flags().StringVar(&o.o.IstioSource, "istio-source", "", "the control plane's source the run used (ISTIO_SRC), for the report")
	c.Flags().StringVar(&o.o.Backend, "backend", "embedded", "the backend the run used (names the timing, run and evidence files)")
	return c
}

func (o reportBuildOptions) run(s streams) error {
	o.o.Meshcheck = version()
	r, err := reports.Build(o.o)
	if err != nil {
		return exitWith(exitNoInput, err)
	}
	if err := r.WriteFile(filepath.Join(o.o.Dir, "report.json")); err != nil {
		return exitWith(exitFail, err)
	}
	if err := os.WriteFile(filepath.Join(o.o.Dir, "summary.md"), []byte(reports.Markdown(r)), 0o644); err != nil {
		return exitWith(exitFail, fmt.Errorf("report: %w", err))
	}
	if err := writeHTML(filepath.Join(o.o.Dir, "report.html"), r); err != nil {
		return exitWith(exitFail, err)
	}
	c := r.Counts
	_, err = fmt.Fprintf(s.Out, "report %s: %s (%d passed, %d failed, %d undecided, %d skipped); summary %s, page %s\n",
		filepath.Join(o.o.Dir, "report.json"), r.Verdict, c.Passed, c.Failed, c.Undecided, c.Skipped, filepath.Join(o.o.Dir, "summary.md"), filepath.Join(o.o.Dir, "report.html"))
	return err
}

func newReportMarkdownCmd(s streams) *cobra.Command {
	c := &cobra.Command{
		Use:   "markdown REPORT.json [REPORT.json ...]",
		Short: "render reports as Markdown (for $GITHUB_STEP_SUMMARY): the verdict, then what failed and why, then splits, gate and matrix",
		Long: `Renders one report, or several one after the other (the cells of a
matrix), as Markdown on stdout: per report the verdict first, then each
failed check with its key evidence inline (expected, actual, closest
candidates, evidence files), then the splits, the gate and the matrix.

Exit codes: 0 rendered, 64 no report named, 65 a report is not a
meshcheck.dev/v1alpha1 Report (the message names file, line and field), 66 a
report cannot be read.`,
		Example: `  meshcheck report markdown reports/report.json >> "$GITHUB_STEP_SUMMARY"`,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("name at least one report file")
			}
			var rs []*reports.Report
			for _, a := range args {
				r, err := reports.ReadFile(a)
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
					return exitWith(exitNoInput, err)
				}
				if err != nil {
					return exitWith(exitBadInput, err)
				}
				rs = append(rs, r)
			}
			_, err := fmt.Fprint(s.Out, reports.Markdown(rs...))
			return err
		},
	}
	return c
}

// writeHTML writes the report's page to path.
func writeHTML(path string, r *reports.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := reports.HTML(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
