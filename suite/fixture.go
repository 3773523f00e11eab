package suite

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Fixture names a fixture and, optionally, one of its steps.
type Fixture struct {
	Name string
	// Step is the step to apply; empty means the fixture as the suite
	// holds it (a test that only needs it says so).
	Step string
}

func (f Fixture) String() string {
	if f.Step == "" {
		return f.Name
	}
	return f.Name + "@" + f.Step
}

// Load renders a fixture, or one of its steps, with the backend's
// variables (each fixture takes those it declares) and the VM's address
// where the fixture declares VMAddressVar.
func (s *Suite) Load(name, step string) (*fixtures.Set, error) {
	f, err := s.catalog.Get(name)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	opts := fixtures.Options{Namespace: s.NS(f.Namespace), Step: step, Vars: map[string]string{}}
	vars := s.Backend.FixtureVars()
	for _, v := range f.Vars {
		if val, ok := vars[v.Name]; ok {
			opts.Vars[v.Name] = val
		}
		if v.Name == HostVar && s.Host("x") != "x" {
			opts.Vars[v.Name] = s.Host(fixtureHost(f.Name, v.Default))
		}
		if v.Name == VMAddressVar {
			if s.VM.IP == "" {
				return nil, fmt.Errorf("suite: fixture %s needs a VM's address (%s) and the %s backend started none: %w",
					name, VMAddressVar, s.Backend.Name(), backend.Unsupported(s.Backend.Name(), backend.FeatureVM))
			}
			opts.Vars[v.Name] = s.VM.IP
		}
	}
	set, err := s.catalog.Load(name, opts)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	return set, nil
}

// apply loads and applies a fixture (or step) and records it as the
// fixture's state.
func (s *Suite) apply(ctx context.Context, f Fixture) error {
	set, err := s.Load(f.Name, f.Step)
	if err != nil {
		return err
	}
	if err := s.Backend.Apply(ctx, set); err != nil {
		return fmt.Errorf("suite: apply %s: %w", f, err)
	}
	s.state[f.Name] = f.Step
	return nil
}

// step applies a base fixture's step for a test; the undo it returns
// applies the step the fixture had before and deletes the Istio
// configuration the test's step added that the previous one lacks.
func (s *Suite) step(ctx context.Context, f Fixture) (undo func(context.Context) error, err error) {
	prev, ok := s.state[f.Name]
	if !ok {
		return nil, fmt.Errorf("suite: fixture %s is not one of the suite's base fixtures %v: a test steps base fixtures only", f.Name, s.base)
	}
	if f.Step == "" || f.Step == prev {
		return nil, nil
	}
	set, err := s.Load(f.Name, f.Step)
	if err != nil {
		return nil, err
	}
	undo = func(ctx context.Context) error {
		before, err := s.Load(f.Name, prev)
		if err != nil {
			return err
		}
		if err := s.Backend.Apply(ctx, before); err != nil {
			return fmt.Errorf("suite: restoring %s: %w", Fixture{f.Name, prev}, err)
		}
		s.state[f.Name] = prev
		if extra := configsNotIn(set, before); len(extra.Configs)+len(extra.Gateways)+len(extra.HTTPRoutes) > 0 {
			if err := s.Backend.Delete(ctx, extra); err != nil {
				return fmt.Errorf("suite: restoring %s: deleting what %s added: %w", Fixture{f.Name, prev}, f, err)
			}
		}
		return nil
	}
	if err := s.Backend.Apply(ctx, set); err != nil {
		return undo, fmt.Errorf("suite: apply %s: %w", f, err)
	}
	s.state[f.Name] = f.Step
	return undo, nil
}

// configsNotIn is the part of set's Istio configuration that other does
// not hold (by kind, namespace and name), with its documents.
func configsNotIn(set, other *fixtures.Set) *fixtures.Set {
	out := &fixtures.Set{Fixture: set.Fixture, Step: set.Step, Namespace: set.Namespace, Domain: set.Domain}
	has := func(kind, ns, name string) bool {
		return slices.ContainsFunc(other.Configs, func(c *fixtures.Config) bool {
			return c.Kind == kind && c.Namespace == ns && c.Name == name
		})
	}
	for _, c := range set.Configs {
		if !has(c.Kind, c.Namespace, c.Name) {
			out.Configs = append(out.Configs, c)
		}
	}
	// Gateway API routing is configuration too (an HTTPRoute a step adds).
	out.Gateways = notIn(set.Gateways, other.Gateways)
	out.HTTPRoutes = notIn(set.HTTPRoutes, other.HTTPRoutes)
	for _, d := range set.Documents {
		if slices.ContainsFunc(out.Configs, func(c *fixtures.Config) bool {
			return c.Kind == d.Kind && c.Namespace == d.Namespace && c.Name == d.Name
		}) || holds(out.Gateways, d) || holds(out.HTTPRoutes, d) {
			out.Documents = append(out.Documents, d)
		}
	}
	return out
}

// notIn is the objects of list that other lacks, by namespace and name.
func notIn[T metav1.Object](list, other []T) []T {
	var out []T
	for _, o := range list {
		if !slices.ContainsFunc(other, func(p T) bool { return p.GetNamespace() == o.GetNamespace() && p.GetName() == o.GetName() }) {
			out = append(out, o)
		}
	}
	return out
}

// holds says whether list has the object document d renders.
func holds[T interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}](list []T, d fixtures.Document) bool {
	return slices.ContainsFunc(list, func(o T) bool {
		return o.GetNamespace() == d.Namespace && o.GetName() == d.Name && d.Kind == o.GetObjectKind().GroupVersionKind().Kind
	})
}
