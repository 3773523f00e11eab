package trace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	"github.com/meshcheck/meshcheck/engines/xds/trace/internal/envoylab"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// TestEnvoyDifferential sends every request of every case in
// testdata/envoy through a real Envoy holding the case's routes, traces the
// same request through Envoy's own config dump, and fails when the tracer
// answers something else than Envoy did (being undecided is allowed).
func TestEnvoyDifferential(t *testing.T) {
	envoy := findEnvoy(t)
	files, err := filepath.Glob(filepath.Join("testdata", "envoy", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in testdata/envoy (%v)", err)
	}
	tally := &verdicts{}
	t.Cleanup(func() { t.Logf("case files: %s", tally) })
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			t.Parallel()
			c, err := envoylab.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			runEnvoyCase(t, envoy, c, f, tally)
		})
	}
}

// TestEnvoyDifferentialRandom does the same with generated cases (virtual
// host domains, path, header and query matches, hosts and paths from a few
// colliding pieces). MESHCHECK_ENVOY_SEED=N replays one seed;
// MESHCHECK_ENVOY_SEEDS sets how many run (default 6, from seed 1).
func TestEnvoyDifferentialRandom(t *testing.T) {
	envoy := findEnvoy(t)
	seeds, err := envoySeeds(os.Getenv("MESHCHECK_ENVOY_SEED"), os.Getenv("MESHCHECK_ENVOY_SEEDS"))
	if err != nil {
		t.Fatal(err)
	}
	tally := &verdicts{}
	t.Cleanup(func() { t.Logf("seeds: %s", tally) })
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			t.Parallel()
			c := envoylab.Random(seed, 40)
			runEnvoyCase(t, envoy, c, fmt.Sprintf("seed %d", seed), tally)
			if t.Failed() {
				b, _ := yaml.Marshal(c)
				t.Logf("replay: MESHCHECK_ENVOY_SEED=%d go test ./engines/xds/trace -run TestEnvoyDifferentialRandom\nthe case (save it under testdata/envoy to keep it):\n%s", seed, b)
			}
		})
	}
}

func findEnvoy(t *testing.T) string {
	t.Helper()
	envoy, err := envoybin.Find()
	if err != nil {
		t.Skipf("skipped: the differential test needs a real Envoy: %v", err)
	}
	return envoy
}

// envoySeeds reads MESHCHECK_ENVOY_SEED (one seed) and
// MESHCHECK_ENVOY_SEEDS (how many, from 1).
func envoySeeds(one, count string) ([]int64, error) {
	if one != "" {
		n, err := strconv.ParseInt(one, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("MESHCHECK_ENVOY_SEED=%q: %w", one, err)
		}
		return []int64{n}, nil
	}
	n := 6
	if count != "" {
		var err error
		if n, err = strconv.Atoi(count); err != nil || n < 1 {
			return nil, fmt.Errorf("MESHCHECK_ENVOY_SEEDS=%q: want a positive count (%v)", count, err)
		}
	}
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = int64(i + 1)
	}
	return seeds, nil
}

// verdicts counts the requests by verdict, known gaps apart.
type verdicts struct {
	mu     sync.Mutex
	counts map[string]int
}

func (v *verdicts) add(k string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.counts == nil {
		v.counts = map[string]int{}
	}
	v.counts[k]++
}

func (v *verdicts) String() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprintf("%d run, %d requests agree, %d undecided, %d known gaps, %d disagree", v.counts["case"],
		v.counts[string(envoylab.Agree)], v.counts[string(envoylab.Undecided)], v.counts["gap"], v.counts[string(envoylab.Disagree)])
}

// runEnvoyCase starts Envoy for c and judges every request; where names
// the case in failures (its file, or its seed).
func runEnvoyCase(t *testing.T, envoy string, c *envoylab.Case, where string, tally *verdicts) {
	tally.add("case")
	ctx := context.Background()
	lab, err := envoylab.Start(ctx, envoy, c, t.TempDir(), envoylab.DefaultTimeouts)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	defer lab.Close()
	raw, err := lab.ConfigDump(ctx)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	dump, err := xds.Parse(raw, xds.Options{Source: "config dump of the Envoy running " + where})
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	lazy, err := xds.Parse(raw, xds.Options{Source: "config dump of the Envoy running " + where, Lazy: true})
	if err != nil {
		t.Fatalf("%s (lazy): %v", where, err)
	}
	routes := routesOnly(t, c, where)
	for i, r := range c.Requests {
		where := fmt.Sprintf("%s requests[%d]", where, i)
		tally.add(judgeRequest(t, lab, dump, routes, where, r))
		sameLazy(t, dump, lazy, where, traceRequest(r, lab))
	}
}

