package kindcluster

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// fakeDocker serves /_ping on a unix socket the way dockerd does.
func fakeDocker(t *testing.T, status int, body string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

// closedPort returns a 127.0.0.1 address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestPreflight(t *testing.T) {
	release := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			t.Errorf("release probe used %s, want HEAD", r.Method)
		}
		if strings.Contains(r.URL.Path, "9.9.9") {
			http.NotFound(w, r)
		}
	}))
	defer release.Close()
	goodURL := release.URL + "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz"
	missingSock := "unix://" + filepath.Join(t.TempDir(), "no-such", "docker.sock")
	closed := closedPort(t)

	cases := []struct {
		name       string
		dockerHost string
		url        string
		is         error
		want       []string
	}{
		{"all there", fakeDocker(t, 200, "OK"), goodURL, nil, nil},
		{"no release check", fakeDocker(t, 200, "OK"), "", nil, nil},
		{"no docker socket", missingSock, goodURL, ErrNoDocker,
			[]string{"no Docker daemon at " + missingSock + ": ", "no such file or directory", "start dockerd (or set DOCKER_HOST) or use make e2e-local"}},
		{"docker port closed", "tcp://" + closed, goodURL, ErrNoDocker,
			[]string{"no Docker daemon at tcp://" + closed, "connection refused", "use make e2e-local"}},
		{"not docker", fakeDocker(t, 500, "busy"), goodURL, ErrNoDocker,
			[]string{`GET /_ping answered 500 Internal Server Error "busy"`}},
		{"docker host scheme", "ssh://host", goodURL, ErrNoDocker, []string{`scheme "ssh"`}},
		// Docker is checked first: with both missing only Docker is named.
		{"both missing", missingSock, "http://" + closed + "/x", ErrNoDocker, []string{"no Docker daemon"}},
		{"release port closed", fakeDocker(t, 200, "OK"), "http://" + closed + "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz", ErrNoRelease,
			[]string{"cannot reach http://" + closed + "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz", "connection refused", "set MESHCHECK_ISTIO_MIRROR to a mirror of the release downloads, or use make e2e-airgap"}},
		{"release 404", fakeDocker(t, 200, "OK"), release.URL + "/9.9.9/istioctl-9.9.9-linux-amd64.tar.gz", ErrNoRelease,
			[]string{"404 Not Found: no such Istio release there; check ISTIO_VERSION"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := Preflight(context.Background(), PreflightOptions{
				DockerHost: tc.dockerHost,
				ReleaseURL: tc.url,
				Client:     release.Client(),
				Timeouts:   timeouts.Timeouts{Preflight: 2 * time.Second},
			})
			if time.Since(start) > time.Second {
				t.Errorf("Preflight took %v: a missing precondition must fail at once", time.Since(start))
			}
			if tc.is == nil {
				if err != nil {
					t.Fatalf("Preflight = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("Preflight = %v, want %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A daemon that accepts but never answers is cut off by Timeouts.Preflight.
func TestPreflightTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	err = Preflight(context.Background(), PreflightOptions{DockerHost: "unix://" + sock, Timeouts: timeouts.Timeouts{Preflight: 200 * time.Millisecond}})
	if !errors.Is(err, ErrNoDocker) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Preflight = %v, want %v with the deadline", err, ErrNoDocker)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
