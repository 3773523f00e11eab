package suites

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/backends/kube"
	"github.com/meshcheck/meshcheck/internal/progress"
)

// Ctrl-C while the mesh is up tears everything down. Embedded: no network
// namespace, bridge, veth, hosts directory, Envoy, app or work directory is
// left. kind: no node container and no VM container of the run's cluster.
// kube: no namespace of the run's (labelled meshcheck.dev/run=<run ID>).
func TestInterruptLeavesNothing(t *testing.T) {
	if os.Getenv("MESHCHECK_E2E") == "" || os.Getenv("MESHCHECK_INTERRUPT_CHILD") != "" {
		t.Skip("brings up a mesh: run with make e2e-local")
	}
	kind := os.Getenv("MESHCHECK_BACKEND") == "kind"
	if kind && os.Getenv("KEEP_CLUSTER") == "1" {
		t.Skip("KEEP_CLUSTER=1: a kept cluster is what Ctrl-C would delete")
	}
	isKube := os.Getenv("MESHCHECK_BACKEND") == "kube"
	leftovers := leftovers
	switch {
	case kind:
		leftovers = kindLeftovers
	case isKube:
		leftovers = kubeLeftovers
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestSuites$", "-ginkgo.label-filter=whoami", "-ginkgo.v", "-ginkgo.no-color")
	// Its own reports, and on kind its own cluster (a fresh name) and work
	// directory under them; its phases not on the run's progress.
	cmd.Env = append(os.Environ(), "MESHCHECK_INTERRUPT_CHILD=1", "MESHCHECK_REPORTS="+t.TempDir(), progress.Env+"=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	sc := bufio.NewScanner(out)
	up, runID := false, ""
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "mesh run id: "); ok {
			runID = id
		}
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "kind cluster: "); ok && kind {
			runID = name
		}
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "kube run: "); ok && isKube {
			runID = id
		}
		if strings.Contains(line, "mesh with all fixtures up") {
			up = true
			break
		}
	}
	if !up || runID == "" {
		_ = cmd.Wait()
		t.Fatalf("the mesh never came up (run id %q); output:\n%s", runID, strings.Join(seen, "\n"))
	}
	if during := leftovers(t, runID); len(during) == 0 {
		t.Fatalf("the check cannot fail: nothing of the running mesh %s is visible", runID)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
			seen = append(seen, sc.Text())
		}
	}()
	_ = cmd.Wait() // interrupted: a non-zero exit is expected
	time.Sleep(200 * time.Millisecond)
	if kind {
		// A failure must not leave a cluster behind for the next run.
		defer func() {
			_ = exec.Command("docker", "rm", "-f", "-v", runID+"-control-plane", runID+"-worker").Run()
		}()
	}
	if after := leftovers(t, runID); len(after) > 0 {
		t.Errorf("left behind after Ctrl-C by run %s: %v", runID, after)
	}
}

// leftovers lists what the embedded mesh of one run holds on the host:
// network namespaces and links (embedded.Leftovers), hosts directories, the
// work directory, and the processes started from it (Envoys and apps).
func leftovers(t *testing.T, runID string) []string {
	t.Helper()
	out, err := embedded.Leftovers(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := filepath.Glob("/etc/netns/mc-" + runID + "-*")
	for _, d := range dirs {
		out = append(out, "hosts dir "+d)
	}
	work, _ := filepath.Glob(filepath.Join(os.TempDir(), "meshcheck-"+runID+"-*"))
	for _, d := range work {
		out = append(out, "work dir "+d)
	}
	// Envoys and apps write their stdout into the run's work directory.
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/1")
	for _, fd := range procs {
		if target, err := os.Readlink(fd); err == nil && strings.Contains(target, "meshcheck-"+runID+"-") {
			cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(fd)), "cmdline"))
			out = append(out, "process "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// kindLeftovers lists the Docker containers of one kind cluster: its nodes
// (kind's cluster label) and its VMs (meshcheck's).
func kindLeftovers(t *testing.T, cluster string) []string {
	t.Helper()
	var out []string
	for _, label := range []string{"io.x-k8s.kind.cluster=" + cluster, kindcluster.OwnerLabel + "=" + cluster} {
		b, err := exec.Command("docker", "ps", "-a", "--filter", "label="+label, "--format", "{{.Names}}").CombinedOutput()
		if err != nil {
			t.Fatalf("docker ps: %v: %s", err, b)
		}
		for _, name := range strings.Fields(string(b)) {
			out = append(out, "container "+name+" ("+label+")")
		}
	}
	return out
}

// kubeLeftovers lists the namespaces of one kube run: those Cleanup would
// delete for it (labelled meshcheck.dev/run=<run ID>, named after it).
func kubeLeftovers(t *testing.T, runID string) []string {
	t.Helper()
	cs, err := kube.Clientset(os.Getenv("KUBECONFIG"), "")
	if err != nil {
		t.Fatal(err)
	}
	names, err := kube.Cleanup(context.Background(), cs, kube.CleanupOptions{RunID: runID, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "namespace " + n
	}
	return out
}
