package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/open"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/timeouts"
)

// The suite's shared state, set up once.
var (
	mesh    backend.Backend
	vm      backend.Workload
	tmo     = timeouts.Default()
	mark0   backend.Mark
	reports string
)

func TestSuites(t *testing.T) {
	if os.Getenv("MESHCHECK_E2E") == "" {
		t.Skip("the suites bring up a mesh: run them with make e2e-local (MESHCHECK_E2E=1)")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "meshcheck suites")
}

func reportsDir() string {
	if d := os.Getenv("MESHCHECK_REPORTS"); d != "" {
		return d
	}
	return filepath.Join("..", "reports")
}

// Optional parts of a backend the suites use when a backend has them.
type (
	// vmStarter starts the vm fixture's VM outside the mesh.
	vmStarter interface {
		StartVM(ctx context.Context, namespace, name string) (backend.Workload, error)
	}
	// fixtureVarer gives variables every fixture needs on that backend
	// (image registries and tags).
	fixtureVarer interface{ FixtureVars() map[string]string }
	// evidenceCollector writes the backend's own evidence (pods, events,
	// control-plane logs, node logs) into a directory.
	evidenceCollector interface {
		CollectEvidence(ctx context.Context, dir string) error
	}
	// vipNamer names the Service VIPs a cluster assigned at random, for
	// goldens that must not depend on them.
	vipNamer interface {
		ServiceVIPs(ctx context.Context) (map[string]string, error)
	}
)

// load renders a fixture or one of its steps, with the VM's address and
// the backend's variables.
func load(name, step string) *fixtures.Set {
	opts := fixtures.Options{Step: step, Vars: map[string]string{}}
	if fv, ok := mesh.(fixtureVarer); ok {
		f, err := fixtures.Get(name)
		Expect(err).NotTo(HaveOccurred())
		// The backend's variables cover every fixture; each takes its own.
		for _, v := range f.Vars {
			if val, ok := fv.FixtureVars()[v.Name]; ok {
				opts.Vars[v.Name] = val
			}
		}
	}
	if name == "vm" {
		opts.Vars["vmAddress"] = vm.IP
	}
	set, err := fixtures.Load(name, opts)
	Expect(err).NotTo(HaveOccurred())
	return set
}

