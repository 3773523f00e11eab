package trace_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// A trace through a dump that lacks a type never calls something missing
// that the dump could not show: clusters are "not checked" without CDS, and
// what needs a lacking LDS or RDS is undecided.
func TestPartialDumps(t *testing.T) {
	tcp := trace.Request{Role: trace.RoleSidecarOutbound, Address: "93.184.216.34", Port: 3306}
	web := trace.Request{Role: trace.RoleSidecarOutbound, Address: "93.184.216.34", Port: 80, Host: "example.org", Path: "/"}
	cases := []struct {
		shape string
		req   trace.Request
		// undecided is a substring of the reason; empty: decided, to
		// PassthroughCluster, not marked missing.
		undecided string
	}{
		{"all -o json", tcp, ""},
		{"all -o json", web, ""},
		{"admin without include_eds", web, ""},
		{"listeners -o json", tcp, ""},
		{"listeners -o json", web, "the dump lacks RDS (it holds LDS)"},
		{"routes -o json", web, "the dump lacks LDS (it holds RDS)"},
		{"clusters -o json", tcp, "the dump lacks LDS (it holds CDS)"},
	}
	shapes := map[string][]byte{}
	for _, s := range xdstest.Shapes(t, filepath.Join("..", "testdata", pilotSlp)) {
		shapes[s.Name] = s.Doc
	}
	for _, tc := range cases {
		t.Run(tc.shape+"/"+tc.req.String(), func(t *testing.T) {
			res := traceDoc(t, shapes[tc.shape], tc.req)
			if tc.undecided != "" {
				if !res.Undecided() || !strings.Contains(strings.Join(res.Unsupported, "; "), tc.undecided) {
					t.Errorf("want undecided (%s), got:\n%s", tc.undecided, res.Text())
				}
				return
			}
			if res.Undecided() || res.NoRoute != "" || len(res.Clusters) != 1 || res.Clusters[0].Name != "PassthroughCluster" || res.Clusters[0].Missing {
				t.Errorf("want PassthroughCluster, not missing; got:\n%s", res.Text())
			}
			if strings.Contains(res.Text(), "MISSING") || strings.Contains(res.Text(), "NOT in CDS") {
				t.Errorf("a cluster is called missing:\n%s", res.Text())
			}
		})
	}
}

// The same on a real Envoy's dump (testdata/envoy): with and without
// include_eds, and as istioctl's routes and listeners output.
func TestRealEnvoyPartial(t *testing.T) {
	api := trace.Request{Role: trace.RoleGateway, Port: 10000, Host: "web", Path: "/api/x"}
	db := trace.Request{Role: trace.RoleGateway, Port: 10001}
	shapes := map[string][]byte{}
	for _, s := range xdstest.Shapes(t, filepath.Join("..", "testdata", "envoy", "config_dump.eds.json")) {
		shapes[s.Name] = s.Doc
	}
	cases := []struct {
		shape string
		req   trace.Request
		want  string // a line of the result's text
	}{
		{"all -o json", api, "result    api-v1 (weight 90, 1 endpoints), api-v2 (weight 10, 1 endpoints)"},
		{"admin without include_eds", api, "result    api-v1 (weight 90, 0 endpoints), api-v2 (weight 10, 0 endpoints)"},
		{"listeners -o json", db, "cluster   db: not checked, the dump lacks CDS (it holds LDS)"},
		{"listeners -o json", db, "result    db (weight 1, cluster not checked: the dump has no CDS)"},
		{"listeners -o json", api, "result    UNDECIDED: route config \"web\" (RDS): the dump lacks RDS (it holds LDS)"},
		{"routes -o json", api, "result    UNDECIDED: the dump lacks LDS (it holds RDS): a trace starts at a listener"},
	}
	for _, tc := range cases {
		t.Run(tc.shape+"/"+tc.req.String(), func(t *testing.T) {
			res := traceDoc(t, shapes[tc.shape], tc.req)
			if !strings.Contains(res.Text(), tc.want+"\n") {
				t.Errorf("want the line %q in:\n%s", tc.want, res.Text())
			}
		})
	}
}

// traceDoc parses a dump and traces one request through it.
func traceDoc(t *testing.T, doc []byte, req trace.Request) *trace.Result {
	t.Helper()
	d, err := xds.Parse(doc, xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := trace.Trace(d, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
