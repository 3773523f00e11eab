package embedded

import (
	"context"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilot"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
)

// CheckPilotEnv reports whether this process's pilot runs with
// istioinstall.Parity (pilot reads it when the process starts; see
// istioinstall.Parity.Reexec).
func CheckPilotEnv() error { return pilot.CheckEnv() }

// ErrPilotEnv is CheckPilotEnv's error.
var ErrPilotEnv = pilot.ErrEnv

// Leftovers lists the network namespaces, links and host iptables rules a
// run with this id (Backend.RunID) left behind.
func Leftovers(ctx context.Context, runID string) ([]string, error) {
	return podnet.Leftovers(ctx, runID)
}
