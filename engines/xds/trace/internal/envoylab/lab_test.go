package envoylab

import (
	"context"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// A configuration Envoy rejects fails Start with Envoy's own words, and
// leaves nothing running.
func TestStartRejected(t *testing.T) {
	envoy, err := envoybin.Find()
	if err != nil {
		t.Skipf("skipped: needs a real Envoy: %v", err)
	}
	c := &Case{Name: "bad regex", RouteConfig: map[string]any{"virtual_hosts": []any{map[string]any{
		"name": "all", "domains": []any{"*"},
		"routes": []any{map[string]any{"match": map[string]any{"safe_regex": map[string]any{"regex": "(unclosed"}}, "route": map[string]any{"cluster": "a"}}},
	}}}}
	lab, err := Start(context.Background(), envoy, c, t.TempDir(), DefaultTimeouts)
	if err == nil {
		lab.Close()
		t.Fatal("Start accepted a route with an invalid regex")
	}
	for _, want := range []string{"envoy exited before it was ready", "(unclosed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error does not contain %q:\n%v", want, err)
		}
	}
}
