package main

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The fixture images must stay small and static: nothing of Istio's (pilot,
// go-control-plane, client-go) may be linked.
func TestLinksNoIstio(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "istio.io/") || strings.HasPrefix(p, "github.com/envoyproxy/") || strings.HasPrefix(p, "k8s.io/") ||
			strings.HasPrefix(p, "google.golang.org/") || strings.HasPrefix(p, "github.com/meshcheck/meshcheck/backends/embedded") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("meshcheck-app links %d packages it must not: %s", len(bad), strings.Join(bad, " "))
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{nil, 64, "", "meshcheck-app run [flags]"},
		{[]string{"-h"}, 0, "", "Exit codes: 0 ok, 1 failed, 64 usage."},
		{[]string{"serve"}, 64, "", `unknown command "serve": want run, fetch or version`},
		{[]string{"version"}, 0, "meshcheck-app ", ""},
		{[]string{"run", "--app", "whoami"}, 64, "", "meshcheck-app run: --app and --listen are required"},
		{[]string{"fetch"}, 64, "", "meshcheck-app fetch: want exactly one URL"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("meshcheck-app %q: exit %d, stdout %q, stderr %q; want %d, stdout with %q, stderr with %q", tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.err)
		}
	}
}

// lockedBuffer is a bytes.Buffer written by a child process and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestStaticBinary builds the binary as the images do (CGO_ENABLED=0),
// checks it has no ELF interpreter (so it runs FROM scratch), serves whoami
// with it, fetches through it, and stops it with SIGTERM as a kubelet would.
func TestStaticBinary(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "meshcheck-app")
	build := exec.Command(goBin, "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("reading %s as ELF: %v", bin, err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it needs a libc and will not run FROM scratch", bin)
		}
	}
	f.Close()

	srv := exec.Command(bin, "run", "--app", "whoami", "--listen", "127.0.0.1:0", "--name", "whoami-v2-abc")
	stderr := &lockedBuffer{}
	srv.Stderr = stderr
	if err := srv.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill() })
	listening := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		t.Fatalf("meshcheck-app run did not say where it listens: %s", stderr.String())
	}
	out, err := exec.Command(bin, "fetch", "http://"+addr+"/", "--header", "x-request-id=img-1").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "HTTP/1.1 200 OK\n") || !strings.Contains(string(out), "\nHostname: whoami-v2-abc\n") {
		t.Errorf("meshcheck-app fetch: %v; want 200 with Hostname: whoami-v2-abc in\n%s", err, out)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("meshcheck-app run after SIGTERM: %v, want exit 0; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("meshcheck-app run did not stop on SIGTERM: %s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"GET / HTTP/1.1" 200`) || !strings.Contains(stderr.String(), "x-request-id=img-1") || !strings.Contains(stderr.String(), "whoami stopped") {
		t.Errorf("meshcheck-app run's log lacks the request line or the stop line:\n%s", stderr.String())
	}
}
