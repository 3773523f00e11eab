package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (hack/deps.sh installs it), or skips
// the test saying so.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the browser test did not run")
	return ""
}

// pageSeen is what the browser saw of a report page.
type pageSeen struct {
	Verdict       string   `json:"verdict"`
	FirstSection  string   `json:"firstSection"`
	Charts        int      `json:"charts"`
	Observed      []string `json:"observed"`
	Expected      []string `json:"expected"`
	ChartLabels   []string `json:"chartLabels"`
	consoleErrors []string
}

// seenJS reads pageSeen's fields in the page.
const seenJS = `({
	verdict: document.querySelector("h1").dataset.verdict,
	firstSection: document.querySelector("main section h2").textContent,
	charts: document.querySelectorAll("figure.split svg[role=img]").length,
	observed: [...document.querySelectorAll("figure.split td.observed")].map(e => e.textContent),
	expected: [...document.querySelectorAll("figure.split td.expected")].map(e => e.textContent),
	chartLabels: [...document.querySelectorAll("figure.split figcaption strong:first-child")].map(e => e.textContent),
})`

// TestHTMLInBrowser loads the passing and the failing run's page in a real
// headless Chromium: no console errors, the verdict, a failed run's
// failures first, one chart per split with its labels and numbers. A
// screenshot of each goes to reports/ (the repository's, git-ignored).
func TestHTMLInBrowser(t *testing.T) {
	exe := chromium(t)
	for _, tc := range []struct {
		dir, verdict, first string
		observed, expected  []string
	}{
		{"pass", "pass", "Traffic splits", []string{"88.8%", "11.2%", "51.3%", "48.7%"}, []string{"90.0%", "10.0%", "50.0%", "50.0%"}},
		{"fail", "fail", "Failures", []string{"50.2%", "49.8%", "51.3%", "48.7%"}, []string{"90.0%", "10.0%", "50.0%", "50.0%"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			r, err := Build(Options{Dir: filepath.Join("testdata", tc.dir), Suite: "e2e-local"})
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "report.html")
			f, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := HTML(f, r); err != nil {
				t.Fatal(err)
			}
			f.Close()
			seen := load(t, exe, file, filepath.Join("..", "reports", "report-browser-"+tc.dir+".png"))
			if len(seen.consoleErrors) > 0 {
				t.Errorf("console errors: %q", seen.consoleErrors)
			}
			if seen.Verdict != tc.verdict || seen.FirstSection != tc.first {
				t.Errorf("verdict %q, first section %q: want %q, %q", seen.Verdict, seen.FirstSection, tc.verdict, tc.first)
			}
			if seen.Charts != len(r.Splits) || strings.Join(seen.Observed, " ") != strings.Join(tc.observed, " ") || strings.Join(seen.Expected, " ") != strings.Join(tc.expected, " ") {
				t.Errorf("%d charts, observed %q, expected %q: want %d, %q, %q", seen.Charts, seen.Observed, seen.Expected, len(r.Splits), tc.observed, tc.expected)
			}
			checkCharts(t, r, seen)
		})
	}
}

// RunReportEnv names a report.json of a real run (make e2e-local's
// reports/report.json) that TestRunReportInBrowser loads.
const RunReportEnv = "MESHCHECK_RUN_REPORT"

// TestRunReportInBrowser loads the page of a real run's report, when
// MESHCHECK_RUN_REPORT names one: no console errors, its verdict, failures
// first when it failed, one chart per split with its label and numbers.
func TestRunReportInBrowser(t *testing.T) {
	path := os.Getenv(RunReportEnv)
	if path == "" {
		t.Skipf("%s names no report.json (make e2e-local writes reports/report.json)", RunReportEnv)
	}
	exe := chromium(t)
	r, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := HTML(f, r); err != nil {
		t.Fatal(err)
	}
	f.Close()
	seen := load(t, exe, file, filepath.Join(filepath.Dir(path), "report-browser-run.png"))
	if len(seen.consoleErrors) > 0 {
		t.Errorf("console errors: %q", seen.consoleErrors)
	}
	if seen.Verdict != string(r.Verdict) || (r.Verdict == VerdictFail && seen.FirstSection != "Failures") {
		t.Errorf("verdict %q, first section %q: want %q (failures first when it failed)", seen.Verdict, seen.FirstSection, r.Verdict)
	}
	checkCharts(t, r, seen)
	var observed []string
	for _, s := range r.Splits {
		for _, v := range s.versions() {
			observed = append(observed, fmt.Sprintf("%.1f%%", 100*s.Shares[v]))
		}
	}
	if strings.Join(seen.Observed, " ") != strings.Join(observed, " ") {
		t.Errorf("observed shares on the page %q, in the report %q", seen.Observed, observed)
	}
}

// checkCharts: one chart per split, each labelled with the split's name.
func checkCharts(t *testing.T, r *Report, seen pageSeen) {
	t.Helper()
	if seen.Charts != len(r.Splits) {
		t.Errorf("%d charts on the page, %d splits in the report", seen.Charts, len(r.Splits))
	}
	for _, s := range r.Splits {
		if !containsPrefix(seen.ChartLabels, s.Name) {
			t.Errorf("no chart labelled %q among %q", s.Name, seen.ChartLabels)
		}
	}
}

func containsPrefix(ss []string, p string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// load opens file in headless Chromium at 1280 pixels wide, reads what the
// tests check and saves a full-page screenshot to shot (when its directory
// exists).
func load(t *testing.T, exe, file, shot string) pageSeen {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var mu sync.Mutex
	var errs []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				errs = append(errs, "console.error")
			}
		case *runtime.EventExceptionThrown:
			errs = append(errs, e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				errs = append(errs, e.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate("file://"+file)); err != nil {
		t.Fatalf("chromium on %s: %v", file, err)
	}
	seen, err := chromedp.Run(tctx, chromedp.Evaluate[pageSeen](seenJS))
	if err != nil {
		t.Fatalf("reading %s in chromium: %v", file, err)
	}
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", file, err)
	}
	if _, err := os.Stat(filepath.Dir(shot)); err == nil {
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	seen.consoleErrors = errs
	return seen
}
