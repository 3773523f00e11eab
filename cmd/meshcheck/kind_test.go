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

// TestKindRelease serves a release-shaped istioctl archive, a full release
// with Bookinfo's manifest, and their checksums from a local server: the
// command prints where istioctl is, the node image of the minor and the
// Bookinfo images the samples name; a wrong checksum fails with both
// hashes, a release without the manifest names the file.
func TestKindRelease(t *testing.T) {
	type file struct {
		name string
		mode int64
		body []byte
	}
	targz := func(files ...file) []byte {
		var b bytes.Buffer
		gz := gzip.NewWriter(&b)
		tw := tar.NewWriter(gz)
		for _, f := range files {
			if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			tw.Write(f.body)
		}
		tw.Close()
		gz.Close()
		return b.Bytes()
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	body := []byte("#!/bin/sh\necho istioctl\n")
	ctl := targz(file{"istioctl", 0o755, body})
	full := targz(file{"istio-1.30.4/samples/bookinfo/platform/kube/bookinfo.yaml", 0o644,
		[]byte("spec:\n  containers:\n  - name: details\n    image: docker.io/istio/examples-bookinfo-details-v1:1.20.3\n")})
	artifacts := map[string][]byte{"istioctl-1.30.4-linux-amd64.tar.gz": ctl, "istio-1.30.4-linux-amd64.tar.gz": full}
	checksum := map[string]string{}
	for n, b := range artifacts {
		checksum[n] = sum(b)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/1.30.4/")
		if b, ok := artifacts[name]; ok {
			w.Write(b)
			return
		}
		if a, ok := strings.CutSuffix(name, ".sha256"); ok && checksum[a] != "" {
			fmt.Fprintf(w, "%s  %s\n", checksum[a], a)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the served archives are linux-amd64")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())

	good := checksum["istioctl-1.30.4-linux-amd64.tar.gz"]
	checksum["istioctl-1.30.4-linux-amd64.tar.gz"] = strings.Repeat("0", 64)
	code, _, errs := runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL)
	if code != exitFail || !strings.Contains(errs, good) || !strings.Contains(errs, strings.Repeat("0", 64)) {
		t.Errorf("wrong checksum: exit %d, stderr %q; want exit 1 naming both hashes", code, errs)
	}
	checksum["istioctl-1.30.4-linux-amd64.tar.gz"] = good
	code, out, errs := runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL)
	for _, want := range []string{"NODE_IMAGE=kindest/node:v1.36.4@sha256:", "BOOKINFO_REGISTRY=docker.io/istio\n", "BOOKINFO_TAG=1.20.3\n", "RELEASE_DIR="} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("exit %d, stdout %q, stderr %q: want %q", code, out, errs, want)
		}
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
	// Without samples: the registry from the version table, no download.
	code, out, _ = runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL, "--samples=false")
	if code != exitOK || !strings.Contains(out, "BOOKINFO_REGISTRY=registry.istio.io/release") || strings.Contains(out, "BOOKINFO_TAG") {
		t.Errorf("--samples=false: exit %d, stdout %q", code, out)
	}
	// A release whose samples lack Bookinfo's manifest fails naming the file.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	artifacts["istio-1.30.4-linux-amd64.tar.gz"] = targz(file{"istio-1.30.4/samples/README.md", 0o644, []byte("x")})
	checksum["istio-1.30.4-linux-amd64.tar.gz"] = sum(artifacts["istio-1.30.4-linux-amd64.tar.gz"])
	if code, _, errs := runCLI("", "kind", "release", "--istio-version", "1.30.4", "--mirror", srv.URL); code != exitFail || !strings.Contains(errs, "bookinfo.yaml") {
		t.Errorf("no Bookinfo manifest: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := runCLI("", "kind", "release", "--istio-version", "1.27.0"); code != exitUsage || !strings.Contains(errs, "supported minors") {
		t.Errorf("unsupported: exit %d, %q", code, errs)
	}
}

func TestKindDeleteAndExportUsage(t *testing.T) {
	for _, args := range [][]string{{"kind", "delete"}, {"kind", "export-logs", "--name", "x"}, {"kind", "delete", "--name", "x", "extra"}} {
		if code, _, errs := runCLI("", args...); code != exitUsage || !strings.Contains(errs, "want --name") {
			t.Errorf("%v: exit %d, stderr %q; want usage", args, code, errs)
		}
	}
}
