package istioinstall

import (
	"errors"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		version, minor, image, err string
	}{
		{"1.29.9", "1.29", "kindest/node:v1.35.8@sha256:", ""},
		{"1.29", "1.29", "kindest/node:v1.35.8@sha256:", ""},
		{"1.30.2", "1.30", "kindest/node:v1.36.4@sha256:", ""},
		{"v1.30.4", "1.30", "kindest/node:v1.36.4@sha256:", ""},
		{"1.31.0-rc.0", "1.31", "kindest/node:v1.36.4@sha256:", ""},
		{"1.31.1", "1.31", "kindest/node:v1.36.4@sha256:", ""},
		{"1.28.6", "", "", "Istio 1.28 on kind is not supported; supported minors: 1.29, 1.30, 1.31"},
		{"1.32.0", "", "", "Istio 1.32 on kind is not supported; supported minors: 1.29, 1.30, 1.31"},
		{"2.0.0", "", "", "Istio 2.0 on kind is not supported"},
		{"latest", "", "", `"latest" is not an Istio version`},
		{"1", "", "", `"1" is not an Istio version`},
		{"1.30.x", "", "", `"1.30.x" is not an Istio version`},
		{"1.030.1", "", "", `"1.030.1" is not an Istio version`},
		{"1.30.2.1", "", "", `"1.30.2.1" is not an Istio version`},
	}
	for _, tc := range cases {
		c, err := Lookup(tc.version)
		if tc.err != "" {
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Lookup(%q) = %v, want %v containing %q", tc.version, err, ErrUnsupported, tc.err)
			}
			continue
		}
		if err != nil || c.Minor != tc.minor || !strings.HasPrefix(c.NodeImage, tc.image) {
			t.Errorf("Lookup(%q) = %+v, %v; want minor %s image %s...", tc.version, c, err, tc.minor, tc.image)
		}
	}
}

// The table itself must be consistent: each node image's Kubernetes
// version lies in its Istio minor's range, is pinned by a sha256 digest and
// matches K8sVersion; the latest patch belongs to the minor; minors ascend.
func TestSupportedTableConsistent(t *testing.T) {
	prev := ""
	for _, c := range Supported() {
		ok, err := c.K8sSupported(c.K8sVersion)
		if err != nil || !ok {
			t.Errorf("%s: node Kubernetes %s outside %s-%s (%v)", c.Minor, c.K8sVersion, c.K8sMin, c.K8sMax, err)
		}
		tag, digest, found := strings.Cut(strings.TrimPrefix(c.NodeImage, "kindest/node:"), "@sha256:")
		if !found || len(digest) != 64 || tag != c.K8sVersion {
			t.Errorf("%s: node image %q: want kindest/node:%s@sha256:<64 hex>", c.Minor, c.NodeImage, c.K8sVersion)
		}
		if !strings.HasPrefix(c.LatestPatch, c.Minor+".") {
			t.Errorf("%s: latest patch %s is of another minor", c.Minor, c.LatestPatch)
		}
		if got, err := Lookup(c.LatestPatch); err != nil || got.Minor != c.Minor {
			t.Errorf("Lookup(%s) = %v, %v", c.LatestPatch, got.Minor, err)
		}
		if prev != "" && !(prev < c.Minor) {
			t.Errorf("minors out of order: %s after %s", c.Minor, prev)
		}
		if c.Source == "" {
			t.Errorf("%s: no source for the facts", c.Minor)
		}
		prev = c.Minor
	}
}

func TestK8sSupported(t *testing.T) {
	c, _ := Lookup("1.30")
	for k8s, want := range map[string]bool{"v1.31.9": false, "1.32": true, "v1.36.4": true, "v1.37.0": false} {
		if got, err := c.K8sSupported(k8s); err != nil || got != want {
			t.Errorf("1.30 K8sSupported(%s) = %v, %v; want %v", k8s, got, err, want)
		}
	}
	if _, err := c.K8sSupported("one.two"); err == nil {
		t.Error("K8sSupported(one.two) gave no error")
	}
}
