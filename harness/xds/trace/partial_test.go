package trace_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/harness/xds"
	"github.com/meshcheck/meshcheck/harness/xds/internal/xdstest"
	"github.com/meshcheck/meshcheck/harness/xds/trace"
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
			d, err := xds.Parse(shapes[tc.shape], xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := trace.Trace(d, tc.req)
			if err != nil {
				t.Fatal(err)
			}
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
