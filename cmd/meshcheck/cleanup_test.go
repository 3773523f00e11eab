package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The kube command lines run -h and cleanup -h show; TestKubeCommands runs
// the dry run as written from the repository root (with a kubeconfig of an
// unreachable cluster: a dry run does not connect), the cleanups on a kind
// cluster in hack/e2e-cluster-proof.sh.
const (
	runKubeDryRun   = "meshcheck run --backend kube --kubeconfig kubeconfig --istio existing --run-id 4f2a9c1e --dry-run --fixtures fixtures/whoami"
	cleanupDryRun   = "meshcheck cleanup --kubeconfig kubeconfig --run 4f2a9c1e --dry-run"
	cleanupAllRuns  = "meshcheck cleanup --kubeconfig kubeconfig --all-runs"
	unreachableKube = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n" +
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n"
)

func TestKubeCommands(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(unreachableKube), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout, in order
		wantErr  string   // in stderr
	}{
		{"dry run", words(strings.Replace(runKubeDryRun, "kubeconfig kubeconfig", "kubeconfig "+kc, 1)), 0, []string{
			"run 4f2a9c1e (dry run: nothing is created)",
			"detect the Istio in istio-system",
			"whoami@base:",
			"  apply Namespace whoami-4f2a9c1e ((generated), meshcheck.dev/run=4f2a9c1e)",
			"  apply Deployment whoami-4f2a9c1e/whoami-v1 (fixtures/whoami/whoami.yaml:25, meshcheck.dev/run=4f2a9c1e)",
			"whoami@50-50:",
			"at the end: delete every namespace labelled meshcheck.dev/run=4f2a9c1e",
		}, ""},
		{"dry run of the embedded mesh", []string{"run", "--dry-run", "--fixtures", "fixtures/whoami"}, 64, nil,
			"--dry-run: the embedded backend creates its own mesh; only the kube backend (a cluster meshcheck does not own) plans"},
		{"kube without a kubeconfig", []string{"run", "--backend", "kube", "--fixtures", "fixtures/whoami"}, 64, nil,
			"Kube.Kubeconfig (--kubeconfig, $KUBECONFIG): the kube backend needs a kubeconfig"},
		{"cleanup of nothing named", []string{"cleanup", "--kubeconfig", kc}, 64, nil, "name one run (--run ID) or --all-runs"},
		{"cleanup of a bad run ID", []string{"cleanup", "--kubeconfig", kc, "--run", "Run-1"}, 64, nil, `--run: kube: run ID "Run-1": want 4 to 12 lower-case letters or digits`},
		{"cleanup of an unreachable cluster", []string{"cleanup", "--kubeconfig", kc, "--all-runs", "--timeout", "1s"}, 1, nil,
			"kube: cleanup: namespaces labelled meshcheck.dev/run: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", "")
			code, out, errOut := runCLI("", tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
		})
	}
}

// words splits a documented command line, without its "meshcheck".
func words(line string) []string { return strings.Fields(line)[1:] }
