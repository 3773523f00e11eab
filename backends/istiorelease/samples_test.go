package istiorelease

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBookinfoImage(t *testing.T) {
	tests := []struct {
		name, manifest, reg, tag, err string
	}{
		{"1.29 style", "      containers:\n      - name: details\n        image: docker.io/istio/examples-bookinfo-details-v1:1.20.3\n", "docker.io/istio", "1.20.3", ""},
		{"quoted, 1.30 registry", "        image: \"registry.istio.io/release/examples-bookinfo-details-v1:1.21.0\"\n", "registry.istio.io/release", "1.21.0", ""},
		{"only other apps", "        image: docker.io/istio/examples-bookinfo-ratings-v1:1.20.3\n", "", "", "no image line for examples-bookinfo-details-v1"},
		{"templated", "        image: {{.Hub}}/examples-bookinfo-details-v1:{{.Tag}}\n", "", "", "is templated"},
		{"empty", "", "", "", "bookinfo.yaml: no image line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, tag, err := ParseBookinfoImage([]byte(tt.manifest), "x/bookinfo.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || reg != tt.reg || tag != tt.tag {
				t.Errorf("got %q %q %v, want %q %q", reg, tag, err, tt.reg, tt.tag)
			}
		})
	}
}

func TestBookinfoImageFromRelease(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := BookinfoImage(dir); err == nil || !strings.Contains(err.Error(), "bookinfo.yaml") {
		t.Errorf("missing manifest: %v", err)
	}
	p := filepath.Join(dir, filepath.FromSlash(BookinfoManifest))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("image: docker.io/istio/examples-bookinfo-details-v1:1.20.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if reg, tag, err := BookinfoImage(dir); err != nil || reg != "docker.io/istio" || tag != "1.20.3" {
		t.Errorf("got %q %q %v", reg, tag, err)
	}
}

func FuzzParseBookinfoImage(f *testing.F) {
	f.Add([]byte("image: docker.io/istio/examples-bookinfo-details-v1:1.20.3\n"))
	f.Add([]byte("  image: 'a/examples-bookinfo-details-v1:x'"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reg, tag, err := ParseBookinfoImage(b, "fuzz.yaml")
		if err == nil && (reg == "" || tag == "" || strings.ContainsAny(reg+tag, " \t\n\"'")) {
			t.Fatalf("accepted %q %q from %q", reg, tag, b)
		}
	})
}
