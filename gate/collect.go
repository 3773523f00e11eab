package gate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/open"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/suite"
	"github.com/meshcheck/meshcheck/timeouts"
)

// Checker runs a side's checks at one step of its mesh (the fixtures'
// expect.yaml); it may be nil.
type Checker func(ctx context.Context, s *suite.Suite, step suite.Fixture) ([]Check, error)

// CollectOptions say how one side is brought up and walked.
type CollectOptions struct {
	// Config is the side's run configuration; Collect sets its Istio
	// source and report folder. Its backend is the embedded mesh (the
	// source's control plane built in process) unless it names kind (the
	// side's images, Local.IstioHub and IstioTag, on a fresh cluster).
	Config config.Run
	// Catalog holds the fixtures (nil: the bundled ones); Fixtures are the
	// base fixtures (nil: suite.DefaultFixtures).
	Catalog  *fixtures.Catalog
	Fixtures []suite.Fixture
	Timeouts timeouts.Timeouts
	// Reports is the side's folder (its suite report and evidence).
	Reports string
	Checks  Checker
	Log     io.Writer
}

// StepBase names the mesh with every base fixture at its first step.
const StepBase = "base"

// Collect brings up one side's mesh (by default the embedded backend with
// the source's control plane), and at the base state and at every other step
// of every base fixture (applied alone, then restored) records every
// proxy's config dump and the checks' outcomes.
func Collect(ctx context.Context, source string, o CollectOptions) (side Side, err error) {
	cfg := o.Config
	cfg.Istio.Source, cfg.ReportDir = source, o.Reports
	if cfg.Backend == "" {
		cfg.Backend = config.Embedded
	}
	b, err := open.New(ctx, cfg, o.Log)
	if err != nil {
		return Side{}, err
	}
	s, err := suite.New(suite.Options{Backend: b, Timeouts: o.Timeouts, Reports: o.Reports, Fixtures: o.Fixtures, Catalog: o.Catalog, Log: o.Log})
	if err != nil {
		return Side{}, err
	}
	defer func() {
		if derr := s.Down(context.WithoutCancel(ctx)); derr != nil && err == nil {
			err = derr
		}
	}()
	if err := s.Up(ctx); err != nil {
		return Side{}, fmt.Errorf("%s: %w", source, err)
	}
	side = Side{Source: source, Istio: s.Versions.String()}
	if err := side.record(ctx, s, StepBase, suite.Fixture{}, o.Checks); err != nil {
		return side, err
	}
	for _, st := range otherSteps(s) {
		restore, err := s.Setup(ctx, suite.Test{ShortName: "gate-" + st.Name + "-" + st.Step, Fixtures: []suite.Fixture{st}})
		if err != nil {
			return side, fmt.Errorf("%s: step %s: %w", source, st, err)
		}
		rerr := side.record(ctx, s, st.String(), st, o.Checks)
		if err := restore(ctx); err != nil {
			return side, fmt.Errorf("%s: restore after %s: %w", source, st, err)
		}
		if rerr != nil {
			return side, rerr
		}
	}
	return side, nil
}

// otherSteps are the steps of the base fixtures other than the one each
// is at in the base state, in fixture then step order.
func otherSteps(s *suite.Suite) []suite.Fixture {
	var out []suite.Fixture
	for _, base := range s.BaseFixtures() {
		f, err := s.Catalog().Get(base.Name)
		if err != nil {
			continue
		}
		for _, step := range f.StepNames() {
			if step != base.Step {
				out = append(out, suite.Fixture{Name: base.Name, Step: step})
			}
		}
	}
	return out
}

// record keeps every proxy's config dump and the checks at a step.
func (side *Side) record(ctx context.Context, s *suite.Suite, step string, st suite.Fixture, checks Checker) error {
	proxies, err := s.Backend.Proxies(ctx)
	if err != nil {
		return err
	}
	sort.Slice(proxies, func(i, j int) bool { return proxies[i].String() < proxies[j].String() })
	var vips map[string]string
	if backend.Has(s.Backend, backend.FeatureServiceVIPs) {
		if vips, err = s.Backend.ServiceVIPs(ctx); err != nil {
			return fmt.Errorf("step %s: service VIPs: %w", step, err)
		}
	}
	seen := map[string]int{}
	var renames []string
	for _, p := range proxies {
		b, err := s.Backend.ConfigDump(ctx, p)
		if err != nil {
			return fmt.Errorf("step %s: config dump of %s: %w", step, p, err)
		}
		key := proxyKey(p)
		if seen[key]++; seen[key] > 1 {
			key = fmt.Sprintf("%s#%d", key, seen[key])
		}
		side.Dumps = append(side.Dumps, Dump{Proxy: key, Step: step, JSON: b, RenameIPs: vips})
		renames = append(renames, p.String(), key)
	}
	if checks == nil {
		return nil
	}
	cs, err := checks(ctx, s, st)
	if err != nil {
		return fmt.Errorf("step %s: checks: %w", step, err)
	}
	// Checks name the pods they looked at: by their keys, as the dumps.
	pods := strings.NewReplacer(renames...)
	for _, c := range cs {
		c.Name = step + ": " + pods.Replace(c.Name)
		side.Checks = append(side.Checks, c)
	}
	return nil
}

// proxyKey names a proxy alike on both sides: a Deployment's pod by its
// Deployment (the name without the pod-template-hash and the suffix its
// ReplicaSet gave it: a cluster draws the suffix at random, and the hash
// follows the pod template, which names each side's own image tag),
// anything else by its name. Replicas get #2, #3 in name order.
func proxyKey(p backend.Proxy) string {
	if h := p.Labels["pod-template-hash"]; h != "" {
		if i := strings.LastIndex(p.Name, "-"+h+"-"); i > 0 {
			return p.Namespace + "/" + p.Name[:i]
		}
	}
	return p.String()
}

// SideReports is a side's report folder under the gate's.
func SideReports(reports, side string) string { return filepath.Join(reports, "gate", side) }
