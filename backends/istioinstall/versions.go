package istioinstall

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnsupported: the Istio version is not one meshcheck runs on kind.
var ErrUnsupported = errors.New("unsupported Istio version")

// Compat is one supported Istio minor and what it runs on under kind.
type Compat struct {
	// Minor is the Istio minor, e.g. "1.30".
	Minor string
	// LatestPatch is the newest patch release meshcheck knows of; the CI
	// matrix runs it.
	LatestPatch string
	// K8sMin and K8sMax are the Kubernetes minors Istio supports for it.
	K8sMin, K8sMax string
	// K8sVersion is the Kubernetes release of NodeImage.
	K8sVersion string
	// NodeImage is the kind node image, pinned by digest: kind supports an
	// image only with the kind release that built it (v0.33.0 here).
	NodeImage string
	// Source says where the facts come from.
	Source string
}

// kind v0.33.0's release notes list the node images built for it; the
// digests below are those. The default image of the module
// (pkg/apis/config/defaults) is v1.37.0, newer than any supported Istio
// minor allows.
const (
	nodeImage135 = "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"
	nodeImage136 = "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"
)

// Supported lists the Istio minors meshcheck runs on kind, oldest first.
func Supported() []Compat {
	return []Compat{
		{
			Minor: "1.29", LatestPatch: "1.29.9", K8sMin: "1.31", K8sMax: "1.35",
			K8sVersion: "v1.35.8", NodeImage: nodeImage135,
			Source: "K8s range: istio.io supportStatus.yml; 1.29.9 is the last 1.29 release (EOL 2026-10-15)",
		},
		{
			Minor: "1.30", LatestPatch: "1.30.4", K8sMin: "1.32", K8sMax: "1.36",
			K8sVersion: "v1.36.4", NodeImage: nodeImage136,
			Source: "K8s range: istio.io supportStatus.yml; 1.30.4 released 2026-08-27",
		},
		{
			Minor: "1.31", LatestPatch: "1.31.1", K8sMin: "1.32", K8sMax: "1.36",
			K8sVersion: "v1.36.4", NodeImage: nodeImage136,
			Source: "K8s range: the master entry of supportStatus.yml before the 1.31 branch (check the 1.31 page); 1.31.1 matches istio.io/api v1.31.1",
		},
	}
}

// SupportedMinors returns "1.29, 1.30, 1.31".
func SupportedMinors() string {
	var ms []string
	for _, c := range Supported() {
		ms = append(ms, c.Minor)
	}
	return strings.Join(ms, ", ")
}

// Lookup returns the entry for an Istio version ("1.30", "1.30.2",
// "1.31.0-rc.0"; a leading "v" is accepted).
func Lookup(version string) (Compat, error) {
	major, minor, err := parseMinor(version)
	if err != nil {
		return Compat{}, err
	}
	key := fmt.Sprintf("%d.%d", major, minor)
	for _, c := range Supported() {
		if c.Minor == key {
			return c, nil
		}
	}
	return Compat{}, fmt.Errorf("istioinstall: %w: %s (Istio %s on kind is not supported; supported minors: %s)", ErrUnsupported, version, key, SupportedMinors())
}

func parseMinor(version string) (major, minor int, err error) {
	v := strings.TrimPrefix(version, "v")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	bad := fmt.Errorf("istioinstall: %w: %q is not an Istio version (want MAJOR.MINOR[.PATCH], e.g. 1.30.2; supported minors: %s)", ErrUnsupported, version, SupportedMinors())
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, bad
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return 0, 0, bad
		}
		nums[i] = n
	}
	return nums[0], nums[1], nil
}

// K8sSupported reports whether Kubernetes version k8s ("v1.36.4", "1.34")
// lies in c's range.
func (c Compat) K8sSupported(k8s string) (bool, error) {
	_, m, err := parseMinor(k8s)
	if err != nil {
		return false, fmt.Errorf("istioinstall: Kubernetes version %q: want v1.MINOR[.PATCH]", k8s)
	}
	_, lo, _ := parseMinor(c.K8sMin)
	_, hi, _ := parseMinor(c.K8sMax)
	return lo <= m && m <= hi, nil
}
