package kindmesh

import (
	"slices"
	"testing"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
)

func TestFeaturesFollowTheCluster(t *testing.T) {
	for _, tc := range []struct {
		workers   int
		multiNode bool
	}{{0, false}, {1, true}} {
		b, err := New(Options{Cluster: kindcluster.Options{Name: "meshcheck-1-31-abcdef", NodeImage: "kindest/node:v1.34.0", Workers: tc.workers},
			Install: istioinstall.Options{Version: "1.31.1"}, Istioctl: "istioctl", WorkDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		fs := b.Features()
		for _, f := range []backend.Feature{backend.FeatureVM, backend.FeatureInterceptionRules, backend.FeatureAccessLogs, backend.FeatureServiceVIPs, backend.FeatureEvidence, backend.FeatureGoldens} {
			if !slices.Contains(fs, f) {
				t.Errorf("workers %d: features %v lack %s", tc.workers, fs, f)
			}
		}
		if got := slices.Contains(fs, backend.FeatureMultiNode); got != tc.multiNode {
			t.Errorf("workers %d: multi-node %v, want %v", tc.workers, got, tc.multiNode)
		}
		if b.Name() != "kind" || b.RunID() != "eck131abcdef" {
			t.Errorf("name %q, run ID %q", b.Name(), b.RunID())
		}
	}
}

func TestRunIDFromClusterName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"meshcheck-1-31-a1b2c3", "eck131a1b2c3"},
		{"kind", "kind"},
	} {
		if got := runID(tc.in); got != tc.want {
			t.Errorf("runID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
