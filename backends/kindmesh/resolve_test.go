package kindmesh

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/config"
)

// fakeReleaseCache puts release 1.30.4's istioctl and full archives, with
// their checksums, where istiorelease keeps its cache (XDG_CACHE_HOME),
// so resolving needs no download.
func fakeReleaseCache(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the fake archives are linux-amd64")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	dir := filepath.Join(cache, "meshcheck", "istio", "1.30.4")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, files := range map[string]map[string]string{
		"istioctl-1.30.4-linux-amd64.tar.gz": {"istioctl": "#!/bin/sh\n"},
		"istio-1.30.4-linux-amd64.tar.gz": {"istio-1.30.4/samples/bookinfo/platform/kube/bookinfo.yaml": "spec:\n  containers:\n" +
			"  - name: details\n    image: docker.io/istio/examples-bookinfo-details-v1:1.20.3\n"},
	} {
		arc := tarGz(t, files)
		s := sha256.Sum256(arc)
		write(t, filepath.Join(dir, name), arc)
		write(t, filepath.Join(dir, name+".sha256"), []byte(hex.EncodeToString(s[:])+"  "+name+"\n"))
	}
}

func tarGz(t *testing.T, files map[string]string) []byte {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// unreachable is a mirror no request reaches: only the cache can answer.
const unreachable = "http://127.0.0.1:1"

func kindRun(edit func(r *config.Run)) config.Run {
	r := config.Default()
	r.Backend, r.ReportDir = config.Kind, "/r"
	edit(&r)
	return r
}

// A fake bin/istioctl under a fake repository root, and Docker holding
// every image but those in missing.
func localResolver(t *testing.T, missing ...string) resolver {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	write(t, filepath.Join(root, "bin", "istioctl"), []byte("#!/bin/sh\n"))
	return resolver{
		root: func() (string, error) { return root, nil },
		inspect: func(_ context.Context, images []string) error {
			var gone []string
			for _, img := range images {
				for _, m := range missing {
					if img == m {
						gone = append(gone, img)
					}
				}
			}
			if len(gone) > 0 {
				return errors.New("missing " + strings.Join(gone, ", "))
			}
			return nil
		},
	}
}

func TestResolve(t *testing.T) {
	fakeReleaseCache(t)
	tests := []struct {
		name string
		cfg  config.Run
		want func(o *Options)
	}{
		{"release, upstream images", kindRun(func(r *config.Run) { r.Istio.Version, r.Istio.Mirror = "1.30.4", unreachable }), func(o *Options) {
			o.Install.Version = "1.30.4"
			o.FixtureVars = map[string]string{"bookinfoRegistry": "docker.io/istio", "bookinfoTag": "1.20.3"}
			o.VMImage, o.VMCommand = "docker.io/traefik/whoami:v1.10", []string{"--port", "80", "--name", "{name}"}
		}},
		{"release from a mirror, two nodes, kept", kindRun(func(r *config.Run) {
			r.Istio.Version, r.Istio.Mirror, r.ImageRegistry, r.Nodes, r.Keep = "1.30.4", unreachable, "mirror.example:5000", 2, true
		}), func(o *Options) {
			o.Install.Version, o.Install.Hub, o.Install.Tag, o.Cluster.Workers, o.Keep = "1.30.4", "mirror.example:5000/istio", "1.30.4", 1, true
			o.FixtureVars = map[string]string{"bookinfoRegistry": "mirror.example:5000/istio", "bookinfoTag": "1.20.3",
				"whoamiRegistry": "mirror.example:5000/traefik", "curlRegistry": "mirror.example:5000/curlimages"}
			o.VMImage, o.VMCommand = "mirror.example:5000/traefik/whoami:v1.10", []string{"--port", "80", "--name", "{name}"}
		}},
		{"the images built here", kindRun(func(r *config.Run) { r.ImageRegistry, r.Local.K8sVersion = "meshcheck.local", "1.36.3" }), func(o *Options) {
			o.Cluster.NodeImage = "meshcheck.local/kind-node:v1.36.3"
			o.Install.Version, o.Install.Hub, o.Install.Tag, o.Install.EmbeddedParity = "1.31.1", "meshcheck.local/istio", "local", true
			o.Images = []string{"meshcheck.local/istio/pilot:local", "meshcheck.local/istio/proxyv2:local"}
			for _, n := range localFixtureImages {
				o.Images = append(o.Images, "meshcheck.local/"+n+":local")
			}
			o.FixtureVars = map[string]string{}
			for _, app := range []string{"bookinfo", "whoami", "curl"} {
				o.FixtureVars[app+"Registry"], o.FixtureVars[app+"Tag"] = "meshcheck.local", "local"
			}
			o.VMImage, o.VMCommand = "meshcheck.local/whoami:local", []string{"--name", "{name}"}
		}},
		{"the run's own settings win", kindRun(func(r *config.Run) {
			r.Istio.Version, r.Istio.Mirror, r.NodeImage = "1.30.4", unreachable, "kindest/node:v1.35.0"
			r.Kind = config.KindOptions{WorkDir: "/w", Cluster: "mine", Reuse: true, Istioctl: "/bin/true", Images: []string{"x:1"},
				FixtureVars: map[string]string{"bookinfoTag": "9"}, VMImage: "vm:1", VMCommand: []string{"serve"}}
			r.Mesh = config.MeshOptions{AccessLogEncoding: "text", DNSCapture: true, DNSAutoAllocate: true, Parity: true}
		}), func(o *Options) {
			o.Cluster.Name, o.Cluster.NodeImage, o.Reuse, o.WorkDir, o.Istioctl, o.Images = "mine", "kindest/node:v1.35.0", true, "/w", "/bin/true", []string{"x:1"}
			o.Install = istioOpts("1.30.4")
			o.Install.AccessLogEncoding, o.Install.DNSCapture, o.Install.DNSAutoAllocate, o.Install.EmbeddedParity = "TEXT", true, true, true
			o.FixtureVars = map[string]string{"bookinfoRegistry": "docker.io/istio", "bookinfoTag": "9"}
			o.VMImage, o.VMCommand = "vm:1", []string{"serve"}
		}},
	}
	rs := localResolver(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rs.resolve(context.Background(), tt.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := Options{WorkDir: "/r/kind", Cluster: clusterOpts("", got.Cluster.Name), Install: istioOpts("")}
			want.Istioctl = got.Istioctl // the cache's or the fake root's, checked below
			tt.want(&want)
			if tt.cfg.Kind.Cluster == "" && !regexp.MustCompile(`^meshcheck-1-3[01]-[0-9a-f]{6}$`).MatchString(got.Cluster.Name) {
				t.Errorf("cluster name %q: want a fresh meshcheck-1-3X-<hex>", got.Cluster.Name)
			}
			if !strings.HasSuffix(got.Istioctl, "istioctl") && got.Istioctl != "/bin/true" {
				t.Errorf("istioctl %q", got.Istioctl)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Resolve:\n got %+v\nwant %+v", got, want)
			}
			if _, err := New(got); err != nil {
				t.Errorf("New with the resolved options: %v", err)
			}
		})
	}
}

