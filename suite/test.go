package suite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Test is one case: one Go file plus its manifest(s), registered in one
// list (suites/tests.All).
type Test struct {
	// ShortName is the test's name in kebab case; its Go file and its
	// manifest are named after it.
	ShortName string
	// Description says what the test proves, in a sentence.
	Description string
	// Features are what the backend must offer; without one the test is
	// skipped, the feature named.
	Features []backend.Feature
	// Fixtures are the base fixtures the test relies on; those with a Step
	// are stepped before it and put back after it.
	Fixtures []Fixture
	// Manifests are the test's own YAML files (Istio configuration),
	// paths inside Suite.TestData, rendered in Namespace ({{ .Namespace }}),
	// applied before the test and deleted after it.
	Manifests []string
	// Namespace is the namespace the manifests are rendered in.
	Namespace string
	// Vars are fixture variables the test is written for, such as
	// {"ingress": "istio"} for a test that reads istio-ingressgateway's
	// config or applies a VirtualService on its Gateway; a run whose
	// backend hands the fixtures another value skips it, the variable
	// named (a run that hands none takes the fixtures' defaults).
	Vars map[string]string
	// Labels are extra labels to select the test by (the fixtures' names
	// and the features are labels already).
	Labels []string
	// Test runs the checks. It reports failures through the test
	// framework that drives it (Gomega in package suites).
	Test func(ctx context.Context, s *Suite)
}

// SkipReason is why t cannot run on this backend, or "".
func (s *Suite) SkipReason(t Test) string {
	if r := s.varsSkip(t); r != "" {
		return r
	}
	missing := backend.Missing(s.Backend, t.Features)
	if len(missing) == 0 {
		return ""
	}
	names := make([]string, len(missing))
	for i, f := range missing {
		names[i] = string(f)
	}
	return fmt.Sprintf("the %s backend lacks feature %s (it has %v)", s.Backend.Name(), strings.Join(names, ", "), s.Backend.Features())
}

// Setup applies t's fixture steps and manifests and waits until the mesh is
// ready. The restore it returns, also with an error, puts the previous
// state back: manifests deleted, steps undone (in reverse order), then the
// mesh ready again. Call it whatever the test's outcome.
func (s *Suite) Setup(ctx context.Context, t Test) (restore func(context.Context) error, err error) {
	var undos []func(context.Context) error
	restore = func(ctx context.Context) error {
		var errs []error
		for i := len(undos) - 1; i >= 0; i-- {
			errs = append(errs, undos[i](ctx))
		}
		if len(undos) > 0 {
			errs = append(errs, s.Backend.WaitReady(ctx))
		}
		undos, s.testing = nil, nil
		return errors.Join(errs...)
	}
	s.testing = t.Fixtures
	for _, f := range t.Fixtures {
		undo, err := s.step(ctx, f)
		if undo != nil {
			undos = append(undos, undo)
		}
		if err != nil {
			return restore, fmt.Errorf("test %s: %w", t.ShortName, err)
		}
	}
	for _, m := range t.Manifests {
		undo, err := s.manifest(ctx, t, m)
		if undo != nil {
			undos = append(undos, undo)
		}
		if err != nil {
			return restore, fmt.Errorf("test %s: %w", t.ShortName, err)
		}
	}
	if len(undos) > 0 {
		if err := s.Backend.WaitReady(ctx); err != nil {
			return restore, fmt.Errorf("test %s: after its fixtures and manifests: %w", t.ShortName, err)
		}
	}
	return restore, nil
}

// LoadManifest renders one of a test's manifests.
func (s *Suite) LoadManifest(t Test, file string) (*fixtures.Set, error) {
	if s.TestData == "" {
		return nil, fmt.Errorf("suite: manifest %s: no test data directory (Options.TestData)", file)
	}
	ns := t.Namespace
	if ns == "" {
		ns = "default"
	}
	ns = s.NS(ns)
	set, err := fixtures.LoadManifest(os.DirFS(s.TestData), file, fixtures.Options{Namespace: ns, NamespaceOf: s.NS, HostOf: s.Host})
	if err != nil {
		return nil, fmt.Errorf("suite: manifest %s (in %s): %w", file, s.TestData, err)
	}
	if kube := set.KubeObjects(); len(kube) > 0 {
		var names []string
		for _, d := range set.Documents {
			if !strings.Contains(d.APIVersion, "istio.io/") {
				names = append(names, fmt.Sprintf("%s %s/%s (line %d)", d.Kind, d.Namespace, d.Name, d.Source.Line))
			}
		}
		return nil, fmt.Errorf("suite: manifest %s (in %s) holds Kubernetes objects %v: backends delete only Istio configuration after a test, so workloads belong in a fixture", file, s.TestData, names)
	}
	return set, nil
}

// manifest applies one of t's manifests; undo deletes it.
func (s *Suite) manifest(ctx context.Context, t Test, file string) (undo func(context.Context) error, err error) {
	set, err := s.LoadManifest(t, file)
	if err != nil {
		return nil, err
	}
	undo = func(ctx context.Context) error {
		if err := s.Backend.Delete(ctx, set); err != nil {
			return fmt.Errorf("suite: deleting manifest %s: %w", file, err)
		}
		return nil
	}
	if err := s.Backend.Apply(ctx, set); err != nil {
		return undo, fmt.Errorf("suite: applying manifest %s: %w", file, err)
	}
	return undo, nil
}

// varsSkip is why t's fixture variables do not hold in this run, or "".
func (s *Suite) varsSkip(t Test) string {
	run := s.Backend.FixtureVars()
	for _, k := range slices.Sorted(maps.Keys(t.Vars)) {
		if got, ok := run[k]; ok && got != t.Vars[k] {
			return fmt.Sprintf("written for the fixtures' %s=%s; this run's is %s=%s", k, t.Vars[k], k, got)
		}
	}
	return ""
}
