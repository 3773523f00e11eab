package istiorelease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Istioctl returns the path of istioctl from release version for the
// platform in opts, downloading, verifying and extracting it when the cache
// does not hold it yet.
func Istioctl(ctx context.Context, version string, opts Options) (string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", err
	}
	names, err := ArtifactNames(version, o.GOOS, o.GOARCH)
	if err != nil {
		return "", err
	}
	arc, hit, err := archive(ctx, version, names.Istioctl, o)
	if err != nil {
		return "", err
	}
	platDir := filepath.Join(o.CacheDir, version, o.GOOS+"-"+o.GOARCH)
	bin := filepath.Join(platDir, "bin", "istioctl")
	if hit && isRegular(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	tmp, err := os.MkdirTemp(platDir, ".istioctl-*")
	if err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := extractTarGz(arc, tmp, o.MaxExtractBytes); err != nil {
		return "", err
	}
	got := filepath.Join(tmp, "istioctl")
	if !isRegular(got) {
		return "", fmt.Errorf("istiorelease: %s: no regular file istioctl at the top of the archive", arc)
	}
	if err := os.Chmod(got, 0o755); err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	if err := os.Rename(got, bin); err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	o.Logf("istio %s: istioctl at %s", version, bin)
	return bin, nil
}

// Release returns the directory of the unpacked full release version
// (istio-X.Y.Z, holding samples/, manifests/ and bin/istioctl), downloading,
// verifying and extracting it when the cache does not hold it yet.
func Release(ctx context.Context, version string, opts Options) (string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return "", err
	}
	names, err := ArtifactNames(version, o.GOOS, o.GOARCH)
	if err != nil {
		return "", err
	}
	arc, hit, err := archive(ctx, version, names.Full, o)
	if err != nil {
		return "", err
	}
	top := "istio-" + version
	platDir := filepath.Join(o.CacheDir, version, o.GOOS+"-"+o.GOARCH)
	dir := filepath.Join(platDir, top)
	if hit && isDir(filepath.Join(dir, "samples")) {
		return dir, nil
	}
	if err := os.MkdirAll(platDir, 0o755); err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	tmp, err := os.MkdirTemp(platDir, ".release-*")
	if err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := extractTarGz(arc, tmp, o.MaxExtractBytes); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	if len(entries) != 1 || entries[0].Name() != top || !entries[0].IsDir() {
		var seen []string
		for _, e := range entries {
			seen = append(seen, e.Name())
		}
		return "", fmt.Errorf("istiorelease: %s: want one top directory %s/, found %q", arc, top, seen)
	}
	if !isDir(filepath.Join(tmp, top, "samples")) {
		return "", fmt.Errorf("istiorelease: %s: %s/samples is missing", arc, top)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("istiorelease: replacing %s: %w", dir, err)
	}
	if err := os.Rename(filepath.Join(tmp, top), dir); err != nil {
		return "", fmt.Errorf("istiorelease: %w", err)
	}
	o.Logf("istio %s: release unpacked at %s", version, dir)
	return dir, nil
}

func isRegular(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}
