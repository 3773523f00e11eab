package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var htmlTemplate string

// page is the template's view of reports: each report with its failures
// picked out and its splits laid out as charts.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":      func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"verdict":  func(v Verdict) string { return htmlVerdictWords[v] },
	"identity": func(r Run) string { return r.identity() },
}).Parse(htmlTemplate))

// htmlVerdictWords are the verdicts without emoji (a laptop may lack the
// font).
var htmlVerdictWords = map[Verdict]string{
	VerdictPass: "PASS", VerdictFail: "FAIL", VerdictUndecided: "UNDECIDED", VerdictEmpty: "EMPTY (no check ran)",
}

// htmlReport is one report as the page shows it.
type htmlReport struct {
	*Report
	Failed, Undecided []Check
	Charts            []chart
	Drawings          []drawing
	// LintErrors counts the lint findings of severity error.
	LintErrors int
}

// chart is one split drawn: a row per version with the observed share,
// its interval and the expected weight, in SVG coordinates.
type chart struct {
	ID     string
	Split  Split
	Height int
	Rows   []chartRow
}

type chartRow struct {
	Version                             string
	Count                               int
	Share, Low, High, Weight            float64
	Y, BarW, LowX, HighX, WeightX       float64
	TextY, Mid, WeightTop, WeightBottom float64
}

// Chart geometry: bars start at chartLeft and chartWidth is 100%.
const (
	chartLeft  = 90.0
	chartWidth = 400.0
	rowHeight  = 34
)

func newChart(i int, s Split) chart {
	c := chart{ID: fmt.Sprintf("split-%d", i+1), Split: s}
	for j, v := range s.versions() {
		iv, ok := s.Intervals[v]
		if !ok {
			iv = Interval{Low: s.Shares[v], High: s.Shares[v]}
		}
		y := float64(24 + j*rowHeight)
		c.Rows = append(c.Rows, chartRow{
			Version: v, Count: s.Counts[v], Share: s.Shares[v], Low: iv.Low, High: iv.High, Weight: s.Weights[v],
			Y: y, TextY: y + 14, Mid: y + 9, WeightTop: y - 4, WeightBottom: y + 22, BarW: chartWidth * s.Shares[v], LowX: chartLeft + chartWidth*iv.Low,
			HighX: chartLeft + chartWidth*iv.High, WeightX: chartLeft + chartWidth*s.Weights[v],
		})
	}
	c.Height = 24 + len(c.Rows)*rowHeight + 8
	return c
}

// HTML writes one self-contained page (no external assets) for reports:
// per report the verdict, the failures first with their evidence, each
// split charted with a table as its text equivalent, the checks, the gate
// and the matrix.
func HTML(w io.Writer, reports ...*Report) error {
	var view []htmlReport
	for _, r := range reports {
		h := htmlReport{Report: r}
		for _, c := range r.Checks {
			switch c.Status {
			case Failed:
				h.Failed = append(h.Failed, c)
			case Undecided:
				h.Undecided = append(h.Undecided, c)
			}
		}
		for i, s := range r.Splits {
			h.Charts = append(h.Charts, newChart(len(view)*1000+i, s))
		}
		for _, f := range r.Lint {
			if f.Severity == "error" {
				h.LintErrors++
			}
		}
		for i, p := range r.Paths {
			h.Drawings = append(h.Drawings, newDrawing(fmt.Sprintf("path-%d", len(view)*1000+i+1), p))
		}
		view = append(view, h)
	}
	if err := page.Execute(w, view); err != nil {
		return fmt.Errorf("report: HTML: %w", err)
	}
	return nil
}