func clusterOpts(nodeImage, name string) (o kindcluster.Options) {
	o.Name, o.NodeImage, o.IngressNodePort = name, nodeImage, 30080
	if nodeImage == "" {
		o.NodeImage = "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"
	}
	return o
}

func istioOpts(version string) istioinstall.Options {
	return istioinstall.Options{Version: version}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config.Run
		missing []string
		cache   bool
		want    []string
	}{
		{"not kind", config.Default(), nil, false, []string{"the run's backend is embedded, not kind"}},
		{"invalid", kindRun(func(r *config.Run) { r.Nodes = 3 }), nil, false, []string{"Nodes (--nodes, $NODES): 3"}},
		{"unsupported minor", kindRun(func(r *config.Run) { r.Istio.Version = "1.27.0" }), nil, false,
			[]string{"kindmesh: istioinstall: unsupported Istio version: 1.27.0", "supported minors", "(from Istio.Version, --istio-version, $ISTIO_VERSION)"}},
		{"no download and no cache", kindRun(func(r *config.Run) { r.Istio.Version, r.Istio.Mirror = "1.30.4", unreachable }), nil, false,
			[]string{"kindmesh: Istio 1.30.4: ", unreachable + "/1.30.4/istioctl-1.30.4-linux-amd64.tar.gz.sha256", "connection refused"}},
		{"images missing", kindRun(func(*config.Run) {}), []string{"meshcheck.local/istio/pilot:local", "meshcheck.local/curl:local"}, false,
			[]string{"missing meshcheck.local/istio/pilot:local, meshcheck.local/curl:local: run make images", "ISTIO_HUB=meshcheck.local/istio"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			_, err := localResolver(t, tt.missing...).resolve(context.Background(), tt.cfg, nil)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
	// bin/istioctl missing.
	rs := localResolver(t)
	root, _ := rs.root()
	os.Remove(filepath.Join(root, "bin", "istioctl"))
	if _, err := rs.resolve(context.Background(), kindRun(func(*config.Run) {}), nil); err == nil || !strings.Contains(err.Error(), "bin/istioctl is missing: run make images") {
		t.Errorf("no istioctl: %v", err)
	}
}

// The air-gapped version label is the minor go.mod pins.
func TestAirgapIstioVersionIsThePinnedOne(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*istio\.io/api v(\S+)$`).FindSubmatch(mod)
	if m == nil || string(m[1]) != AirgapIstioVersion {
		t.Errorf("go.mod pins istio.io/api %q; AirgapIstioVersion is %s", m, AirgapIstioVersion)
	}
}
