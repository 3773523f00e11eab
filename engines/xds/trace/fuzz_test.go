package trace_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// FuzzTraceRoutes sends arbitrary hosts, paths, methods and
// x-forwarded-proto values through the route suites' configurations: the
// tracer must not panic, and a result must hold together (a forwarded
// request has clusters; a Location has a scheme).
func FuzzTraceRoutes(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "routes", "*.yaml"))
	var suites []*routeSuite
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		s := &routeSuite{}
		if err := yaml.Unmarshal(b, s); err != nil {
			f.Fatal(err)
		}
		suites = append(suites, s)
		for _, c := range s.Cases {
			f.Add(uint8(len(suites)-1), c.Request.Host, c.Request.Path, c.Request.Method, c.Request.Headers["x-forwarded-proto"])
		}
	}
	dumps := make([]*xds.Dump, len(suites))
	f.Fuzz(func(t *testing.T, suite uint8, host, path, method, xfp string) {
		i := int(suite) % len(suites)
		if dumps[i] == nil {
			dumps[i] = suiteDump(t, suites[i], files[i])
		}
		req := trace.Request{Role: trace.RoleGateway, Port: 8080, Host: host, Path: path, Method: method,
			Headers: map[string]string{"x-forwarded-proto": xfp}}
		res, err := trace.Trace(dumps[i], req)
		if err != nil {
			t.Fatal(err)
		}
		if res.UpstreamRequest != nil && len(res.Clusters) == 0 {
			t.Errorf("upstream request without clusters:\n%s", res.Text())
		}
		if r := res.Redirect; r != nil && !strings.Contains(r.Location, "://") {
			t.Errorf("Location %q has no scheme:\n%s", r.Location, res.Text())
		}
	})
}
