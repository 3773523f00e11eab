package istiorelease

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/meshcheck/meshcheck/timeouts"
)

// DefaultBaseURL is where Istio publishes its releases: an artifact of
// release X.Y.Z is at <DefaultBaseURL>/X.Y.Z/<artifact>, its checksum at
// the same URL plus ".sha256". A mirror must keep that layout.
const DefaultBaseURL = "https://github.com/istio/istio/releases/download"

// DefaultMaxExtractBytes bounds what one archive may unpack to (the full
// 1.30 release unpacks to about 100 MB).
const DefaultMaxExtractBytes = 1 << 30

// maxChecksumBytes bounds a .sha256 file: one line of hash and file name.
const maxChecksumBytes = 4096

// Sentinel errors, matched with errors.Is.
var (
	// ErrChecksum: the archive's sha256 is not the one its .sha256 names.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotFound: the server answered 404 (no such release or artifact).
	ErrNotFound = errors.New("not found")
	// ErrBadChecksumFile: the .sha256 file is not "<64 hex digits>  <name>".
	ErrBadChecksumFile = errors.New("bad .sha256 file")
	// ErrUnsafeArchive: an entry would land outside the target directory, or
	// is of a kind that is never extracted.
	ErrUnsafeArchive = errors.New("unsafe archive entry")
	// ErrBadOption: an option or argument cannot be used.
	ErrBadOption = errors.New("bad option")
)

