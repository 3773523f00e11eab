package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	bin := filepath.Join(t.TempDir(), "meshcheck")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	reports := t.TempDir()
	gate := func(extra ...string) (int, map[string]any, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
		defer cancel()
		args := append([]string{"gate", "--baseline", "v0.0.0-20260423205519-b01690e6db7d", "--candidate", "pinned",
			"--specs=false", "--reports", reports, "-o", "json"}, extra...)
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var r map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("gate -o json: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
		return code, r, stderr.String()
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
