package kindmesh

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
)

// dockerOrSkip skips when no Docker daemon answers: the test needs the real
// engine (make e2e-airgap starts one).
func dockerOrSkip(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon: %v: %s", err, strings.TrimSpace(string(out)))
	}
}

// buildVMAppImage builds testdata/vmapp into a FROM-scratch image.
func buildVMAppImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "vmapp"), "./testdata/vmapp")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build vmapp: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY vmapp /vmapp\nENTRYPOINT [\"/vmapp\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	image := "meshcheck.local/kindmesh-vmapp-test:latest"
	cmd := exec.Command("docker", "build", "-q", "-t", image, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	return image
}

// TestVMContainerOnNetwork starts a VM with testcontainers-go on a
// user-defined network and reaches it from another container there, as a
// pod on a kind node reaches the VM on the kind network.
func TestVMContainerOnNetwork(t *testing.T) {
	dockerOrSkip(t)
	image := buildVMAppImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = nw.Remove(context.Background()) }()

	vm, err := StartVMContainer(ctx, VMOptions{Namespace: "vm", Name: "vm1", Image: image, Command: []string{"serve", "80", "vm1"}, Port: 80, Network: nw.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := vm.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	if w := vm.Workload(); w.IP == "" || w.String() != "vm/vm1" || w.Proxy != "" || len(w.Ports) != 1 || w.Ports[0] != 80 {
		t.Errorf("workload %+v", w)
	}

	client, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{Image: image, Cmd: []string{"get", "http://" + vm.IP() + ":80/"}, Networks: []string{nw.Name}},
		Logger:           quiet{},
		Started:          true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = testcontainers.TerminateContainer(client) }()
	var code int
	for {
		st, err := client.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Running {
			code = st.ExitCode
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r, err := client.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if code != 0 || !strings.Contains(string(out), "hello from vm1") {
		t.Errorf("client exited %d with %q; want 0 and the VM's greeting", code, out)
	}

	// A VM whose app cannot start fails with the app's output.
	_, err = StartVMContainer(ctx, VMOptions{Namespace: "vm", Name: "broken", Image: image, Command: []string{"bogus"}, Port: 80, Network: nw.Name})
	if err == nil || !strings.Contains(err.Error(), "exited (code 64)") || !strings.Contains(err.Error(), "usage: vmapp") {
		t.Errorf("broken VM: error %v, want the exit code and the app's usage line", err)
	}
}
