package main

import (
	"reflect"
	"strings"
	"testing"
)

// The cells: a -cells list (ingress istio when left out) or every triple;
// an unknown ingress or a malformed cell is an error.
func TestCellTriples(t *testing.T) {
	for _, tc := range []struct {
		cells, istio, envoy, ingress string
		want                         [][3]string
		err                          string
	}{
		{"pinned 1.40;pinned 1.39 gateway-api", "", "", "", [][3]string{{"pinned", "1.40", "istio"}, {"pinned", "1.39", "gateway-api"}}, ""},
		{"", "pinned,v0", "1.40", "istio,gateway-api", [][3]string{{"pinned", "1.40", "istio"}, {"pinned", "1.40", "gateway-api"}, {"v0", "1.40", "istio"}, {"v0", "1.40", "gateway-api"}}, ""},
		{"pinned 1.40 nginx", "", "", "", nil, `ingress "nginx"`},
		{"pinned", "", "", "", nil, "want SOURCE ENVOY [INGRESS]"},
	} {
		got, err := cellTriples(tc.cells, tc.istio, tc.envoy, tc.ingress)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.cells, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q %q: %v %v, want %v", tc.cells, tc.ingress, got, err, tc.want)
		}
	}
}
