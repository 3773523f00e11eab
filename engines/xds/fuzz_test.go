package xds_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// A trimmed real gateway dump (listener, route, two clusters): the full
// samples are covered by the unit tests, and inputs of 100 KB slow the
// mutator to a crawl.
var fuzzSeedFiles = []string{"fuzz-seed-gateway.json"}

// FuzzParse: any input gets a dump or an error, never a panic; what parses
// can be linted and traced. The committed corpus is in testdata/fuzz.
func FuzzParse(f *testing.F) {
	for _, p := range fuzzSeedFiles {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `{"configs": []}`, `{"configs": [{}]}`, `[{"name": "x", "address": {}}]`,
		`[{"hostStatuses": [{"address": {"socketAddress": {"address": "1.2.3.4", "portValue": 80}}}], "name": "c"}]`,
		`{"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "dynamic_listeners": [{"name": "l", "error_state": {"details": "bad"}}]}]}`,
		`{"configs": [{"@type": "type.googleapis.com/acme.Unknown", "x": 1}]}`,
		`[{"virtualHosts": [{"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "c"}}]}]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := xds.Parse(data, xds.Options{Source: "fuzz.json"})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		_ = lint.Lint(d)
		for _, role := range []trace.Role{trace.RoleGateway, trace.RoleSidecarOutbound, trace.RoleSidecarInbound} {
			if _, err := trace.Trace(d, trace.Request{Role: role, Port: 8080, Address: "10.0.0.1", Host: "a.b", Path: "/x?y=1"}); err != nil {
				t.Fatalf("trace: %v", err)
			}
		}
	})
}
