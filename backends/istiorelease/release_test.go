package istiorelease

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

const testVersion = "1.30.2"

// entry is one tar entry of a test archive.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func tarGz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Mode: mode, Linkname: e.link, ModTime: time.Unix(0, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// releaseServer serves files under /<version>/<name> like GitHub's release
// downloads and counts the requests per path.
type releaseServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	// truncate makes the named path send half its body under the full
	// Content-Length and close the connection.
	truncate map[string]bool
	hits     map[string]int
}

func newReleaseServer(t *testing.T) *releaseServer {
	rs := &releaseServer{files: map[string][]byte{}, truncate: map[string]bool{}, hits: map[string]int{}}
	rs.Server = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *releaseServer) serve(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.hits[r.URL.Path]++
	b, ok := rs.files[r.URL.Path]
	cut := rs.truncate[r.URL.Path]
	rs.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	if !cut {
		w.Write(b)
		return
	}
	w.Write(b[:len(b)/2])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// put serves an artifact and, unless sumFile is nil, its .sha256.
func (rs *releaseServer) put(name string, body, sumFile []byte) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.files["/"+testVersion+"/"+name] = body
	if sumFile != nil {
		rs.files["/"+testVersion+"/"+name+".sha256"] = sumFile
	} else {
		delete(rs.files, "/"+testVersion+"/"+name+".sha256")
	}
}

func (rs *releaseServer) requests() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n := 0
	for _, c := range rs.hits {
		n += c
	}
	return n
}

func (rs *releaseServer) opts(t *testing.T) Options {
	return Options{
		BaseURL:  rs.URL,
		CacheDir: t.TempDir(),
		GOOS:     "linux",
		GOARCH:   "amd64",
		Client:   rs.Client(),
		Timeouts: timeouts.Timeouts{ReleaseDownload: 10 * time.Second},
		Logf:     t.Logf,
	}
}

const istioctlName = "istioctl-" + testVersion + "-linux-amd64.tar.gz"
const fullName = "istio-" + testVersion + "-linux-amd64.tar.gz"

func sumLine(b []byte, name string) []byte { return []byte(sum(b) + "  " + name + "\n") }

func istioctlArchive(t *testing.T) []byte {
	return tarGz(t, entry{name: "istioctl", body: "#!/bin/sh\necho istioctl " + testVersion + "\n", mode: 0o755})
}

// leftovers lists temporary files left in the cache.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestIstioctlDownloadsVerifiesAndCaches(t *testing.T) {
	rs := newReleaseServer(t)
	arc := istioctlArchive(t)
	rs.put(istioctlName, arc, sumLine(arc, istioctlName))
	opts := rs.opts(t)

	bin, err := Istioctl(context.Background(), testVersion, opts)
	if err != nil {
		t.Fatalf("Istioctl: %v", err)
	}
	if want := filepath.Join(opts.CacheDir, testVersion, "linux-amd64", "bin", "istioctl"); bin != want {
		t.Errorf("path = %s, want %s", bin, want)
	}
	b, err := os.ReadFile(bin)
	if err != nil || !strings.Contains(string(b), "istioctl "+testVersion) {
		t.Errorf("istioctl content = %q, %v", b, err)
	}
	if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("istioctl not executable: %v %v", fi.Mode(), err)
	}
	if got := rs.requests(); got != 2 {
		t.Errorf("requests = %d, want 2 (.sha256 and archive)", got)
	}
	if l := leftovers(t, opts.CacheDir); len(l) != 0 {
		t.Errorf("temporary files left: %v", l)
	}

	// A cache hit makes no request at all.
	bin2, err := Istioctl(context.Background(), testVersion, opts)
	if err != nil || bin2 != bin {
		t.Fatalf("second Istioctl = %s, %v; want %s", bin2, err, bin)
	}
	if got := rs.requests(); got != 2 {
		t.Errorf("requests after a cache hit = %d, want still 2", got)
	}
}

func TestDamagedCacheEntryIsDownloadedAgain(t *testing.T) {
	rs := newReleaseServer(t)
	arc := istioctlArchive(t)
	rs.put(istioctlName, arc, sumLine(arc, istioctlName))
	opts := rs.opts(t)
	path, hit, err := Archive(context.Background(), testVersion, istioctlName, opts)
	if err != nil || hit {
		t.Fatalf("Archive = %s, hit %v, %v", path, hit, err)
	}
	if err := os.WriteFile(path, arc[:10], 0o644); err != nil {
		t.Fatal(err)
	}
	_, hit, err = Archive(context.Background(), testVersion, istioctlName, opts)
	if err != nil || hit {
		t.Fatalf("Archive on a damaged entry: hit %v, %v; want a fresh download", hit, err)
	}
	if got := rs.requests(); got != 4 {
		t.Errorf("requests = %d, want 4", got)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, arc) {
		t.Errorf("cached archive not restored")
	}
}

