package kube

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/backend"
)

func TestFeaturesFollowTheCluster(t *testing.T) {
	for _, tc := range []struct {
		spread    bool
		multiNode bool
	}{{false, false}, {true, true}} {
		b := &Backend{opts: Options{Name: "kube", Istio: Existing, NamespaceSuffix: true, SpreadOverNodes: tc.spread}}
		fs := b.Features()
		for _, f := range []backend.Feature{backend.FeatureInterceptionRules, backend.FeatureAccessLogs, backend.FeatureServiceVIPs, backend.FeatureEvidence} {
			if !slices.Contains(fs, f) {
				t.Errorf("spread %v: features %v lack %s", tc.spread, fs, f)
			}
		}
		if slices.Contains(fs, backend.FeatureVM) || slices.Contains(fs, backend.FeatureGoldens) {
			t.Errorf("a cluster alone has no VM, and no goldens on namespaces of the run's own: %v", fs)
		}
		if got := slices.Contains(fs, backend.FeatureMultiNode); got != tc.multiNode {
			t.Errorf("spread %v: multi-node %v, want %v", tc.spread, got, tc.multiNode)
		}
	}
}

func TestServerInfoVersion(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{`{"version":"9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL","state":"LIVE"}`, "1.40.0", ""},
		{`{"state":"LIVE"}`, "", `no version <commit>/X.Y.Z/ in ""`},
		{`upstream connect error`, "", "invalid character 'u' looking for beginning of value: upstream connect error"},
	} {
		got, err := serverInfoVersion([]byte(tc.in))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("serverInfoVersion(%s): error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("serverInfoVersion(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
