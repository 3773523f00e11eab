package expect_test

import (
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/expect"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
)

// Each spec that holds on a full dump holds on every shape made from it:
// what a shape cannot show is skipped with the reason, never failed.
func TestSpecsOnPartialDumps(t *testing.T) {
	cases := []struct{ spec, dump, version string }{
		{"expect/bookinfo-gateway.yaml", "samples/gateway-config_dump.json", "1.31.0"},
		{"expect/bookinfo-productpage.yaml", "samples/productpage-config_dump.json", "1.31.0"},
		{"expect/whoami-gateway.yaml", "pilot/gateway-config_dump.json", ""},
		{"expect/vm-sidecar.yaml", "pilot/sleep-config_dump.json", ""},
	}
	for _, tc := range cases {
		spec, err := expect.LoadFile(td(tc.spec))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range xdstest.Shapes(t, td(tc.dump)) {
			t.Run(tc.spec+"@"+s.Name, func(t *testing.T) {
				d, err := xds.Parse(s.Doc, xds.Options{})
				if err != nil {
					t.Fatal(err)
				}
				rep, err := expect.Check(d, spec, expect.Options{IstioVersion: tc.version})
				if err != nil {
					t.Fatal(err)
				}
				if !rep.Passed() {
					t.Errorf("false failures on a dump holding %v: %v", d.Types(), rep.Failures)
				}
				for _, sk := range rep.Skipped {
					if !strings.Contains(sk, "istio ") && !namesLacking(d, sk) {
						t.Errorf("skip reason names no type the dump lacks (%v): %s", d.Lacks(), sk)
					}
				}
				if len(d.Lacks()) > 3 && len(rep.Skipped) == 0 { // a one-type shape skips something
					t.Errorf("nothing skipped on a dump holding only %v", d.Types())
				}
			})
		}
	}
}

func namesLacking(d *xds.Dump, reason string) bool {
	for _, typ := range d.Lacks() {
		if strings.Contains(reason, d.Lacking(typ)) {
			return true
		}
	}
	return false
}
