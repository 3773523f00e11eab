package suites

import (
	"fmt"
	"os"
	"testing"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// TestMain re-executes the test binary with the parity setting's pilot
// environment (istioinstall.Parity): the embedded backend's pilot reads it
// when the process starts.
func TestMain(m *testing.M) {
	if err := istioinstall.Parity.Reexec(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
