package istiorelease

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// BookinfoManifest is where a release keeps Bookinfo's Deployments.
const BookinfoManifest = "samples/bookinfo/platform/kube/bookinfo.yaml"

// bookinfoImageRE finds the details image: registry, then tag.
var bookinfoImageRE = regexp.MustCompile(`(?m)^\s*image:\s*["']?([^"'\s]+)/examples-bookinfo-details-v1:([^"'\s]+)["']?\s*$`)

// ParseBookinfoImage reads the registry and tag of the examples-bookinfo-*
// images from a release's Bookinfo manifest (file names it in errors).
func ParseBookinfoImage(manifest []byte, file string) (registry, tag string, err error) {
	m := bookinfoImageRE.FindSubmatch(manifest)
	if m == nil {
		return "", "", fmt.Errorf("istiorelease: %s: no image line for examples-bookinfo-details-v1", file)
	}
	registry, tag = string(m[1]), string(m[2])
	if strings.ContainsAny(registry+tag, "{}$") {
		return "", "", fmt.Errorf("istiorelease: %s: image %s/examples-bookinfo-details-v1:%s is templated, not a reference", file, registry, tag)
	}
	return registry, tag, nil
}

// BookinfoImage is ParseBookinfoImage on the manifest of an unpacked
// release (Release's directory).
func BookinfoImage(releaseDir string) (registry, tag string, err error) {
	file := filepath.Join(releaseDir, filepath.FromSlash(BookinfoManifest))
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", fmt.Errorf("istiorelease: the release's Bookinfo: %w", err)
	}
	return ParseBookinfoImage(b, file)
}
