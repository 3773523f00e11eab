package kindmesh

import (
	"slices"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/backend"
)

func TestFeaturesFollowTheCluster(t *testing.T) {
	for _, tc := range []struct {
		workers   int
		multiNode bool
	}{{0, false}, {1, true}} {
		b := &Backend{opts: Options{}}
		b.opts.Cluster.Workers = tc.workers
		fs := b.Features()
		for _, f := range []backend.Feature{backend.FeatureVM, backend.FeatureInterceptionRules, backend.FeatureAccessLogs, backend.FeatureServiceVIPs, backend.FeatureEvidence} {
			if !slices.Contains(fs, f) {
				t.Errorf("workers %d: features %v lack %s", tc.workers, fs, f)
			}
		}
		if got := slices.Contains(fs, backend.FeatureMultiNode); got != tc.multiNode {
			t.Errorf("workers %d: multi-node %v, want %v", tc.workers, got, tc.multiNode)
		}
	}
}

func TestServerInfoVersion(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{`{"version":"9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL","state":"LIVE"}`, "1.40.0", ""},
		{`{"state":"LIVE"}`, "", `no Envoy version (X.Y.Z between slashes) in ""`},
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