func TestDownloadFailures(t *testing.T) {
	good := tarGz(t, entry{name: "istioctl", body: "x", mode: 0o755})
	other := tarGz(t, entry{name: "istioctl", body: "y", mode: 0o755})
	cases := []struct {
		name     string
		setup    func(rs *releaseServer)
		is       error
		contains []string
	}{
		{
			name:     "wrong checksum",
			setup:    func(rs *releaseServer) { rs.put(istioctlName, good, sumLine(other, istioctlName)) },
			is:       ErrChecksum,
			contains: []string{"/" + testVersion + "/" + istioctlName, "sha256 of the", sum(good), "says " + sum(other)},
		},
		{
			name:     "missing .sha256",
			setup:    func(rs *releaseServer) { rs.put(istioctlName, good, nil) },
			is:       ErrNotFound,
			contains: []string{istioctlName + ".sha256", "404 Not Found"},
		},
		{
			name: "archive 404",
			setup: func(rs *releaseServer) {
				rs.files["/"+testVersion+"/"+istioctlName+".sha256"] = sumLine(good, istioctlName)
			},
			is:       ErrNotFound,
			contains: []string{"GET ", "/" + testVersion + "/" + istioctlName + ": 404 Not Found"},
		},
		{
			name: "interrupted download",
			setup: func(rs *releaseServer) {
				rs.put(istioctlName, good, sumLine(good, istioctlName))
				rs.truncate["/"+testVersion+"/"+istioctlName] = true
			},
			contains: []string{"body broke off after", fmt.Sprintf("of %d bytes", len(good))},
		},
		{
			name: ".sha256 for another file",
			setup: func(rs *releaseServer) {
				rs.put(istioctlName, good, sumLine(good, "istioctl-1.29.0-linux-amd64.tar.gz"))
			},
			is:       ErrBadChecksumFile,
			contains: []string{"no hash for " + istioctlName, "1.29.0"},
		},
		{
			name:     "garbage .sha256",
			setup:    func(rs *releaseServer) { rs.put(istioctlName, good, []byte("<html>rate limited</html>")) },
			is:       ErrBadChecksumFile,
			contains: []string{istioctlName + ".sha256", "64 hex digits"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := newReleaseServer(t)
			tc.setup(rs)
			opts := rs.opts(t)
			_, err := Istioctl(context.Background(), testVersion, opts)
			if err == nil {
				t.Fatal("Istioctl succeeded, want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			for _, c := range tc.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not contain %q", err, c)
				}
			}
			// Nothing that failed may look like a cache entry.
			dir := filepath.Join(opts.CacheDir, testVersion)
			for _, p := range []string{istioctlName, istioctlName + ".sha256", "linux-amd64/bin/istioctl"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
					t.Errorf("%s exists after a failed download", p)
				}
			}
			if l := leftovers(t, opts.CacheDir); len(l) != 0 {
				t.Errorf("temporary files left: %v", l)
			}
			// Once the server is fixed the same cache works.
			rs.mu.Lock()
			rs.truncate = map[string]bool{}
			rs.mu.Unlock()
			rs.put(istioctlName, good, sumLine(good, istioctlName))
			if _, err := Istioctl(context.Background(), testVersion, opts); err != nil {
				t.Errorf("after fixing the server: %v", err)
			}
		})
	}
}

func TestReleaseUnpacksSamples(t *testing.T) {
	rs := newReleaseServer(t)
	top := "istio-" + testVersion
	arc := tarGz(t,
		entry{name: top + "/", typ: tar.TypeDir, mode: 0o755},
		entry{name: top + "/bin/istioctl", body: "bin", mode: 0o755},
		entry{name: top + "/samples/bookinfo/platform/kube/bookinfo.yaml", body: "kind: Service\n"},
		entry{name: top + "/samples/bookinfo/latest", typ: tar.TypeSymlink, link: "platform"},
		entry{name: top + "/manifests/profiles/demo.yaml", body: "spec: {}\n"},
	)
	rs.put(fullName, arc, sumLine(arc, fullName))
	opts := rs.opts(t)
	dir, err := Release(context.Background(), testVersion, opts)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "samples/bookinfo/latest/kube/bookinfo.yaml"))
	if err != nil || string(b) != "kind: Service\n" {
		t.Errorf("bookinfo.yaml through the link = %q, %v", b, err)
	}
	if _, err := Release(context.Background(), testVersion, opts); err != nil || rs.requests() != 2 {
		t.Errorf("second Release: %v, %d requests (want 2 in all)", err, rs.requests())
	}
}

func TestReleaseRejectsUnexpectedLayout(t *testing.T) {
	rs := newReleaseServer(t)
	arc := tarGz(t, entry{name: "istio-1.29.0/samples/x", body: "x"})
	rs.put(fullName, arc, sumLine(arc, fullName))
	_, err := Release(context.Background(), testVersion, rs.opts(t))
	if err == nil || !strings.Contains(err.Error(), "want one top directory istio-"+testVersion+"/") || !strings.Contains(err.Error(), "istio-1.29.0") {
		t.Fatalf("Release = %v, want the unexpected top directory named", err)
	}
}

