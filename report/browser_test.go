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
	"github.com/chromedp/chromedp/kb"

	"github.com/meshcheck/meshcheck/suite"
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
	Verdict      string   `json:"verdict"`
	FirstSection string   `json:"firstSection"`
	Charts       int      `json:"charts"`
	Observed     []string `json:"observed"`
	Expected     []string `json:"expected"`
	ChartLabels  []string `json:"chartLabels"`
	Paths        int      `json:"paths"`
	// Width is the page's scroll width at a 1280-pixel window.
	Width      int      `json:"width"`
	PathLabels []string `json:"pathLabels"`
	// Hops are each drawn hop's proxy and its box's second line (cluster,
	// status, latency), path by path.
	Hops [][]string `json:"hops"`
	// Disagree are the hops drawn as disagreeing, and their rows in the
	// text equivalent.
	Disagree     int `json:"disagree"`
	DisagreeRows int `json:"disagreeRows"`
	// Focus is what each Tab focused, from the page's top; Hash is the
	// location after Enter on the last.
	Focus         []string
	Hash          string
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
	paths: document.querySelectorAll("figure.path svg[role=img]").length,
	width: document.documentElement.scrollWidth,
	pathLabels: [...document.querySelectorAll("figure.path figcaption strong:first-child")].map(e => e.textContent),
	hops: [...document.querySelectorAll("figure.path svg")].map(svg => [...svg.querySelectorAll("g.hop-box")].map(g => g.dataset.proxy + " | " + g.querySelectorAll("text")[1].textContent)),
	disagree: document.querySelectorAll("figure.path rect.hop-disagree").length,
	disagreeRows: document.querySelectorAll("figure.path tr.disagree").length,
})`

// TestHTMLInBrowser loads pages in a real headless Chromium: a passing and
// a failing run's (committed files), a real make e2e-local run's
// (testdata/run-pass), a real meshcheck run of a mutated fixture
// (testdata/mutate-fail), and a failing run whose path disagrees with xDS.
// Each: no console errors, the verdict, a failed run's failures first, one
// chart per split with its labels and numbers, one drawing per path with
// each hop's proxy, cluster, status and latency, disagreeing hops marked
// in the drawing and its table, and the sections reachable with Tab and
// Enter. A screenshot of each goes to reports/ (the repository's,
// git-ignored).
func TestHTMLInBrowser(t *testing.T) {
	exe := chromium(t)
	for _, tc := range []struct {
		name, verdict, first string
		report               func(t *testing.T) *Report
		observed, expected   []string
	}{
		{"pass", "pass", "Traffic splits", built("pass"), []string{"88.8%", "11.2%", "51.3%", "48.7%"}, []string{"90.0%", "10.0%", "50.0%", "50.0%"}},
		{"fail", "fail", "Failures", built("fail"), []string{"50.2%", "49.8%", "51.3%", "48.7%"}, []string{"90.0%", "10.0%", "50.0%", "50.0%"}},
		{"run-pass", "pass", "Traffic paths", built("run-pass"), nil, nil},
		{"mutate-fail", "fail", "Failures", built("mutate-fail"), []string{"15.4%", "84.6%", "50.0%", "50.0%"}, []string{"90.0%", "10.0%", "50.0%", "50.0%"}},
		{"path-disagrees", "fail", "Failures", pathDisagrees, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.report(t)
			seen := load(t, exe, pageFile(t, r), filepath.Join("..", "reports", "report-browser-"+tc.name+".png"), navTarget(r))
			checkPage(t, r, seen)
			if seen.Verdict != tc.verdict || seen.FirstSection != tc.first {
				t.Errorf("verdict %q, first section %q: want %q, %q", seen.Verdict, seen.FirstSection, tc.verdict, tc.first)
			}
			if tc.observed != nil && (strings.Join(seen.Observed, " ") != strings.Join(tc.observed, " ") || strings.Join(seen.Expected, " ") != strings.Join(tc.expected, " ")) {
				t.Errorf("observed %q, expected %q: want %q, %q", seen.Observed, seen.Expected, tc.observed, tc.expected)
			}
		})
	}
}

// built is the report Build makes of testdata/dir.
func built(dir string) func(t *testing.T) *Report {
	return func(t *testing.T) *Report {
		r, err := Build(Options{Dir: filepath.Join("testdata", dir), Suite: suiteOf(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// pathDisagrees is the failing run's report with a bookinfo path whose
// productpage-to-reviews hop logged a cluster the xDS trace did not
// choose.
func pathDisagrees(t *testing.T) *Report {
	r := built("fail")(t)
	p, err := pathOf(suite.PathRecord{Name: "/productpage through the ingress", Fixture: "bookinfo", Flow: bookinfoFlow, Traces: []suite.HopTrace{
		{Hop: 0, Clusters: []string{"outbound|9080||productpage.default.svc.cluster.local"}},
		{Hop: 2, Clusters: []string{"outbound|9080|v1|reviews.default.svc.cluster.local"}, Text: "listener 0.0.0.0_9080 -> route 9080 -> cluster outbound|9080|v1|reviews"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.Paths = append(r.Paths, p)
	r.Settle()
	return r
}

// pageFile writes r's page to a file and returns its path.
func pageFile(t *testing.T, r *Report) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := HTML(f, r); err != nil {
		t.Fatal(err)
	}
	return file
}

// navTarget is the section link the keyboard test goes to: the paths when
// the report has some, else the splits, else all checks.
func navTarget(r *Report) string {
	switch {
	case len(r.Paths) > 0:
		return "Paths"
	case len(r.Splits) > 0:
		return "Splits"
	}
	return "All checks"
}

// checkPage checks what every page must show of its report.
func checkPage(t *testing.T, r *Report, seen pageSeen) {
	t.Helper()
	if len(seen.consoleErrors) > 0 {
		t.Errorf("console errors: %q", seen.consoleErrors)
	}
	if seen.Verdict != string(r.Verdict) || (r.Verdict == VerdictFail && seen.FirstSection != "Failures") {
		t.Errorf("verdict %q, first section %q: want %q (failures first when it failed)", seen.Verdict, seen.FirstSection, r.Verdict)
	}
	if seen.Width > 1280 {
		t.Errorf("the page is %d pixels wide in a 1280-pixel window: it scrolls sideways", seen.Width)
	}
	checkCharts(t, r, seen)
	checkPaths(t, r, seen)
	checkKeyboard(t, r, seen)
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
	seen := load(t, exe, pageFile(t, r), filepath.Join(filepath.Dir(path), "report-browser-run.png"), navTarget(r))
	checkPage(t, r, seen)
}

// checkCharts: one chart per split, each labelled with the split's name,
// its observed shares the report's.
func checkCharts(t *testing.T, r *Report, seen pageSeen) {
	t.Helper()
	if seen.Charts != len(r.Splits) {
		t.Errorf("%d charts on the page, %d splits in the report", seen.Charts, len(r.Splits))
	}
	var observed []string
	for _, s := range r.Splits {
		if !containsPrefix(seen.ChartLabels, s.Name) {
			t.Errorf("no chart labelled %q among %q", s.Name, seen.ChartLabels)
		}
		for _, v := range s.versions() {
			observed = append(observed, fmt.Sprintf("%.1f%%", 100*s.Shares[v]))
		}
	}
	if strings.Join(seen.Observed, " ") != strings.Join(observed, " ") {
		t.Errorf("observed shares on the page %q, in the report %q", seen.Observed, observed)
	}
}

// checkPaths: one drawing per path, labelled with its name; per hop its
// proxy, cluster, status and latency; each disagreeing hop marked in the
// drawing and in the table.
func checkPaths(t *testing.T, r *Report, seen pageSeen) {
	t.Helper()
	if seen.Paths != len(r.Paths) || len(seen.Hops) != len(r.Paths) {
		t.Fatalf("%d path drawings (%d with hops) on the page, %d paths in the report", seen.Paths, len(seen.Hops), len(r.Paths))
	}
	disagree := 0
	for i, p := range r.Paths {
		disagree += p.Disagree
		if !containsPrefix(seen.PathLabels, p.Name) {
			t.Errorf("no path labelled %q among %q", p.Name, seen.PathLabels)
		}
		if len(seen.Hops[i]) != len(p.Hops) {
			t.Errorf("path %q: %d hops drawn, %d in the report", p.Name, len(seen.Hops[i]), len(p.Hops))
			continue
		}
		for j, h := range p.Hops {
			want := fmt.Sprintf("%s | %s · status %d · %.0f ms", h.Proxy, orDash(h.Cluster), h.Status, h.LatencyMS)
			if !strings.HasPrefix(seen.Hops[i][j], want) {
				t.Errorf("path %q hop %d drawn %q, want %q", p.Name, j+1, seen.Hops[i][j], want)
			}
		}
	}
	if seen.Disagree != disagree || seen.DisagreeRows != disagree {
		t.Errorf("%d hops drawn as disagreeing, %d table rows: want %d", seen.Disagree, seen.DisagreeRows, disagree)
	}
}

// checkKeyboard: Tab from the top reaches the skip link first, then the
// section links; Enter on the target link goes to its section.
func checkKeyboard(t *testing.T, r *Report, seen pageSeen) {
	t.Helper()
	if len(seen.Focus) == 0 || seen.Focus[0] != "Skip to the report" {
		t.Errorf("first Tab focused %q, want the skip link", seen.Focus)
	}
	target := navTarget(r)
	if last := seen.Focus[len(seen.Focus)-1]; !strings.HasPrefix(last, target) {
		t.Errorf("Tab never reached the %q link; focused %q", target, seen.Focus)
	}
	want := map[string]string{"Paths": "#paths-0", "Splits": "#splits-0", "All checks": "#checks-0"}[target]
	if seen.Hash != want {
		t.Errorf("Enter on %q went to %q, want %q", target, seen.Hash, want)
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

// tabTo presses Tab until the focused element's text starts with target
// (at most 30 times), then Enter; it returns each focused element's text
// and the location's hash after Enter.
func tabTo(t *testing.T, ctx context.Context, target string) (focus []string, hash string) {
	t.Helper()
	for range 30 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatalf("Tab: %v", err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent.trim()`))
		if err != nil {
			t.Fatalf("the focused element: %v", err)
		}
		focus = append(focus, text)
		if strings.HasPrefix(text, target) {
			break
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatalf("Enter: %v", err)
	}
	hash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	return focus, hash
}

// load opens file in headless Chromium at 1280 pixels wide, reads what the
// tests check and saves a full-page screenshot to shot (when its directory
// exists).
func load(t *testing.T, exe, file, shot, target string) pageSeen {
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
	seen.Focus, seen.Hash = tabTo(t, tctx, target)
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
