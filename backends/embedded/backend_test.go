package embedded_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

func skipUnlessReady(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the embedded mesh needs root (network namespaces, iptables); run as root")
	}
	if _, err := envoybin.Find(); err != nil {
		t.Skip(err.Error())
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the command built for the tests (84 MB) at the end.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// meshcheckBinary is $MESHCHECK_BIN, or the command built once for the tests.
func meshcheckBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MESHCHECK_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "meshcheck-bin-")
		if err != nil {
			binErr = err
			return
		}
		_ = os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "meshcheck")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/meshcheck/meshcheck/cmd/meshcheck").CombinedOutput()
		if err != nil {
			t.Logf("go build: %s", out)
			binErr = err
		}
	})
	if binErr != nil {
		t.Fatalf("build meshcheck for the pods: %v", binErr)
	}
	return binPath
}

// The whoami fixture through the backend: expanded Deployments become pods
// running the repository's whoami behind sidecars, the ingress serves the
// 90/10 split, and a step to 50/50 reaches the gateway's config.
func TestBackendWhoami(t *testing.T) {
	skipUnlessReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := meshcheckBinary(t)
	start := time.Now()
	b := startBackend(ctx, t, bin)
	set := loadWhoami(t, "90-10")
	if err := b.Apply(ctx, set); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("whoami up and converged in %v", time.Since(start))

	ingress, err := b.Ingress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := traffic.Request{Host: "whoami.example.com", Path: "/"}
	got, err := traffic.Converge(ctx, ingress, traffic.ConvergeOptions{Request: req, Classifier: traffic.Whoami{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("converged: %s", got)

	proxies, err := b.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := clusterWeights(traceGateway(ctx, t, b, proxies)); w != "outbound|80|v1|whoami.whoami.svc.cluster.local=90,outbound|80|v2|whoami.whoami.svc.cluster.local=10" {
		t.Errorf("gateway weights = %s", w)
	}
	step := loadWhoami(t, "50-50")
	if err := b.Apply(ctx, step); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if w := clusterWeights(traceGateway(ctx, t, b, proxies)); w != "outbound|80|v1|whoami.whoami.svc.cluster.local=50,outbound|80|v2|whoami.whoami.svc.cluster.local=50" {
		t.Errorf("after the 50-50 step, gateway weights = %s", w)
	}

	// Deleting the fixture's Istio configs takes whoami off the ingress.
	if err := b.Delete(ctx, step); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if res := traceGateway(ctx, t, b, proxies); res.NoRoute == "" {
		t.Errorf("whoami is still routed after its configs were deleted:\n%s", res.Text())
	}
}

// startBackend brings up the embedded backend running bin in the pods,
// brought down (and checked for leftovers) when the test ends.
func startBackend(ctx context.Context, t *testing.T, bin string) *embedded.Backend {
	t.Helper()
	b := embedded.NewBackend(embedded.BackendOptions{Binary: bin})
	if err := b.Up(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		id := b.RunID()
		if err := b.Down(context.Background()); err != nil {
			t.Errorf("down: %v", err)
		}
		if left, _ := embedded.Leftovers(context.Background(), id); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	return b
}

// loadWhoami loads the whoami fixture at step.
func loadWhoami(t *testing.T, step string) *fixtures.Set {
	t.Helper()
	set, err := fixtures.Load("whoami", fixtures.Options{Step: step})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// traceGateway traces GET whoami.example.com/ on port 8080 through the
// gateway's current config dump.
func traceGateway(ctx context.Context, t *testing.T, b *embedded.Backend, proxies []backend.Proxy) *trace.Result {
	t.Helper()
	var gw []byte
	var err error
	for _, p := range proxies {
		if p.Proxy == "gateway" {
			if gw, err = b.ConfigDump(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	d, err := xds.Parse(gw, xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := trace.Trace(d, trace.Request{Role: trace.RoleGateway, Port: 8080, Host: "whoami.example.com", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// clusterWeights is res's clusters as "name=weight,...".
func clusterWeights(res *trace.Result) string {
	var parts []string
	for _, c := range res.Clusters {
		parts = append(parts, c.Name+"="+strconv.FormatUint(uint64(c.Weight), 10))
	}
	return strings.Join(parts, ",")
}
