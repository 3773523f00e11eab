package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/timeouts"
)

// The VM the suite starts where the backend has FeatureVM: the vm
// fixture's WorkloadEntry names it, and every fixture declaring the
// variable VMAddressVar gets its address.
const (
	VMNamespace  = "vm"
	VMName       = "vm1"
	VMAddressVar = "vmAddress"
)

// HostVar is the fixture variable naming the host a fixture serves on the
// ingress; where the run has hosts of its own (Suite.Host), the suite sets
// it to the fixture's default host (NAME.example.com for "*") made the
// run's.
const HostVar = "host"

// fixtureHost is a fixture's host before Suite.Host: its default, or
// NAME.example.com where the default is every host.
func fixtureHost(name, def string) string {
	if def == "" || def == "*" {
		return name + ".example.com"
	}
	return def
}

// DefaultFixtures are the base fixtures Up applies when Options.Fixtures is
// empty: Bookinfo, whoami at 90/10 and the VM migration at 100/0.
func DefaultFixtures() []Fixture {
	return []Fixture{{Name: "bookinfo"}, {Name: "whoami", Step: "90-10"}, {Name: "vm", Step: "100-0"}}
}

// defaultsFor is DefaultFixtures without those that need a VM's address
// (VMAddressVar) where the backend has no VM (a cluster alone): the tests
// on them declare FeatureVM and are skipped.
func defaultsFor(b backend.Backend, c *fixtures.Catalog, log io.Writer) []Fixture {
	if backend.Has(b, backend.FeatureVM) {
		return DefaultFixtures()
	}
	var out []Fixture
	for _, f := range DefaultFixtures() {
		fx, err := c.Get(f.Name)
		if err == nil && slices.ContainsFunc(fx.Vars, func(v fixtures.Var) bool { return v.Name == VMAddressVar }) {
			fmt.Fprintf(log, "suite: base fixture %s left out: it needs a VM (%s) and the %s backend has none\n", f, VMAddressVar, b.Name())
			continue
		}
		out = append(out, f)
	}
	return out
}

// Options configure a Suite.
type Options struct {
	// Backend runs the mesh (required).
	Backend backend.Backend
	// Timeouts bound the suite's waits (zero fields take the defaults).
	Timeouts timeouts.Timeouts
	// Reports is the directory of the report and the evidence (required).
	Reports string
	// TestData is the directory the tests' manifests, goldens and expect
	// specs are read from (Test.Manifests are paths inside it).
	TestData string
	// Fixtures are the base fixtures Up applies, in order
	// (DefaultFixtures when empty).
	Fixtures []Fixture
	// Catalog is where fixtures are read from (nil: the fixtures embedded
	// in the binary, fixtures.Default; fixtures.NewCatalog reads folders).
	Catalog *fixtures.Catalog
	// Log receives progress lines (nil: discarded).
	Log io.Writer
	// Record receives the results a test hands to Suite.Record (the
	// Ginkgo driver adds them to the spec's report entries; nil: dropped).
	Record func(name string, value any)
}

// Suite is a mesh under test and what the tests need to act on it.
type Suite struct {
	Backend  backend.Backend
	Versions backend.Versions
	Timeouts timeouts.Timeouts
	// Reports is where Report and the evidence are written.
	Reports string
	// TestData is the tests' data directory (Options.TestData).
	TestData string
	Log      io.Writer
	// VM is the workload StartVM started (zero without FeatureVM).
	VM backend.Workload
	// Mark is the access-log mark taken once the mesh was up: evidence
	// holds every proxy's log since it.
	Mark   backend.Mark
	Report Report

	catalog *fixtures.Catalog
	record  func(name string, value any)
	base    []Fixture
	state   map[string]string // base fixture name -> the step applied now
	testing []Fixture         // the fixtures of the test set up now, until its restore
}

// Report is what a run writes to <Reports>/e2e-<backend>.timing.json.
type Report struct {
	Backend  string            `json:"backend"`
	Versions backend.Versions  `json:"versions"`
	Features []backend.Feature `json:"features"`
	// MeshUpSeconds is the time from Up's start to every base fixture
	// applied and the mesh ready.
	MeshUpSeconds float64 `json:"meshUpSeconds"`
}

// New checks opts and returns a Suite; Up brings its mesh up.
func New(opts Options) (*Suite, error) {
	if opts.Backend == nil {
		return nil, errors.New("suite: no backend (Options.Backend)")
	}
	if opts.Reports == "" {
		return nil, errors.New("suite: no reports directory (Options.Reports)")
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	if opts.Catalog == nil {
		c, err := fixtures.Default()
		if err != nil {
			return nil, fmt.Errorf("suite: %w", err)
		}
		opts.Catalog = c
	}
	if len(opts.Fixtures) == 0 {
		opts.Fixtures = defaultsFor(opts.Backend, opts.Catalog, log)
	}
	return &Suite{
		Backend: opts.Backend, Timeouts: opts.Timeouts.WithDefaults(), Reports: opts.Reports, TestData: opts.TestData,
		Log: log, catalog: opts.Catalog, record: opts.Record, base: opts.Fixtures, state: map[string]string{},
	}, nil
}

// Logf writes a progress line to the suite's log.
func (s *Suite) Logf(format string, args ...any) {
	fmt.Fprintf(s.Log, format+"\n", args...)
}

// Up brings the mesh up: the backend, the VM where the backend has one,
// every base fixture, then waits until it is ready (the VM, the fixtures
// and the convergence each a phase of the progress ctx carries), asks the versions,
// takes the log mark and writes the report (Report.MeshUpSeconds says how
// long it took). After a failed Up, collect
// evidence and call Down: Down is safe on a half-started mesh.
func (s *Suite) Up(ctx context.Context) error {
	start := time.Now()
	if err := os.MkdirAll(s.Reports, 0o755); err != nil {
		return fmt.Errorf("suite: %w", err)
	}
	b := s.Backend
	if err := b.Up(ctx); err != nil {
		return fmt.Errorf("suite: %s backend up: %w", b.Name(), err)
	}
	if backend.Has(b, backend.FeatureVM) {
		err := progress.Step(ctx, "VM", func() (err error) {
			s.VM, err = b.StartVM(ctx, VMNamespace, VMName)
			return err
		})
		if err != nil {
			return fmt.Errorf("suite: VM %s/%s: %w", VMNamespace, VMName, err)
		}
	}
	err := progress.Step(ctx, "fixtures", func() error {
		for _, f := range s.base {
			if err := s.apply(ctx, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := progress.Step(ctx, "convergence", func() error { return b.WaitReady(ctx) }); err != nil {
		return fmt.Errorf("suite: waiting for the base fixtures: %w", err)
	}
	up := time.Since(start)
	v, err := b.Versions(ctx)
	if err != nil {
		return fmt.Errorf("suite: versions under test: %w", err)
	}
	s.Versions = v
	if s.Mark, err = b.Mark(ctx); err != nil {
		return fmt.Errorf("suite: access-log mark: %w", err)
	}
	s.Report = Report{Backend: b.Name(), Versions: v, Features: b.Features(), MeshUpSeconds: up.Seconds()}
	return WriteJSON(filepath.Join(s.Reports, "e2e-"+b.Name()+".timing.json"), s.Report)
}

// Down tears the mesh down (safe after a failed Up, and more than once).
func (s *Suite) Down(ctx context.Context) error {
	return s.Backend.Down(ctx)
}
