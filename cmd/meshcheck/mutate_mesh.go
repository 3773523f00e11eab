package main

import (
	"github.com/meshcheck/meshcheck/backends/embedded"

	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/gate"
	"github.com/meshcheck/meshcheck/internal/cachedir"
	"github.com/meshcheck/meshcheck/mutate"
)

// scoreMesh runs a control-plane or version-skew mutation: every bundled
// fixture's checks on a mesh whose control plane is built from a patched
// copy of the pinned Istio (control-plane), or whose proxies run an older
// Envoy declaring a newer Istio (version-skew); then, unless --suites=false,
// every suite against the same mesh setup. Both are scored strictly.
func scoreMesh(ctx context.Context, s streams, o *mutateOptions, m mutate.Mutation) mutate.Outcome {
	miss := func(err error) mutate.Outcome {
		return mutate.Outcome{Name: m.Name, Kind: m.Kind, CaughtBy: []string{}, Message: err.Error()}
	}
	cfg, env, err := mutatedConfig(ctx, o.cfg, m)
	if err != nil {
		return miss(err)
	}
	res, err := runMutated(ctx, s, cfg, m.Name, bundledFolders, embedded.Changes{})
	out := mutate.Score(m, res)
	if err != nil && !out.Caught {
		out.Message = err.Error()
	}
	if !o.suites {
		return out
	}
	specs, err := mutatedSuites(ctx, cfg, m, env)
	if err != nil {
		out.Caught, out.Message = false, fmt.Sprintf("the suites did not run: %v", err)
		return out
	}
	return mutate.ScoreSpecs(m, out, specs)
}

// mutatedConfig is the run configuration a mutation's mesh takes, and the
// environment the suites take for the same: the patched Istio copy as the
// source, or the Envoy and the declared proxy release.
func mutatedConfig(ctx context.Context, cfg config.Run, m mutate.Mutation) (config.Run, []string, error) {
	if m.Kind == mutate.VersionSkew {
		cfg.Envoy, cfg.ProxyVersion = m.Envoy, m.ProxyVersion
		return cfg, []string{"ENVOY=" + m.Envoy, "MESHCHECK_PROXY_VERSION=" + m.ProxyVersion}, nil
	}
	pinned, err := mutate.PinnedIstio(ctx)
	if err != nil {
		return cfg, nil, err
	}
	cache, err := cachedir.Dir("mutate")
	if err != nil {
		return cfg, nil, err
	}
	// One folder per mutation, made afresh: its content (the source's
	// identity) is the same each time, so pilot's build is cached.
	dir := filepath.Join(cache, m.Name, "istio")
	if err := mutate.PatchedSource(m, pinned, dir); err != nil {
		return cfg, nil, err
	}
	cfg.Istio.Source = dir
	env := []string{"ISTIO_SRC=" + dir}
	if cfg.Envoy != "" {
		env = append(env, "ENVOY="+cfg.Envoy)
	}
	return cfg, env, nil
}

// bundledFolders copies every bundled fixture's folder under dir.
func bundledFolders(dir string) ([]string, error) {
	entries, err := fs.ReadDir(fixtures.Embedded(), ".")
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, e.Name())
		if err := mutate.CopyFixture(fixtures.Embedded(), e.Name(), d); err != nil {
			return nil, err
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// mutatedSuites runs every suite (hack/e2e-local.sh of the repository
// meshcheck mutate runs in) with env; its log goes next to the mutation's
// run, its Ginkgo report to reports/mutate-<name>.json.
func mutatedSuites(ctx context.Context, cfg config.Run, m mutate.Mutation, env []string) ([]mutate.Spec, error) {
	repo, err := suitesRepo()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(cfg.ReportDir, "mutate", m.Name, "suites.txt"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	name := "mutate-" + m.Name
	checks, err := gate.SuiteChecks(ctx, gate.SuiteRun{Repo: repo, Script: "hack/e2e-local.sh", Name: name, Source: "mutation " + m.Name, Log: log,
		Env: append([]string{"SUITES_NAME=" + name, "LABELS="}, env...)})
	if err != nil {
		return nil, err
	}
	specs := make([]mutate.Spec, 0, len(checks))
	for _, c := range checks {
		specs = append(specs, mutate.Spec{Name: c.Name, Failed: c.Outcome == gate.Failed, Evidence: c.Evidence})
	}
	return specs, nil
}

// suitesRepo is the repository meshcheck mutate runs in: the nearest
// folder at or above the working directory that holds hack/e2e-local.sh.
func suitesRepo() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "hack", "e2e-local.sh")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no hack/e2e-local.sh in %s or above it: run meshcheck mutate in its repository, or with --suites=false", wd)
		}
	}
}