// newBackend builds the backend the environment names (config.FromEnv:
// README's "Environment variables"), reports going to dir.
func newBackend(ctx context.Context, dir string) backend.Backend {
	cfg, err := config.FromEnv(os.Getenv)
	Expect(err).NotTo(HaveOccurred())
	cfg.ReportDir = dir
	GinkgoWriter.Printf("run configuration: %s\n", cfg)
	b, err := open.New(ctx, cfg, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return b
}

var _ = BeforeSuite(func(ctx SpecContext) {
	reports = reportsDir()
	Expect(os.MkdirAll(reports, 0o755)).To(Succeed())
	mesh = newBackend(ctx, reports)
	start := time.Now()
	// Registered before Up: a failed or interrupted Up is torn down too
	// (Down is safe on a half-started mesh and on an interrupt).
	DeferCleanup(func(ctx SpecContext) {
		Expect(mesh.Down(ctx)).To(Succeed())
	}, NodeTimeout(time.Minute))
	// A failed setup leaves its evidence, as a failed spec does.
	setupOK := false
	DeferCleanup(func(ctx SpecContext) {
		if !setupOK {
			collectEvidence(ctx, filepath.Join(reports, "evidence", mesh.Name(), "setup"))
		}
	}, NodeTimeout(5*time.Minute))
	Expect(mesh.Up(ctx)).To(Succeed())
	if e, ok := mesh.(*embedded.Backend); ok {
		GinkgoWriter.Printf("mesh run id: %s\n", e.RunID())
	}
	if v, ok := mesh.(vmStarter); ok {
		var err error
		vm, err = v.StartVM(ctx, "vm", "vm1")
		Expect(err).NotTo(HaveOccurred())
	}
	for _, f := range []struct{ name, step string }{{"bookinfo", ""}, {"whoami", "90-10"}, {"vm", "100-0"}} {
		Expect(mesh.Apply(ctx, load(f.name, f.step))).To(Succeed(), "apply %s", f.name)
	}
	Expect(mesh.WaitReady(ctx)).To(Succeed())
	setupOK = true
	up := time.Since(start)
	GinkgoWriter.Printf("mesh with all fixtures up and converged in %v\n", up)
	writeJSON(filepath.Join(reports, "e2e-"+mesh.Name()+".timing.json"), map[string]any{"meshUpSeconds": up.Seconds()})
	var err error
	mark0, err = mesh.Mark(ctx)
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(20*time.Minute))

// For every failed spec, the evidence next to the reports.
var _ = ReportAfterEach(func(ctx SpecContext, r SpecReport) {
	if !r.Failed() || mesh == nil {
		return
	}
	dir := filepath.Join(reports, "evidence", mesh.Name(), sanitize(r.FullText()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	_ = os.WriteFile(filepath.Join(dir, "failure.txt"), []byte(r.FailureMessage()+"\n\n"+r.FailureLocation().String()+"\n"), 0o644)
	collectEvidence(ctx, dir)
}, NodeTimeout(5*time.Minute))

func collectEvidence(ctx context.Context, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	// A backend with its own collector writes the config dumps there, with
	// everything else it knows (pods, events, control-plane and node logs).
	ec, own := mesh.(evidenceCollector)
	if own {
		if err := ec.CollectEvidence(ctx, filepath.Join(dir, mesh.Name())); err != nil {
			_ = os.WriteFile(filepath.Join(dir, "evidence-errors.txt"), []byte(err.Error()+"\n"), 0o644)
		}
	}
	if s, err := mesh.Sync(ctx); err == nil {
		writeJSON(filepath.Join(dir, "sync.json"), s)
	}
	proxies, _ := mesh.Proxies(ctx)
	for _, p := range proxies {
		name := p.Namespace + "." + p.Name
		if !own {
			if b, err := mesh.ConfigDump(ctx, p); err == nil {
				_ = os.WriteFile(filepath.Join(dir, name+".config_dump.json"), b, 0o644)
			}
		}
		if b, err := mesh.AccessLogs(ctx, p, mark0); err == nil {
			_ = os.WriteFile(filepath.Join(dir, name+".access.log"), b, 0o644)
		}
	}
	ws, _ := mesh.Workloads(ctx)
	for _, w := range ws {
		if w.Proxy != backend.Sidecar {
			continue
		}
		if b, err := mesh.InterceptionRules(ctx, w); err == nil {
			_ = os.WriteFile(filepath.Join(dir, w.Namespace+"."+w.Name+".iptables"), b, 0o644)
		}
	}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string {
	s = strings.Trim(unsafe.ReplaceAllString(s, "-"), "-")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		_ = os.WriteFile(path, append(b, '\n'), 0o644)
	}
}

// proxy finds the proxy of a workload whose name starts with prefix.
func proxy(ctx context.Context, namespace, prefix string) backend.Proxy {
	ps, err := mesh.Proxies(ctx)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, p := range ps {
		if p.Namespace == namespace && strings.HasPrefix(p.Name, prefix) {
			return p
		}
		names = append(names, p.String())
	}
	Fail(fmt.Sprintf("no proxy %s/%s*; have %v", namespace, prefix, names))
	return backend.Proxy{}
}

// workload finds a workload whose name starts with prefix.
func workload(ctx context.Context, namespace, prefix string) backend.Workload {
	ws, err := mesh.Workloads(ctx)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, w := range ws {
		if w.Namespace == namespace && strings.HasPrefix(w.Name, prefix) {
			return w
		}
		names = append(names, w.String())
	}
	Fail(fmt.Sprintf("no workload %s/%s*; have %v", namespace, prefix, names))
	return backend.Workload{}
}
