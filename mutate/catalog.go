package mutate

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/meshcheck/meshcheck/checks"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/internal/strictyaml"
)

// Kinds of mutation (issue 16): configuration mutations are applied to a
// copy of a fixture (Apply); interception mutations run the fixture
// unchanged with istio-iptables' configuration changed for some pods
// (Changes); control-plane ones are applied to a copy of the pinned Istio
// (PatchedSource); version-skew ones by the Envoy the proxies run and the
// Istio release they declare.
const (
	Configuration = "configuration"
	Interception  = "interception"
	ControlPlane  = "control-plane"
	VersionSkew   = "version-skew"
)

var kinds = []string{Configuration, Interception, ControlPlane, VersionSkew}

// Sync is the mesh's readiness check: every proxy ACKed the control
// plane's current push, and a NACK fails it at once with Envoy's words
// (meshcheck run's setup; the suites' BeforeSuite). It catches what the
// proxies reject before any expect.yaml check can run.
const Sync checks.Kind = "sync"

var checkKinds = []checks.Kind{checks.Routes, checks.Splits, checks.Paths, checks.Interception, Sync}

// Mutation is one catalog entry.
type Mutation struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Story is how it happens in real life, in one line.
	Story string `yaml:"story"`
	// Issue is a real Istio or Envoy issue ("istio/istio#NNNN"), when one
	// is known for sure.
	Issue string `yaml:"issue"`
	// Fixture is the bundled fixture whose folder is copied and patched.
	Fixture string `yaml:"fixture"`
	// File is the file of that folder the patch changes.
	File string `yaml:"file"`
	// Replace are textual edits applied in order; each Old must occur
	// exactly once in the file at that point.
	Replace []Replace `yaml:"replace"`
	// CaughtBy are the kinds of check that must catch it.
	CaughtBy []checks.Kind `yaml:"caughtBy"`
	// Words must all be in a catching check's failure message.
	Words []string `yaml:"words"`
	// IngressTargetPort, when not 0, is the targetPort the embedded
	// backend's gateway Service gives its port 80 (the object no fixture
	// file declares); a configuration mutation with it needs no file.
	IngressTargetPort int32 `yaml:"ingressTargetPort"`
	// Interception, for an interception mutation, is the change to
	// istio-iptables' configuration of the fixture's pods it selects.
	Interception *PodChange `yaml:"interception"`
	// Patch is a control-plane mutation's unified diff against the pinned
	// istio.io/istio module, relative to mutate/ (patches/NAME.diff).
	Patch string `yaml:"patch"`
	// Envoy is the Envoy release a version-skew mutation's proxies run
	// and ProxyVersion the Istio proxy release they declare to pilot.
	Envoy        string `yaml:"envoy"`
	ProxyVersion string `yaml:"proxyVersion"`
	// Specs are the suite specs (name prefixes, "whoami-90-10"; "suite"
	// for the suite's setup) that count as catching a control-plane or
	// version-skew mutation: the suites run against its mesh too, and one
	// of these must fail with every one of SpecWords in its failure.
	Specs     []string `yaml:"specs"`
	SpecWords []string `yaml:"specWords"`
	// Pending says why the entry is not applied yet (it is reported as a
	// miss saying so).
	Pending string `yaml:"pending"`
	line    int
}

// PodChange selects pods and changes istio-iptables' configuration for
// them.
type PodChange struct {
	// Pod is NAMESPACE/PREFIX of the pods changed.
	Pod string `yaml:"pod"`
	// Set are FIELD=VALUE changes of istio-iptables' configuration, by
	// the field's JSON name (istio.Change).
	Set []string `yaml:"set"`
}

