package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// TestGate runs meshcheck gate end to end, as a user would, on the two
// Istio builds this machine can make: the April master against the pinned
// one differ on every cluster's panic threshold, so the gate fails and
// names the change; with an accepted-changes file saying why, it passes.
// The suites are left out (--specs=false): make e2e-matrix runs them on
// both builds.
func TestGate(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("the gate brings up two embedded meshes: root, not -short")
	}
	if _, err := envoybin.Find(); err != nil {
		t.Skip(err)
	}
	bin, env := meshcheckOnPath(t)
	reports := t.TempDir()
	gate := func(extra ...string) (int, map[string]any, string) {
		t.Helper()
		args := append([]string{"gate", "--baseline", "v0.0.0-20260423205519-b01690e6db7d", "--candidate", "pinned",
			"--specs=false", "--reports", reports, "-o", "json"}, extra...)
		code, stdout, stderr := runMeshcheck(t, bin, docsRoot, env, args...)
		var r map[string]any
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("gate -o json: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
		}
		return code, r, stderr
	}
	code, r, stderr := gate()
	changes, _ := r["changes"].([]any)
	if code != exitFail || r["verdict"] != "fail" || len(changes) == 0 {
		t.Fatalf("gate April vs pinned: exit %d, verdict %v, %d changes; want 1, fail and changes\n%s", code, r["verdict"], len(changes), stderr)
	}
	first := changes[0].(map[string]any)
	if first["path"] != "common_lb_config.healthy_panic_threshold" || first["type"] != "clusters" || first["accepted"] != false {
		t.Errorf("first change %v; want the panic threshold of a cluster, not accepted", first)
	}
	md, err := os.ReadFile(filepath.Join(reports, "gate", "summary.md"))
	if err != nil || !strings.Contains(string(md), "## meshcheck gate: FAIL") || !strings.Contains(string(md), "healthy_panic_threshold") {
		t.Errorf("summary.md: %v\n%s", err, md)
	}
	accepted := filepath.Join(t.TempDir(), "accepted.yaml")
	if err := os.WriteFile(accepted, []byte(`apiVersion: meshcheck.dev/v1alpha1
kind: AcceptedChanges
changes:
  - type: clusters
    path: common_lb_config.healthy_panic_threshold
    reason: the pinned build turns panic routing off on purpose
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, r, stderr = gate("--accepted", accepted)
	if code != exitOK || r["verdict"] != "pass" {
		t.Fatalf("gate with the change accepted: exit %d, verdict %v; want 0, pass\n%s", code, r["verdict"], stderr)
	}
}
