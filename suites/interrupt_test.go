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
)

// Ctrl-C while the mesh is up tears everything down: no network namespace,
// bridge, veth, hosts directory, Envoy, app or work directory is left.
func TestInterruptLeavesNothing(t *testing.T) {
	if os.Getenv("MESHCHECK_E2E") == "" || os.Getenv("MESHCHECK_INTERRUPT_CHILD") != "" {
		t.Skip("brings up a mesh: run with make e2e-local")
	}
	before := leftovers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestSuites$", "-ginkgo.label-filter=whoami", "-ginkgo.v", "-ginkgo.no-color")
	cmd.Env = append(os.Environ(), "MESHCHECK_INTERRUPT_CHILD=1", "MESHCHECK_REPORTS="+t.TempDir())
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
	up := false
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if strings.Contains(line, "mesh with all fixtures up") {
			up = true
			break
		}
	}
	if !up {
		_ = cmd.Wait()
		t.Fatalf("the mesh never came up; output:\n%s", strings.Join(seen, "\n"))
	}
	if during := leftovers(t); len(during) <= len(before) {
		t.Fatalf("the check cannot fail: nothing of the running mesh is visible (%v)", during)
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
	if after := leftovers(t); len(after) > len(before) {
		t.Errorf("left behind after Ctrl-C: %v (before the run: %v)", after, before)
	}
}

// leftovers lists what an embedded mesh creates on the host.
func leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	if b, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "mc-") {
				out = append(out, "netns "+strings.Fields(l)[0])
			}
		}
	}
	if b, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && (strings.HasPrefix(f[1], "mcb") || strings.HasPrefix(f[1], "mcv")) {
				out = append(out, "link "+strings.TrimSuffix(f[1], ":"))
			}
		}
	}
	dirs, _ := filepath.Glob("/etc/netns/mc-*")
	for _, d := range dirs {
		out = append(out, "hosts dir "+d)
	}
	work, _ := filepath.Glob(filepath.Join(os.TempDir(), "meshcheck-??????-*"))
	for _, d := range work {
		out = append(out, "work dir "+d)
	}
	if b, err := exec.Command("pgrep", "-af", "meshcheck-envoy/envoy|workload run").Output(); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" && !strings.Contains(l, "pgrep") {
				out = append(out, "process "+l)
			}
		}
	}
	return out
}
