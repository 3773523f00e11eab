package istioinstall

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI matrix runs exactly the supported minors, each at its latest patch
// on its node image, without fail-fast: the workflow and the table cannot
// drift apart.
func TestWorkflowMatrixMatchesTable(t *testing.T) {
	path := filepath.Join("..", "..", ".github", "workflows", "e2e.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Strategy struct {
				FailFast *bool `yaml:"fail-fast"`
				Matrix   struct {
					Include []struct {
						Istio     string `yaml:"istio"`
						NodeImage string `yaml:"node_image"`
					} `yaml:"include"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	job, ok := wf.Jobs["e2e"]
	if !ok {
		t.Fatalf("%s: no e2e job", path)
	}
	if ff := job.Strategy.FailFast; ff == nil || *ff {
		t.Errorf("%s: e2e job must set fail-fast: false", path)
	}
	sup := Supported()
	inc := job.Strategy.Matrix.Include
	if len(inc) != len(sup) {
		t.Fatalf("%s: matrix has %d entries, the table %d (%s)", path, len(inc), len(sup), SupportedMinors())
	}
	for i, c := range sup {
		if inc[i].Istio != c.LatestPatch || inc[i].NodeImage != c.NodeImage {
			t.Errorf("%s: matrix entry %d is Istio %s on %s; the table says %s on %s", path, i, inc[i].Istio, inc[i].NodeImage, c.LatestPatch, c.NodeImage)
		}
	}
}
