package suites

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/open"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/suite"
	"github.com/meshcheck/meshcheck/suites/tests"
	"github.com/meshcheck/meshcheck/timeouts"
)

func TestSuites(t *testing.T) {
	if os.Getenv("MESHCHECK_E2E") == "" {
		t.Skip("the suites bring up a mesh: run them with make e2e-local (MESHCHECK_E2E=1)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "meshcheck suites")
}

// Every test of tests.All becomes a spec; the suite they share is made in
// BeforeSuite and lives in this closure, not in a package variable.
var _ = specs(tests.All())

func specs(all []suite.Test) bool {
	var s *suite.Suite
	var prog *progress.Progress
	BeforeSuite(func(ctx SpecContext) {
		var closeProgress func() error
		var err error
		prog, closeProgress, err = progress.FromEnv(os.Getenv)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closeProgress)
		s = upSuite(progress.WithContext(ctx, prog))
	}, NodeTimeout(20*time.Minute))
	Describe("meshcheck", func() {
		for _, t := range all {
			It(t.ShortName+": "+t.Description, Label(labels(t)...), func(ctx SpecContext) {
				phase := prog.Start("suite " + t.ShortName)
				DeferCleanup(func() { phase.Done(specError()) })
				run(ctx, s, t)
			})
		}
	})
	return true
}

// specError is the running spec's failure (or skip) as an error, nil when
// it passed.
func specError() error {
	r := CurrentSpecReport()
	switch {
	case r.State == types.SpecStateSkipped:
		return &progress.Skip{Why: r.FailureMessage()}
	case r.Failed():
		return errors.New(r.FailureMessage())
	}
	return nil
}

// newBackend builds the backend the environment names (MESHCHECK_BACKEND:
// embedded, the default, or kind with its MESHCHECK_* variables).
func newBackend(ctx context.Context) (backend.Backend, config.Run, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, cfg, err
	}
	if cfg.ReportDir == "" {
		cfg.ReportDir = filepath.Join("..", "reports")
	}
	GinkgoWriter.Printf("run configuration: %s\n", cfg)
	b, err := open.New(ctx, cfg, GinkgoWriter)
	return b, cfg, err
}

// upSuite brings the mesh up with the base fixtures; a failed or
// interrupted setup leaves its evidence and is torn down.
func upSuite(ctx context.Context) *suite.Suite {
	tmo := timeouts.Default()
	b, cfg, err := newBackend(ctx)
	Expect(err).NotTo(HaveOccurred())
	s, err := suite.New(suite.Options{Backend: b, Timeouts: tmo, Reports: cfg.ReportDir, TestData: filepath.Join("tests", "testdata"), Log: GinkgoWriter,
		Record: func(name string, v any) { AddReportEntry(name, v, ReportEntryVisibilityNever) }})
	Expect(err).NotTo(HaveOccurred())
	// Registered before Up: Down is safe on a half-started mesh and on an
	// interrupt.
	DeferCleanup(func(ctx SpecContext) { Expect(s.Down(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	setupOK := false
	DeferCleanup(func(ctx SpecContext) {
		if !setupOK {
			_ = s.CollectEvidence(ctx, s.EvidenceDir("setup"))
		}
	}, NodeTimeout(5*time.Minute))
	err = s.Up(ctx)
	if e, ok := b.(*embedded.Backend); ok && e.RunID() != "" {
		GinkgoWriter.Printf("mesh run id: %s\n", e.RunID())
	}
	Expect(err).NotTo(HaveOccurred())
	setupOK = true
	GinkgoWriter.Printf("mesh with all fixtures up and converged in %.2fs (%s backend: %s; features %v)\n",
		s.Report.MeshUpSeconds, b.Name(), s.Versions, s.Report.Features)
	return s
}

// run runs one test: skipped when the backend lacks a feature it needs;
// else its fixtures and manifests are applied, and after it (passed,
// failed or interrupted) a failure's evidence is written, then the
// previous state is restored.
func run(ctx SpecContext, s *suite.Suite, t suite.Test) {
	if why := s.SkipReason(t); why != "" {
		Skip(why)
	}
	restore, err := s.Setup(ctx, t)
	DeferCleanup(func(ctx SpecContext) {
		if r := CurrentSpecReport(); r.Failed() {
			failure := r.FailureMessage() + "\n\n" + r.FailureLocation().String()
			if err := s.Failed(ctx, r.FullText(), failure); err != nil {
				GinkgoWriter.Printf("evidence: %v\n", err)
			}
		}
		Expect(restore(ctx)).To(Succeed(), "restoring the mesh after %s", t.ShortName)
	}, NodeTimeout(5*time.Minute))
	Expect(err).NotTo(HaveOccurred())
	t.Test(ctx, s)
}

// labels select a test: its short name, its fixtures' names, its features
// (under the names LABELS has always used) and its own labels.
func labels(t suite.Test) []string {
	names := map[backend.Feature]string{
		backend.FeatureInterceptionRules: "iptables",
		backend.FeatureAccessLogs:        "accesslog",
		backend.FeatureMultiNode:         "multinode",
	}
	out := []string{t.ShortName}
	for _, f := range t.Fixtures {
		out = append(out, f.Name)
	}
	for _, f := range t.Features {
		if n, ok := names[f]; ok {
			out = append(out, n)
		} else {
			out = append(out, string(f))
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(append(out, t.Labels...))))
}
