package pilot

import (
	"fmt"
	"os"
	"testing"

	"istio.io/istio/pkg/env"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// TestMain re-executes the test binary with istioinstall.Parity's pilot
// environment, as every binary that runs the embedded mesh does.
func TestMain(m *testing.M) {
	if err := istioinstall.Parity.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// The parity table is what pilot reads: each variable is one pilot
// registers, and a process started with the table passes CheckEnv.
func TestParityIsWhatPilotReads(t *testing.T) {
	registered := map[string]bool{}
	for _, v := range env.VarDescriptions() {
		registered[v.Name] = true
	}
	for _, e := range istioinstall.Parity.PilotEnv {
		if !registered[e.Name] {
			t.Errorf("%s is not an environment variable pilot reads", e.Name)
		}
	}
	if err := CheckEnv(); err != nil {
		t.Errorf("started with %s, CheckEnv: %v", istioinstall.Parity, err)
	}
}