// traceRequest is the request r as the tracer sees it, for a gateway
// listener on the lab's port.
func traceRequest(r envoylab.Request, lab *envoylab.Lab) trace.Request {
	sent := r.SentTo(lab.Port)
	return trace.Request{Role: trace.RoleGateway, Port: uint32(lab.Port), Address: "127.0.0.1", TLS: lab.Case.TLS,
		Host: sent.Host, Path: sent.Path, Method: sent.Method, Headers: r.Headers}
}

// sameLazy checks that the lazy index traces the request as the eager one.
func sameLazy(t *testing.T, eager, lazy *xds.Dump, where string, req trace.Request) {
	t.Helper()
	a, errA := trace.Trace(eager, req)
	b, errB := trace.Trace(lazy, req)
	switch {
	case errA != nil || errB != nil:
		t.Errorf("%s: trace errors: eager %v, lazy %v", where, errA, errB)
	case a.Text() != b.Text():
		t.Errorf("%s: the lazy dump traces otherwise\neager:\n%s\nlazy:\n%s", where, a.Text(), b.Text())
	}
}

// judgeRequest sends one request to Envoy, traces it, and compares. It
// returns the verdict, "gap" for a known gap, "error" when it could not judge.
func judgeRequest(t *testing.T, lab *envoylab.Lab, dump, routes *xds.Dump, where string, r envoylab.Request) string {
	t.Helper()
	sent := r.SentTo(lab.Port)
	o, err := lab.Do(context.Background(), r)
	if err != nil {
		t.Errorf("%s: %v\nenvoy output:\n%s", where, err, lab.Output())
		return "error"
	}
	if routes != nil && o.Status != 503 && r.Gap == "" {
		judgeRouteOnly(t, routes, where, r, lab, o)
	}
	res, err := trace.Trace(dump, traceRequest(r, lab))
	if err != nil {
		t.Errorf("%s: trace: %v", where, err)
		return "error"
	}
	cmp := envoylab.Compare(res, o, sent)
	line := fmt.Sprintf("%s: %s %s%s %v", where, sent.Method, sent.Host, sent.Path, r.Headers)
	t.Logf("%s\n  %s", line, strings.ReplaceAll(cmp.String(), "\n", "\n  "))
	if want := r.WantFor(lab.Port); want != "" && !o.Wanted(want) {
		t.Errorf("%s: the case wants Envoy to answer %q, Envoy answered %s", line, want, o)
	}
	switch {
	case r.Gap != "" && cmp.Verdict == envoylab.Disagree:
		t.Logf("known gap (%s)", r.Gap)
		return "gap"
	case r.Gap != "":
		t.Errorf("%s is marked as a known gap (%s), but the tracer is now %s: remove the gap\n%s", line, r.Gap, cmp.Verdict, cmp)
	case cmp.Verdict == envoylab.Disagree:
		t.Errorf("%s: the tracer disagrees with Envoy\n%s\ntrace:\n%s", line, cmp, res.Text())
	}
	return string(cmp.Verdict)
}

// routesOnly is the case's route configuration alone, as xds trace --routes
// reads one, when Envoy runs it behind a connection manager with its
// defaults (no hcm fields, no TLS); nil otherwise.
func routesOnly(t *testing.T, c *envoylab.Case, where string) *xds.Dump {
	t.Helper()
	if len(c.HCM) > 0 || c.TLS || c.RouteConfig == nil {
		return nil
	}
	b, err := json.Marshal([]any{c.RouteConfig})
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	d, err := xds.Parse(b, xds.Options{Source: where + " route_config"})
	if err != nil {
		t.Fatalf("%s: the route configuration alone: %v", where, err)
	}
	return d
}

// judgeRouteOnly checks that the route configuration traced alone
// (trace.TraceRouteConfig, xds trace --routes) routes as Envoy did. A 503
// is not judged: it comes from clusters, which a route table alone lacks.
func judgeRouteOnly(t *testing.T, routes *xds.Dump, where string, r envoylab.Request, lab *envoylab.Lab, o envoylab.Outcome) {
	t.Helper()
	req := traceRequest(r, lab)
	res, err := trace.TraceRouteConfig(routes, "", req)
	if err != nil {
		t.Errorf("%s: route configuration alone: %v", where, err)
		return
	}
	if cmp := envoylab.Compare(res, o, r.SentTo(lab.Port)); cmp.Verdict == envoylab.Disagree {
		t.Errorf("%s: the route configuration traced alone disagrees with Envoy\n%s\ntrace:\n%s", where, cmp, res.Text())
	}
}
