package envoybin

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// versionRE finds the release in `envoy --version`'s
// "version: <commit>/<X.Y.Z>/<state>/<build>/<ssl>".
var versionRE = regexp.MustCompile(`version: [0-9a-f]+/([0-9]+\.[0-9]+\.[0-9]+)(-dev)?/`)

// ParseVersion returns the release X.Y.Z that `envoy --version` printed.
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
