package pilotapi_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotbuild"
)

// TestProcess builds the pinned control plane, starts it with the parity
// environment, and drives it: objects and Istio configs in and out, bad
// input refused with its reason.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the control plane: not in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	repo, err := pilotbuild.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := pilotbuild.Build(ctx, pilotbuild.Source{Kind: pilotbuild.Pinned}, pilotbuild.Options{Repo: repo, Cache: filepath.Join(os.TempDir(), "meshcheck-pilot-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "pilot") // Unix socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"PILOT_ENABLE_ALPN_FILTER": "false", "PILOT_ENABLE_METADATA_EXCHANGE": "false"}
	p, err := pilotapi.Start(ctx, pilotapi.StartOptions{Binary: bin.Path, Dir: dir, Env: env, Source: bin.Source.String()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.Info.Istio, "v0.0.0-") || p.Info.Source != "pinned" || p.Info.Env["PILOT_ENABLE_ALPN_FILTER"] != "false" {
		t.Errorf("info = %+v; want the pinned istio.io/istio, source pinned, ALPN filter off", p.Info)
	}
	ns := obj(t, "Namespace", map[string]any{"metadata": map[string]any{"name": "demo"}})
	svc := obj(t, "Service", map[string]any{"metadata": map[string]any{"name": "web", "namespace": "demo"},
		"spec": map[string]any{"clusterIP": "10.96.0.9", "ports": []any{map[string]any{"port": 80, "targetPort": 8080, "protocol": "TCP"}}}})
	vs := "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: demo}\nspec: {hosts: [web], http: [{route: [{destination: {host: web}}]}]}\n"
	if err := p.Apply(ctx, pilotapi.Apply{Kube: []pilotapi.Object{ns, svc}, Istio: vs, Domain: "cluster.local"}); err != nil {
		t.Fatal(err)
	}
	if s, err := p.Sync(ctx); err != nil || len(s) != 0 {
		t.Errorf("sync with no proxies = %v, %v; want none", s, err)
	}
	del := pilotapi.Delete{Kube: []pilotapi.Object{svc}, Istio: []pilotapi.ConfigKey{{Group: "networking.istio.io", Version: "v1", Kind: "VirtualService", Name: "web", Namespace: "demo"}}}
	if err := p.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		apply pilotapi.Apply
		want  string
	}{
		{pilotapi.Apply{Kube: []pilotapi.Object{{Kind: "ConfigMap", Object: json.RawMessage(`{}`)}}}, `kind "ConfigMap": not one of`},
		{pilotapi.Apply{Kube: []pilotapi.Object{{Kind: "Service", Object: json.RawMessage(`{"spec": 7}`)}}}, "object 0 (Service)"},
		{pilotapi.Apply{Istio: "kind: [", Domain: "cluster.local"}, "parse Istio configs"},
	} {
		if err := p.Apply(ctx, tc.apply); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("apply %+v: %v; want an error with %q", tc.apply, err, tc.want)
		}
	}
	if err := p.Exited(); err != nil {
		t.Errorf("the control plane died: %v", err)
	}
}

func obj(t *testing.T, kind string, v map[string]any) pilotapi.Object {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pilotapi.Object{Kind: kind, Object: b}
}