// Options says where releases come from and where they are kept. The zero
// value downloads from GitHub for the host's OS and architecture into the
// user's cache directory.
type Options struct {
	// BaseURL is the release download root (default DefaultBaseURL); set it
	// to a mirror with the same layout.
	BaseURL string
	// CacheDir holds one directory per version (default
	// os.UserCacheDir()/meshcheck/istio).
	CacheDir string
	// GOOS and GOARCH select the artifacts (default the host's).
	GOOS, GOARCH string
	// Client does the requests (default: a client without its own timeout;
	// Timeouts.ReleaseDownload bounds each artifact).
	Client *http.Client
	// Timeouts bounds each download (ReleaseDownload); zero fields take
	// their defaults.
	Timeouts timeouts.Timeouts
	// MaxExtractBytes bounds what one archive unpacks to (default
	// DefaultMaxExtractBytes).
	MaxExtractBytes int64
	// Logf receives progress lines (downloads, cache hits); nil drops them.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() (Options, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if !strings.HasPrefix(o.BaseURL, "http://") && !strings.HasPrefix(o.BaseURL, "https://") {
		return o, fmt.Errorf("istiorelease: %w: BaseURL %q is not an http or https URL", ErrBadOption, o.BaseURL)
	}
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("istiorelease: no cache directory (set Options.CacheDir): %w", err)
		}
		o.CacheDir = filepath.Join(base, "meshcheck", "istio")
	}
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.GOARCH == "" {
		o.GOARCH = runtime.GOARCH
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if err := o.Timeouts.Validate(); err != nil {
		return o, fmt.Errorf("istiorelease: %w", err)
	}
	o.Timeouts = o.Timeouts.WithDefaults()
	if o.MaxExtractBytes <= 0 {
		o.MaxExtractBytes = DefaultMaxExtractBytes
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o, nil
}

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-(alpha|beta|rc)\.[0-9]+)?$`)

// CheckVersion accepts a release version as Istio tags it: X.Y.Z, or
// X.Y.Z-alpha.N, -beta.N, -rc.N; no leading "v".
func CheckVersion(version string) error {
	if !versionRE.MatchString(version) {
		return fmt.Errorf("istiorelease: %w: version %q: want X.Y.Z as Istio tags releases (e.g. 1.30.2, 1.31.0-rc.0), no leading v", ErrBadOption, version)
	}
	return nil
}

// platform is the OS and architecture part of Istio's artifact names.
func platform(goos, goarch string) (string, error) {
	switch goos + "/" + goarch {
	case "linux/amd64":
		return "linux-amd64", nil
	case "linux/arm64":
		return "linux-arm64", nil
	case "linux/arm":
		return "linux-armv7", nil
	case "darwin/amd64":
		return "osx", nil
	case "darwin/arm64":
		return "osx-arm64", nil
	}
	return "", fmt.Errorf("istiorelease: %w: no Istio release archive for %s/%s (linux/amd64, linux/arm64, linux/arm, darwin/amd64, darwin/arm64 have one)", ErrBadOption, goos, goarch)
}

// Artifacts are the file names of one release's archives for one platform.
type Artifacts struct {
	// Istioctl is istioctl alone, e.g. istioctl-1.30.2-linux-amd64.tar.gz.
	Istioctl string
	// Full is the whole release with samples and manifests, e.g.
	// istio-1.30.2-linux-amd64.tar.gz; it unpacks into istio-1.30.2/.
	Full string
}

// ArtifactNames returns the archive names of version for goos/goarch.
func ArtifactNames(version, goos, goarch string) (Artifacts, error) {
	if err := CheckVersion(version); err != nil {
		return Artifacts{}, err
	}
	p, err := platform(goos, goarch)
	if err != nil {
		return Artifacts{}, err
	}
	return Artifacts{
		Istioctl: fmt.Sprintf("istioctl-%s-%s.tar.gz", version, p),
		Full:     fmt.Sprintf("istio-%s-%s.tar.gz", version, p),
	}, nil
}

// URL is where an artifact of version is downloaded from under baseURL.
func URL(baseURL, version, artifact string) string {
	return strings.TrimRight(baseURL, "/") + "/" + version + "/" + artifact
}

// ChecksumError says which download did not match its .sha256.
type ChecksumError struct {
	URL      string // the archive's URL
	Expected string // from URL + ".sha256"
	Actual   string // of the bytes received
	Size     int64  // bytes received
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("istiorelease: %s: sha256 of the %d bytes received is %s, %s.sha256 says %s", e.URL, e.Size, e.Actual, e.URL, e.Expected)
}

// Unwrap makes errors.Is(err, ErrChecksum) true.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// StatusError is a non-200 answer.
type StatusError struct {
	URL    string
	Status string // e.g. "404 Not Found"
	Code   int
	Body   string // the first bytes of the body, for evidence
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("istiorelease: GET %s: %s", e.URL, e.Status)
	if e.Body != "" {
		msg += fmt.Sprintf(" (body: %q)", e.Body)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrNotFound) true for a 404.
func (e *StatusError) Unwrap() error {
	if e.Code == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// Archive makes sure the verified archive artifact of version is in the
// cache and returns its path; hit says no request was made.
func Archive(ctx context.Context, version, artifact string, opts Options) (path string, hit bool, err error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", false, err
	}
	if err := CheckVersion(version); err != nil {
		return "", false, err
	}
	if artifact == "" || artifact != filepath.Base(artifact) || strings.HasPrefix(artifact, ".") {
		return "", false, fmt.Errorf("istiorelease: %w: artifact %q is not a plain file name", ErrBadOption, artifact)
	}
	return archive(ctx, version, artifact, o)
}

func archive(ctx context.Context, version, artifact string, o Options) (string, bool, error) {
	dir := filepath.Join(o.CacheDir, version)
	path := filepath.Join(dir, artifact)
	sumPath := path + ".sha256"
	if ok, why := cached(path, sumPath, artifact); ok {
		o.Logf("istio %s: %s from the cache (%s)", version, artifact, path)
		return path, true, nil
	} else if why != "" {
		o.Logf("istio %s: cache entry %s not used: %s", version, path, why)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("istiorelease: cache directory: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, o.Timeouts.ReleaseDownload)
	defer cancel()
	url := URL(o.BaseURL, version, artifact)
	sumFile, err := fetchSmall(ctx, o.Client, url+".sha256")
	if err != nil {
		return "", false, err
	}
	want, err := ParseSHA256(sumFile, artifact)
	if err != nil {
		return "", false, fmt.Errorf("istiorelease: %s.sha256: %w", url, err)
	}

	o.Logf("istio %s: downloading %s", version, url)
	tmp, err := os.CreateTemp(dir, "."+artifact+".part-*")
	if err != nil {
		return "", false, fmt.Errorf("istiorelease: cache directory: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // a no-op once renamed
	}()
	got, n, err := download(ctx, o.Client, url, tmp)
	if err != nil {
		return "", false, err
	}
	if got != want {
		return "", false, &ChecksumError{URL: url, Expected: want, Actual: got, Size: n}
	}
	if err := tmp.Sync(); err != nil {
		return "", false, fmt.Errorf("istiorelease: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("istiorelease: writing %s: %w", tmp.Name(), err)
	}
	if err := writeFileAtomic(sumPath, []byte(want+"  "+artifact+"\n")); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", false, fmt.Errorf("istiorelease: caching %s: %w", artifact, err)
	}
	o.Logf("istio %s: %s verified (sha256 %s, %d bytes) and cached", version, artifact, want, n)
	return path, false, nil
}

// cached reports whether path holds a complete archive matching the checksum
// stored beside it; why says what was wrong with an entry that exists.
func cached(path, sumPath, artifact string) (ok bool, why string) {
	sum, err := os.ReadFile(sumPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, ""
	}
	if err != nil {
		return false, err.Error()
	}
	want, err := ParseSHA256(sum, artifact)
	if err != nil {
		return false, fmt.Sprintf("%s: %v", sumPath, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err.Error()
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return false, fmt.Sprintf("sha256 %s, stored checksum %s", got, want)
	}
	return true, ""
}

func get(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("istiorelease: %w: %v", ErrBadOption, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("istiorelease: GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, &StatusError{URL: url, Status: resp.Status, Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	return resp, nil
}

func fetchSmall(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	resp, err := get(ctx, c, url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxChecksumBytes+1))
	if err != nil {
		return nil, fmt.Errorf("istiorelease: GET %s: reading body: %w", url, err)
	}
	if len(b) > maxChecksumBytes {
		return nil, fmt.Errorf("istiorelease: %s: %w: longer than %d bytes", url, ErrBadChecksumFile, maxChecksumBytes)
	}
	return b, nil
}

// download copies url's body into w and returns its sha256 and length. A body
// shorter than its Content-Length, or a connection closed mid-body, is an
// error.
func download(ctx context.Context, c *http.Client, url string, w io.Writer) (string, int64, error) {
	resp, err := get(ctx, c, url)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), resp.Body)
	if err != nil {
		return "", n, fmt.Errorf("istiorelease: GET %s: body broke off after %d of %s bytes: %w", url, n, lengthText(resp.ContentLength), err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", n, fmt.Errorf("istiorelease: GET %s: got %d of %d bytes: %w", url, n, resp.ContentLength, io.ErrUnexpectedEOF)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func lengthText(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}

// writeFileAtomic writes b to a temporary file beside path and renames it.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return fmt.Errorf("istiorelease: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("istiorelease: writing %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("istiorelease: writing %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("istiorelease: %w", err)
	}
	return nil
}