func TestUnsafeArchives(t *testing.T) {
	cases := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"parent traversal", []entry{{name: "istioctl", body: "x"}, {name: "../evil", body: "x"}}, `"../evil" is not a path inside`},
		{"traversal inside a path", []entry{{name: "a/../../evil", body: "x"}}, `"a/../../evil" is not a path inside`},
		{"absolute path", []entry{{name: "/tmp/evil", body: "x"}}, `"/tmp/evil" is not a path inside`},
		{"link out", []entry{{name: "l", typ: tar.TypeSymlink, link: "../../etc"}}, `link "l" points to "../../etc"`},
		{"absolute link", []entry{{name: "l", typ: tar.TypeSymlink, link: "/etc/passwd"}}, `points to "/etc/passwd"`},
		{"hard link out", []entry{{name: "h", typ: tar.TypeLink, link: "../x"}}, `hard link "h" points to "../x"`},
		{"write through a link", []entry{
			{name: "d/", typ: tar.TypeDir},
			{name: "d/l", typ: tar.TypeSymlink, link: ".."},
			{name: "d/l/m", typ: tar.TypeSymlink, link: ".."},
		}, `"d/l/m" lies under the link "d/l"`},
		{"device", []entry{{name: "dev", typ: tar.TypeChar}}, `"dev" is of tar type "3"`},
		{"too big", []entry{{name: "big", body: strings.Repeat("x", 2048)}}, "past 1024 bytes unpacked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			if err := os.Mkdir(dest, 0o755); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(parent, "a.tar.gz")
			if err := os.WriteFile(src, tarGz(t, tc.entries...), 0o644); err != nil {
				t.Fatal(err)
			}
			err := extractTarGz(src, dest, 1024)
			if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("extract = %v, want %v containing %q", err, ErrUnsafeArchive, tc.want)
			}
			ents, _ := os.ReadDir(parent)
			if len(ents) != 2 {
				t.Errorf("something was written beside the target: %v", ents)
			}
		})
	}
}

// The istioctl path refuses a traversal entry end to end, and caches no
// istioctl.
func TestIstioctlRefusesTraversal(t *testing.T) {
	rs := newReleaseServer(t)
	arc := tarGz(t, entry{name: "istioctl", body: "x", mode: 0o755}, entry{name: "../../../escaped", body: "x"})
	rs.put(istioctlName, arc, sumLine(arc, istioctlName))
	opts := rs.opts(t)
	_, err := Istioctl(context.Background(), testVersion, opts)
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), "../../../escaped") {
		t.Fatalf("Istioctl = %v, want %v naming the entry", err, ErrUnsafeArchive)
	}
	if _, err := os.Stat(filepath.Join(opts.CacheDir, testVersion, "linux-amd64", "bin", "istioctl")); err == nil {
		t.Error("istioctl was cached from an unsafe archive")
	}
}

func TestArtifactNames(t *testing.T) {
	cases := []struct {
		version, goos, goarch string
		want                  Artifacts
		err                   string
	}{
		{"1.30.2", "linux", "amd64", Artifacts{"istioctl-1.30.2-linux-amd64.tar.gz", "istio-1.30.2-linux-amd64.tar.gz"}, ""},
		{"1.29.0", "linux", "arm64", Artifacts{"istioctl-1.29.0-linux-arm64.tar.gz", "istio-1.29.0-linux-arm64.tar.gz"}, ""},
		{"1.31.0-rc.0", "darwin", "arm64", Artifacts{"istioctl-1.31.0-rc.0-osx-arm64.tar.gz", "istio-1.31.0-rc.0-osx-arm64.tar.gz"}, ""},
		{"1.31.1", "darwin", "amd64", Artifacts{"istioctl-1.31.1-osx.tar.gz", "istio-1.31.1-osx.tar.gz"}, ""},
		{"v1.30.2", "linux", "amd64", Artifacts{}, `version "v1.30.2": want X.Y.Z`},
		{"1.30", "linux", "amd64", Artifacts{}, `version "1.30"`},
		{"1.30.2/../x", "linux", "amd64", Artifacts{}, `version "1.30.2/../x"`},
		{"1.30.2", "windows", "amd64", Artifacts{}, "no Istio release archive for windows/amd64"},
	}
	for _, tc := range cases {
		got, err := ArtifactNames(tc.version, tc.goos, tc.goarch)
		if tc.err != "" {
			if !errors.Is(err, ErrBadOption) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ArtifactNames(%s, %s/%s) = %v, want an error containing %q", tc.version, tc.goos, tc.goarch, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ArtifactNames(%s, %s/%s) = %+v, %v; want %+v", tc.version, tc.goos, tc.goarch, got, err, tc.want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{BaseURL: "ftp://mirror/istio", CacheDir: "x"},
		{CacheDir: "x", Timeouts: timeouts.Timeouts{ReleaseDownload: -1}},
	} {
		if _, err := Istioctl(context.Background(), testVersion, o); err == nil {
			t.Errorf("Istioctl with %+v succeeded", o)
		}
	}
	if _, _, err := Archive(context.Background(), testVersion, "../x.tar.gz", Options{CacheDir: t.TempDir()}); !errors.Is(err, ErrBadOption) {
		t.Errorf("Archive with a path as artifact = %v, want %v", err, ErrBadOption)
	}
}