// Changes parses Set.
func (in *PodChange) Changes() ([]istio.Change, error) {
	var out []istio.Change
	for i, s := range in.Set {
		c, err := istio.ParseChange(s)
		if err != nil {
			return nil, fmt.Errorf("interception.set[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Replace is one textual edit.
type Replace struct {
	Old string `yaml:"old"`
	New string `yaml:"new"`
}

// Line is the entry's line in the catalog file.
func (m *Mutation) Line() int { return m.line }

// SetLine implements strictyaml's line hook.
func (m *Mutation) SetLine(line int) error {
	m.line = line
	return nil
}

type catalogFile struct {
	Mutations []Mutation `yaml:"mutations"`
}

//go:embed catalog.yaml
var catalogYAML []byte

// CatalogFile is the name errors give the embedded catalog.
const CatalogFile = "mutate/catalog.yaml"

// Default returns the embedded catalog.
func Default() ([]Mutation, error) { return Load(catalogYAML, CatalogFile) }

// Load reads a catalog strictly: an unknown field, a missing field, an
// unknown kind or check kind, or a name used twice is an error naming the
// file and line.
func Load(data []byte, file string) ([]Mutation, error) {
	var c catalogFile
	if err := strictyaml.DecodeDocument(data, &c, "catalog"); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, strictyaml.LineOf(err), err)
	}
	seen := map[string]bool{}
	for i := range c.Mutations {
		m := &c.Mutations[i]
		if err := m.validate(seen); err != nil {
			return nil, fmt.Errorf("%s:%d: mutations[%d]: %w", file, m.line, i, err)
		}
	}
	return c.Mutations, nil
}

// ErrBadEntry is wrapped by every validation error of an entry.
var ErrBadEntry = errors.New("bad catalog entry")

func (m *Mutation) validate(seen map[string]bool) error {
	missing := []struct{ field, value string }{{"name", m.Name}, {"kind", m.Kind}, {"story", m.Story}}
	for _, f := range missing {
		if strings.TrimSpace(f.value) == "" {
			return fmt.Errorf("%w: %s is empty", ErrBadEntry, f.field)
		}
	}
	if seen[m.Name] {
		return fmt.Errorf("%w: name %q is used twice", ErrBadEntry, m.Name)
	}
	seen[m.Name] = true
	if !slices.Contains(kinds, m.Kind) {
		return fmt.Errorf("%w: kind %q (one of %s)", ErrBadEntry, m.Kind, strings.Join(kinds, ", "))
	}
	for _, k := range m.CaughtBy {
		if !slices.Contains(checkKinds, k) {
			return fmt.Errorf("%w: caughtBy %q (one of routes, splits, paths, interception, sync)", ErrBadEntry, k)
		}
	}
	if m.Pending != "" {
		return nil
	}
	check, ok := kindChecks[m.Kind]
	if !ok {
		return fmt.Errorf("%w: a %s mutation is not applied yet: say why in pending", ErrBadEntry, m.Kind)
	}
	if err := check(m); err != nil {
		return err
	}
	if len(m.CaughtBy) == 0 || len(m.Words) == 0 {
		return fmt.Errorf("%w: a %s mutation needs caughtBy and words", ErrBadEntry, m.Kind)
	}
	return nil
}

// kindChecks validate what each kind of mutation that runs needs; a
// field another kind uses is an error.
var kindChecks = map[string]func(m *Mutation) error{
	Configuration: func(m *Mutation) error {
		edits := m.File != "" && len(m.Replace) > 0
		if m.Fixture == "" || (!edits && m.IngressTargetPort == 0) {
			return fmt.Errorf("%w: a configuration mutation needs fixture, file and replace (or ingressTargetPort), caughtBy and words", ErrBadEntry)
		}
		return only("configuration", m.Patch == "" && m.Envoy == "" && m.ProxyVersion == "" && len(m.Specs) == 0 && m.Interception == nil,
			"patch, envoy, proxyVersion, specs, interception")
	},
	Interception: (*Mutation).validateInterception,
	ControlPlane: func(m *Mutation) error {
		if m.Patch == "" || len(m.Specs) == 0 {
			return fmt.Errorf("%w: a control-plane mutation needs patch and specs", ErrBadEntry)
		}
		if err := only("control-plane", m.noFixture() && m.Envoy == "" && m.ProxyVersion == "", "fixture, file, replace, envoy, proxyVersion"); err != nil {
			return err
		}
		diff, err := Patch(*m)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadEntry, err)
		}
		if _, err := ParsePatch(diff, PatchDir+"/"+m.Patch); err != nil {
			return fmt.Errorf("%w: %w", ErrBadEntry, err)
		}
		return nil
	},
	VersionSkew: func(m *Mutation) error {
		if m.Envoy == "" || m.ProxyVersion == "" || len(m.Specs) == 0 {
			return fmt.Errorf("%w: a version-skew mutation needs envoy, proxyVersion and specs", ErrBadEntry)
		}
		return only("version-skew", m.noFixture() && m.Patch == "", "fixture, file, replace, patch")
	},
}

func (m *Mutation) noFixture() bool {
	return m.Fixture == "" && m.File == "" && len(m.Replace) == 0 && m.IngressTargetPort == 0 && m.Interception == nil
}

func only(kind string, ok bool, fields string) error {
	if !ok {
		return fmt.Errorf("%w: a %s mutation takes none of %s", ErrBadEntry, kind, fields)
	}
	return nil
}

func (m *Mutation) validateInterception() error {
	in := m.Interception
	if m.Fixture == "" || in == nil || in.Pod == "" || len(in.Set) == 0 || len(m.CaughtBy) == 0 || len(m.Words) == 0 {
		return fmt.Errorf("%w: an interception mutation needs fixture, interception (pod, set), caughtBy and words", ErrBadEntry)
	}
	if m.File != "" || len(m.Replace) > 0 {
		return fmt.Errorf("%w: an interception mutation runs its fixture unchanged: no file or replace", ErrBadEntry)
	}
	if _, err := in.Changes(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadEntry, err)
	}
	return only("interception", m.Patch == "" && m.Envoy == "" && m.ProxyVersion == "" && len(m.Specs) == 0 && m.IngressTargetPort == 0,
		"patch, envoy, proxyVersion, specs, ingressTargetPort")
}
