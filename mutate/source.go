package mutate

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// patchFS holds the control-plane mutations' unified diffs, each against
// the pinned istio.io/istio module (patches/<name>.diff).
//
//go:embed patches/*.diff
var patchFS embed.FS

// PatchDir is where the catalog's patch: paths are, in the repository.
const PatchDir = "mutate"

// Patch returns the diff a control-plane mutation names.
func Patch(m Mutation) ([]byte, error) {
	data, err := fs.ReadFile(patchFS, path.Clean(m.Patch))
	if err != nil {
		return nil, fmt.Errorf("mutation %s: patch %s/%s: %w", m.Name, PatchDir, m.Patch, err)
	}
	return data, nil
}

// PinnedIstio is the directory of the pinned istio.io/istio module in the
// Go module cache (downloaded when it is not there).
func PinnedIstio(ctx context.Context) (string, error) {
	mod := "istio.io/istio@" + istioinstall.PinnedIstioModule
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod).Output()
	if err != nil {
		return "", fmt.Errorf("the pinned Istio: go mod download %s: %w", mod, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("the pinned Istio: go mod download %s: %w", mod, err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("the pinned Istio: go mod download %s: %s", mod, m.Error)
	}
	return m.Dir, nil
}

// PatchedSource makes dst a fresh, writable copy of the Istio tree at src
// (the pinned module's directory) with m's patch applied: the checkout the
// embedded backend builds the mutated control plane from (ISTIO_SRC=dst).
func PatchedSource(m Mutation, src, dst string) error {
	diff, err := Patch(m)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("mutation %s: %w", m.Name, err)
	}
	if err := copyTree(src, dst); err != nil {
		return fmt.Errorf("mutation %s: copy %s: %w", m.Name, src, err)
	}
	if err := ApplyPatch(diff, path.Join(PatchDir, m.Patch), dst); err != nil {
		return fmt.Errorf("mutation %s: %w", m.Name, err)
	}
	return nil
}

// copyTree copies the regular files and folders under src to dst, owner
// writable (the module cache's are read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil // symlinks and the like: the module cache has none
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
