package envoybin

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// versionRE finds the release in Envoy's build version,
// "<commit>/<X.Y.Z>/<state>/<build>/<ssl>", as `envoy --version` prints it
// (after "version: ") and the admin API's server_info holds it.
var versionRE = regexp.MustCompile(`(?:^|[\s:])[0-9a-f]+/([0-9]+\.[0-9]+\.[0-9]+)(-dev)?/`)

// ParseVersion returns the release X.Y.Z of a build version (what
// `envoy --version` printed, or server_info's version).
func ParseVersion(out []byte) (string, error) {
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no version <commit>/X.Y.Z/ in %q", strings.TrimSpace(string(out)))
	}
	return string(m[1]), nil
}

// Version runs `bin --version` and returns the release it reports.
func Version(ctx context.Context, bin string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("envoybin: %s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	v, err := ParseVersion(out)
	if err != nil {
		return "", fmt.Errorf("envoybin: %s --version: %w", bin, err)
	}
	return v, nil
}
