package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
