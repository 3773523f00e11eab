package embedded

import (
	"context"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotbuild"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
)

// Leftovers lists the network namespaces, links and host iptables rules a
// run with this id (Backend.RunID) left behind.
func Leftovers(ctx context.Context, runID string) ([]string, error) {
	return podnet.Leftovers(ctx, runID)
}

// Source is an Istio source the control plane is built from.
type Source = pilotbuild.Source

// ParseSource reads an Istio source: "" or "pinned", an istio.io/istio
// module version, or a checkout path[@ref]; CheckSource looks at it (the
// module proxy serves the version; the checkout declares istio.io/istio)
// without building anything.
func ParseSource(s string) (Source, error) { return pilotbuild.Parse(s) }

// CheckSource checks a source before anything is built.
func CheckSource(ctx context.Context, s Source) error { return pilotbuild.Check(ctx, s) }

// Source kinds: where a Source's Istio comes from.
const (
	SourcePinned   = pilotbuild.Pinned
	SourceModule   = pilotbuild.Module
	SourceCheckout = pilotbuild.Checkout
)
