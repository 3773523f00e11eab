package istioinstall

import (
	"fmt"
	"strings"
)

// The Istio that go.mod pins, which the embedded mesh runs in-process:
// istio.io/istio at a commit of Istio's main branch (a pseudo-version) and
// the istio.io/api release it builds with, which Istio tags with each of its
// releases. TestPinnedMatchesGoMod keeps both equal to go.mod.
const (
	PinnedIstioModule = "v0.0.0-20260827124520-eed52ebb66ad"
	PinnedAPIModule   = "v1.31.1"
)

// PinnedVersion is the Istio release line of the pinned module, X.Y.Z: the
// istio.io/api version (the module's VERSION file names only the minor,
// and a test binary carries no module versions to read). It is an error
// when that is not a supported minor.
func PinnedVersion() (string, error) {
	version := strings.TrimPrefix(PinnedAPIModule, "v")
	if _, err := Lookup(version); err != nil {
		return "", fmt.Errorf("istioinstall: the pinned istio.io/istio %s with istio.io/api %s: %w", PinnedIstioModule, PinnedAPIModule, err)
	}
	return version, nil
}
