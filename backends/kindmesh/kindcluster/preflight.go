package kindcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// DefaultDockerHost is where the Docker daemon listens unless DOCKER_HOST
// says otherwise.
const DefaultDockerHost = "unix:///var/run/docker.sock"

// Sentinel errors of Preflight, matched with errors.Is.
var (
	// ErrNoDocker: no Docker daemon answered.
	ErrNoDocker = errors.New("no Docker daemon")
	// ErrNoRelease: the release download did not answer, or has no such
	// release.
	ErrNoRelease = errors.New("release download not reachable")
)

// PreflightOptions say what a kind run needs before it starts.
type PreflightOptions struct {
	// DockerHost is the daemon's address: unix:///path or tcp://host:port
	// (default DefaultDockerHost; pass $DOCKER_HOST when it is set).
	DockerHost string
	// ReleaseURL is an artifact of the Istio release under test (e.g. the
	// istioctl archive's URL); a HEAD request must succeed. Empty skips
	// the check (an air-gapped run brings its own istioctl).
	ReleaseURL string
	// Client does the HEAD request (default: a plain client).
	Client *http.Client
	// Timeouts.Preflight bounds each probe.
	Timeouts timeouts.Timeouts
}

// Preflight checks the Docker daemon, then the release download, and returns
// the first failure: its message names what is missing and what to do.
func Preflight(ctx context.Context, opts PreflightOptions) error {
	if err := opts.Timeouts.Validate(); err != nil {
		return fmt.Errorf("kindcluster: %w", err)
	}
	t := opts.Timeouts.WithDefaults()
	host := opts.DockerHost
	if host == "" {
		host = DefaultDockerHost
	}
	if err := PingDocker(ctx, host, t.Preflight); err != nil {
		return err
	}
	if opts.ReleaseURL == "" {
		return nil
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{}
	}
	return HeadRelease(ctx, c, opts.ReleaseURL, t.Preflight)
}

// PingDocker asks the daemon at host (unix:// or tcp://) for /_ping.
func PingDocker(ctx context.Context, host string, timeout time.Duration) error {
	fail := func(err error) error {
		return fmt.Errorf("%w at %s: %w: start dockerd (or set DOCKER_HOST) or use make e2e-local", ErrNoDocker, host, err)
	}
	u, err := url.Parse(host)
	if err != nil {
		return fail(err)
	}
	var dial func(ctx context.Context, _, _ string) (net.Conn, error)
	switch u.Scheme {
	case "unix":
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", u.Path)
		}
	case "tcp":
		dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", u.Host)
		}
	default:
		return fail(fmt.Errorf("scheme %q: want unix:// or tcp://", u.Scheme))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return fail(err)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
		return fail(fmt.Errorf("GET /_ping answered %s %q, not 200 OK", resp.Status, body))
	}
	return nil
}

// HeadRelease sends HEAD to the release artifact url, following redirects.
func HeadRelease(ctx context.Context, c *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrNoRelease, url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%w: cannot reach %s: %w: set MESHCHECK_ISTIO_MIRROR to a mirror of the release downloads, or use make e2e-airgap", ErrNoRelease, url, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s: 404 Not Found: no such Istio release there; check ISTIO_VERSION (or the mirror's contents)", ErrNoRelease, url)
	case resp.StatusCode >= 400:
		return fmt.Errorf("%w: HEAD %s: %s: set MESHCHECK_ISTIO_MIRROR to a mirror of the release downloads, or use make e2e-airgap", ErrNoRelease, url, resp.Status)
	}
	return nil
}
