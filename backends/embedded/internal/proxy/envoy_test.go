package proxy

import (
	"testing"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// The one proxy kind maps onto the type in Istio's node id: a gateway is a
// router, a sidecar a sidecar.
func TestNodeID(t *testing.T) {
	for _, tc := range []struct {
		kind backend.ProxyKind
		want string
	}{
		{backend.Sidecar, "sidecar~10.0.0.2~whoami-v1.default~default.svc.cluster.local"},
		{backend.Gateway, "router~10.0.0.2~whoami-v1.default~default.svc.cluster.local"},
	} {
		s := Spec{Kind: tc.kind, Pod: "whoami-v1", Namespace: "default", IP: "10.0.0.2"}
		if got := s.ID(); got != tc.want {
			t.Errorf("%s: ID() = %q, want %q", tc.kind, got, tc.want)
		}
	}
}
