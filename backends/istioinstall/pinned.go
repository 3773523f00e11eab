package istioinstall

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// PinnedVersion is the Istio release line of the istio.io/istio module a
// binary links (go.mod pins a commit of Istio's main branch, a
// pseudo-version): the version of the istio.io/api module it builds with,
// which Istio tags with each release (v1.31.1 for the 1.31.1 line). bi is
// the binary's build information (debug.ReadBuildInfo). It is an error
// when the binary links no Istio or the version is not a supported minor.
func PinnedVersion(bi *debug.BuildInfo) (string, error) {
	if bi == nil {
		return "", fmt.Errorf("istioinstall: no build information: cannot tell the pinned Istio version")
	}
	var api, istio string
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		switch d.Path {
		case "istio.io/api":
			api = v
		case "istio.io/istio":
			istio = v
		}
	}
	if istio == "" || api == "" {
		return "", fmt.Errorf("istioinstall: this binary links istio.io/istio %q and istio.io/api %q: cannot tell the pinned Istio version", istio, api)
	}
	version := strings.TrimPrefix(api, "v")
	if _, err := Lookup(version); err != nil {
		return "", fmt.Errorf("istioinstall: istio.io/istio %s with istio.io/api %s: %w", istio, api, err)
	}
	return version, nil
}
