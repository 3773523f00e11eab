// Package matrix runs the suites over a matrix of cells (an Istio control
// plane build, an Envoy release, an ingress API) on the embedded backend
// and reports each cell: whether Istio supports that version pair, how many
// specs passed, failed and skipped, how long it took and the first
// failure's words (make e2e-matrix, hack/matrix).
package matrix

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/meshcheck/meshcheck/internal/ginkgoreport"
)

// ControlPlane is an Istio build the matrix runs: a source pilotbuild
// understands and the minor it is (or will be released as).
type ControlPlane struct {
	// Source is "pinned", a module version or a checkout (ISTIO_SRC).
	Source string `json:"source"`
	// Version is the Istio minor the build is, "1.32-dev" for master.
	Version string `json:"version"`
	// Note says where Version comes from.
	Note string `json:"note,omitempty"`
}

// ControlPlanes are the builds this machine can make: the pinned module
// and the other istio.io/istio module the Go module proxy serves.
var ControlPlanes = []ControlPlane{
	{Source: "pinned", Version: "1.32-dev", Note: "istio.io/istio master of 2026-08-27, after the 1.31 branch (its VERSION file still says 1.31)"},
	{Source: "v0.0.0-20260423205519-b01690e6db7d", Version: "1.31-dev", Note: "istio.io/istio master of 2026-04-23, before the 1.31 branch (VERSION 1.31)"},
}

// Ingresses are the ingress APIs a cell routes the fixtures through
// (config.Run.Ingress): Istio's Gateway and VirtualService, and the
// Kubernetes Gateway API (a Gateway of class istio, HTTPRoutes, GAMMA).
var Ingresses = []string{"istio", "gateway-api"}

// Cell is one run of the suites and what it gave.
type Cell struct {
	Istio   string `json:"istio"`
	Version string `json:"istioVersion"`
	Envoy   string `json:"envoy"`
	// Proxy is the Istio proxy release the Envoy ships in (declared to
	// pilot as the sidecars' ISTIO_VERSION).
	Proxy   string `json:"proxy"`
	Ingress string `json:"ingress"`
	// Supported is Istio's skew policy for the pair: a proxy may be one
	// minor older than the control plane, never newer.
	Supported    bool    `json:"supported"`
	Passed       int     `json:"passed"`
	Failed       int     `json:"failed"`
	Skipped      int     `json:"skipped"`
	Seconds      float64 `json:"seconds"`
	FirstFailure string  `json:"firstFailure,omitempty"`
	// Error is why the cell did not run to the end (a build that failed,
	// a report that is missing).
	Error string `json:"error,omitempty"`
}

// Name is the cell's file-safe name.
func (c Cell) Name() string {
	src := c.Istio
	if len(src) > 20 {
		src = src[len(src)-12:]
	}
	return strings.NewReplacer("/", "_", "@", "_", ".", "_").Replace(fmt.Sprintf("matrix-%s-envoy%s-%s", src, c.Envoy, c.Ingress))
}

// Passing is true when the cell ran every spec without a failure.
func (c Cell) Passing() bool { return c.Error == "" && c.Failed == 0 && c.Passed > 0 }

// Report is reports/matrix.json.
type Report struct {
	Cells []Cell `json:"cells"`
}

// Supported applies Istio's control plane/data plane skew policy (istio.io,
// Supported releases: the control plane may be one minor ahead of the data
// plane, the data plane never ahead of the control plane) to two versions
// ("1.32-dev", "1.31.0").
func Supported(controlPlane, proxy string) (bool, error) {
	cp, err := minor(controlPlane)
	if err != nil {
		return false, err
	}
	p, err := minor(proxy)
	if err != nil {
		return false, err
	}
	return p <= cp && cp-p <= 1, nil
}

func minor(v string) (int, error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 || parts[0] != "1" {
		return 0, fmt.Errorf("version %q: want 1.N[.P][-dev]", v)
	}
	n, err := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("version %q: %w", v, err)
	}
	return n, nil
}

// Count fills a cell's counts and first failure from a Ginkgo JSON report
// (-ginkgo.json-report).
func (c *Cell) Count(ginkgoJSON string) error {
	b, err := os.ReadFile(ginkgoJSON)
	if err != nil {
		return fmt.Errorf("cell %s: %w", c.Name(), err)
	}
	reports, err := ginkgoreport.Parse(b)
	if err != nil {
		return fmt.Errorf("cell %s: %s: %w", c.Name(), ginkgoJSON, err)
	}
	for _, r := range reports {
		if !r.SuiteSucceeded && c.FirstFailure == "" && len(r.SpecialSuiteFailureReasons) > 0 {
			c.FirstFailure = strings.Join(r.SpecialSuiteFailureReasons, "; ")
		}
		for _, s := range r.SpecReports {
			c.count(s)
		}
	}
	return nil
}

func (c *Cell) count(s types.SpecReport) {
	if !ginkgoreport.Counts(s) {
		return
	}
	switch ginkgoreport.OutcomeOf(s) {
	case ginkgoreport.Failed:
		c.Failed++
		if c.FirstFailure == "" {
			c.FirstFailure = firstLine(s.FullText()+": "+s.Failure.Message, 400)
		}
	case ginkgoreport.Passed:
		c.Passed++
	default:
		c.Skipped++
	}
}

func firstLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// Markdown is the report as a table, cells in the order they ran.
func (r Report) Markdown() string {
	var b strings.Builder
	b.WriteString("| Istio | Envoy (proxy) | ingress | skew | passed | failed | skipped | seconds | first failure |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Cells {
		skew := "supported"
		if !c.Supported {
			skew = "outside Istio's skew"
		}
		fail := c.FirstFailure
		if c.Error != "" {
			fail = "did not run: " + c.Error
		}
		fmt.Fprintf(&b, "| %s (%s) | %s (%s) | %s | %s | %d | %d | %d | %.0f | %s |\n", c.Istio, c.Version, c.Envoy, c.Proxy, c.Ingress, skew,
			c.Passed, c.Failed, c.Skipped, c.Seconds, strings.ReplaceAll(fail, "|", "\\|"))
	}
	return b.String()
}
