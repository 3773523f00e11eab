package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestKindPreflight(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	release := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer release.Close()
	noSock := "unix://" + filepath.Join(t.TempDir(), "docker.sock")

	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no version", []string{"--docker-host", noSock}, exitUsage, "--istio-version is required (supported minors: 1.29, 1.30, 1.31)"},
		{"unsupported", []string{"--istio-version", "1.27.3"}, exitUsage, "Istio 1.27 on kind is not supported; supported minors: 1.29, 1.30, 1.31"},
		{"bad version", []string{"--istio-version", "v1.30.2"}, exitUsage, "no leading v"},
		{"no docker", []string{"--istio-version", "1.30.2", "--docker-host", noSock, "--mirror", release.URL}, exitFail,
			"no Docker daemon at " + noSock},
		{"docker refused", []string{"--istio-version", "1.30.2", "--docker-host", "tcp://" + closed, "--mirror", release.URL}, exitFail,
			"start dockerd (or set DOCKER_HOST) or use make e2e-local"},
		{"extra args", []string{"--istio-version", "1.30.2", "x"}, exitUsage, "unexpected arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI("", append([]string{"kind", "preflight"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, errs, tc.code, tc.err)
			}
		})
	}
}

func TestKindConfigAndVersions(t *testing.T) {
	code, out, errs := runCLI("", "kind", "config", "--istio-version", "1.30.4", "--name", "meshcheck-1-30-abcdef", "--workers", "1")
	if code != exitOK || !strings.Contains(out, "containerPort: 30080") || !strings.Contains(out, "role: worker") || !strings.Contains(out, "kindest/node:v1.36.4@sha256:") {
		t.Errorf("kind config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, errs := runCLI("", "kind", "config", "--istio-version", "1.28.0"); code != exitUsage || !strings.Contains(errs, "supported minors") {
		t.Errorf("kind config 1.28: exit %d, stderr %q", code, errs)
	}
	code, out, _ = runCLI("", "kind", "versions")
	for _, want := range []string{"1.29   1.29.9", "1.30   1.30.4", "1.31   1.31.1"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("kind versions: exit %d, want %q in\n%s", code, want, out)
		}
	}
}

// TestKindRelease serves a release-shaped istioctl archive and its
// checksum from a local server: the command prints where istioctl is and
// what else a run of that minor uses; a wrong checksum fails with both
// hashes.
func TestKindRelease(t *testing.T) {
	var tgz bytes.Buffer
	gz := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(gz)
	body := []byte("#!/bin/sh\necho istioctl\n")
	if err := tw.WriteHeader(&tar.Header{Name: "istioctl", Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	gz.Close()
	sum := sha256.Sum256(tgz.Bytes())
	good := hex.EncodeToString(sum[:])
	checksum := good
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz":
			w.Write(tgz.Bytes())
		case "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz.sha256":
			fmt.Fprintf(w, "%s  istioctl-1.30.4-linux-amd64.tar.gz\n", checksum)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the served archive is linux-amd64")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())

	checksum = strings.Repeat("0", 64)
	code, _, errs := runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL)
	if code != exitFail || !strings.Contains(errs, good) || !strings.Contains(errs, checksum) {
		t.Errorf("wrong checksum: exit %d, stderr %q; want exit 1 naming both hashes", code, errs)
	}
	checksum = good
	code, out, errs := runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL)
	if code != exitOK || !strings.Contains(out, "NODE_IMAGE=kindest/node:v1.36.4@sha256:") || !strings.Contains(out, "BOOKINFO_REGISTRY=registry.istio.io/release") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	var bin string
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "ISTIOCTL="); ok {
			bin = v
		}
	}
	if got, err := os.ReadFile(bin); err != nil || !bytes.Equal(got, body) {
		t.Errorf("istioctl at %q: %q, %v", bin, got, err)
	}
	if code, _, errs := runCLI("", "kind", "release", "--istio-version", "1.27.0"); code != exitUsage || !strings.Contains(errs, "supported minors") {
		t.Errorf("unsupported: exit %d, %q", code, errs)
	}
}

func TestKindDeleteAndExportUsage(t *testing.T) {
	t.Setenv("MESHCHECK_KIND_CLUSTER", "")
	for _, args := range [][]string{{"kind", "delete"}, {"kind", "export-logs", "--name", "x"}, {"kind", "delete", "--name", "x", "extra"}} {
		if code, _, errs := runCLI("", args...); code != exitUsage || !strings.Contains(errs, "want --name") {
			t.Errorf("%v: exit %d, stderr %q; want usage", args, code, errs)
		}
	}
}
